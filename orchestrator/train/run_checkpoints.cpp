// Resuming from and saving checkpoints, and deciding how often (Young-Daly).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "orchestrator/reliability/young_daly.h"
#include "orchestrator/train/run.h"

namespace dojo::train::detail {

using collectives::DType;

void Run::restore(CheckpointStore& store) {
  // Rank 0 reads (nodes need not share a filesystem) and broadcasts.
  std::vector<unsigned char> bytes;
  if (leader_) {
    auto loaded = store.load_newest([&](const std::filesystem::path&, const std::string& why) {
      log_ << "dojo: skipping checkpoint " << why << std::endl;
    });
    if (loaded)
      bytes = serialize(*loaded);
  }
  std::int64_t size = static_cast<std::int64_t>(bytes.size());
  comm_.broadcast(&size, 1, DType::kI64, 0);
  if (size == 0)
    return;
  std::vector<std::int64_t> words(static_cast<std::size_t>((size + 7) / 8));
  if (leader_)
    std::memcpy(words.data(), bytes.data(), bytes.size());
  comm_.broadcast(words.data(), words.size(), DType::kI64, 0);
  bytes.assign(reinterpret_cast<unsigned char*>(words.data()),
               reinterpret_cast<unsigned char*>(words.data()) + size);
  TrainState loaded = deserialize(bytes, "broadcast checkpoint");

  if (loaded.job != job_.name || loaded.seed != workload_.seed) {
    throw Error("the newest checkpoint is of job \"" + loaded.job + "\" with seed " +
                std::to_string(loaded.seed) + ", not of this job (\"" + job_.name + "\", seed " +
                std::to_string(workload_.seed) + ")");
  }
  const std::vector<std::size_t> counts = engine_->parameter_counts();
  if (loaded.model.size() != counts.size() ||
      loaded.optimizer.size() != engine_->optimizer_state().size()) {
    throw Error("the newest checkpoint holds a different model (tensor count differs)");
  }
  for (std::size_t t = 0; t < loaded.model.size(); ++t) {
    if (loaded.model[t].size() != counts[t]) {
      throw Error("the newest checkpoint holds a different model (tensor " + std::to_string(t) +
                  " has " + std::to_string(loaded.model[t].size()) + " elements, not " +
                  std::to_string(counts[t]) + ")");
    }
  }
  engine_->set_parameters(loaded.model);
  engine_->set_optimizer_state(loaded.optimizer, loaded.optimizer_steps);
  state_.step = loaded.step;
  state_.epoch = loaded.epoch;
  state_.position = loaded.position;
  state_.skipped_steps = loaded.skipped_steps;
  last_checkpoint_step_ = loaded.step;
  summary_.resumed_from_step = loaded.step;
  say("resumed from the checkpoint of step " + std::to_string(loaded.step));
}

void Run::maybe_checkpoint(CheckpointStore& store, bool force) {
  const bool due =
      checkpoint_every_ > 0 && state_.step - last_checkpoint_step_ >= checkpoint_every_;
  if (!force && !due)
    return;
  if (state_.step == last_checkpoint_step_)
    return;
  const auto start = Clock::now();
  if (leader_) {
    state_.model = engine_->parameters();
    state_.optimizer = engine_->optimizer_state();
    state_.optimizer_steps = engine_->optimizer_steps();
    store.save(state_);
    state_.model.clear();
    state_.optimizer.clear();
  }
  // Every rank waits for the save, so a rank never runs ahead of a checkpoint
  // that a failure right now would need.
  comm_.barrier();
  const double seconds = seconds_since(start);
  last_checkpoint_step_ = state_.step;
  ++summary_.checkpoints;
  if (metrics_)
    metrics_->checkpoint(seconds);

  if (checkpoint_every_ == 0 && job_.checkpoint.automatic) {
    // Young-Daly: sqrt(2 x save time x job MTBF), in steps of the measured step time.
    const double save =
        job_.checkpoint.save_time_s > 0 ? job_.checkpoint.save_time_s : std::max(seconds, 1e-3);
    const double device_mtbf =
        job_.cluster ? job_.cluster->device_mtbf_hours : config::kDefaultDeviceMtbfHours;
    const double mtbf = reliability::job_mtbf_seconds(device_mtbf, comm_.size());
    const double interval = reliability::young_daly_interval_seconds(save, mtbf);
    checkpoint_every_ =
        std::max<std::int64_t>(1, std::llround(interval / std::max(step_seconds_estimate_, 1e-6)));
    char line[256];
    std::snprintf(line, sizeof(line),
                  "checkpoints every %lld steps (Young-Daly: sqrt(2 x %.3f s save x %.3g s job "
                  "MTBF) = %.3g s at %.4f s a step)",
                  static_cast<long long>(checkpoint_every_), save, mtbf, interval,
                  step_seconds_estimate_);
    say(line);
  }
}

}  // namespace dojo::train::detail
