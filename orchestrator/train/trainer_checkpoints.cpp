// Resuming from and saving checkpoints, and deciding how often (Young-Daly).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>

#include "common/error.h"
#include "orchestrator/reliability/young_daly.h"
#include "orchestrator/train/trainer_internal.h"

namespace dojo::train::detail {

using collectives::DType;
using collectives::ReduceOp;

void Trainer::restore() {
  // Rank 0 reads (nodes need not share a filesystem) and broadcasts the
  // file's bytes as they are; the others check them as rank 0 did.
  std::vector<unsigned char> bytes;
  std::optional<TrainState> read;
  if (leader_) {
    read = store_->load_newest(
        [&](const std::filesystem::path&, const std::string& why) {
          log_ << "dojo: skipping checkpoint " << why << std::endl;
        },
        &bytes);
  }
  std::int64_t size = static_cast<std::int64_t>(bytes.size());
  comm_.control_broadcast(&size, 1, DType::kI64, 0);
  if (size == 0)
    return;
  std::vector<std::int64_t> words(static_cast<std::size_t>((size + 7) / 8));
  if (leader_)
    std::memcpy(words.data(), bytes.data(), bytes.size());
  comm_.control_broadcast(words.data(), words.size(), DType::kI64, 0);
  if (!leader_) {
    bytes.assign(reinterpret_cast<unsigned char*>(words.data()),
                 reinterpret_cast<unsigned char*>(words.data()) + size);
    read = deserialize(bytes, "broadcast checkpoint");
  }
  const TrainState& loaded = *read;

  if (loaded.job != job_.name || loaded.seed != config_.seed) {
    throw Error("the newest checkpoint is of job \"" + loaded.job + "\" with seed " +
                std::to_string(loaded.seed) + ", not of this job (\"" + job_.name + "\", seed " +
                std::to_string(config_.seed) + ")");
  }
  workload_->restore(loaded);
  state_.step = loaded.step;
  state_.epoch = loaded.epoch;
  state_.position = loaded.position;
  state_.skipped_steps = loaded.skipped_steps;
  last_checkpoint_step_ = loaded.step;
  summary_.resumed_from_step = loaded.step;
  say("resumed from the checkpoint of step " + std::to_string(loaded.step));
}

void Trainer::maybe_checkpoint(bool force) {
  const bool due =
      checkpoint_every_ > 0 && state_.step - last_checkpoint_step_ >= checkpoint_every_;
  if ((!force && !due) || state_.step == last_checkpoint_step_)
    return;
  const auto start = Clock::now();
  if (leader_) {
    workload_->save(state_);
    store_->save(state_);
    state_.model.clear();
    state_.optimizer.clear();
  }
  // Every rank waits for the save, so a rank never runs ahead of a checkpoint
  // that a failure right now would need.
  if (heartbeat_)
    heartbeat_->in_collective("barrier", comm_.sequence());
  comm_.barrier();
  if (heartbeat_)
    heartbeat_->in_collective("", comm_.sequence());
  const double seconds = seconds_since(start);
  last_checkpoint_step_ = state_.step;
  ++summary_.checkpoints;
  beat_.checkpoint_seconds += seconds;  // for the launcher's goodput accounting
  if (metrics_)
    metrics_->checkpoint(seconds);
  if (checkpoint_every_ == 0 && job_.checkpoint.automatic)
    choose_checkpoint_interval(seconds * options_.clock_skew);
}

// Young-Daly: sqrt(2 x save time x job MTBF), in steps of the measured step
// time. Each rank measured its own step and save time, and the interval
// selects a collective (the checkpoint barrier), so every rank must take the
// same one: all agree on the slowest rank's figures first.
void Trainer::choose_checkpoint_interval(double save_seconds) {
  // A run that saves before the measuring steps are over (a short one,
  // saving at its end) takes the mean of the steps it ran.
  if (step_seconds_estimate_ <= 0 && steps_this_attempt_ > 0) {
    step_seconds_estimate_ =
        step_seconds_total_ * options_.clock_skew / static_cast<double>(steps_this_attempt_);
  }
  double measured[2] = {step_seconds_estimate_, save_seconds};
  comm_.control_all_reduce(measured, 2, DType::kF64, ReduceOp::kMax);
  step_seconds_estimate_ = measured[0];
  const double save =
      job_.checkpoint.save_time_s > 0 ? job_.checkpoint.save_time_s : std::max(measured[1], 1e-3);
  const double device_mtbf =
      job_.cluster ? job_.cluster->device_mtbf_hours : config::kDefaultDeviceMtbfHours;
  const double mtbf = reliability::job_mtbf_seconds(device_mtbf, comm_.size());
  const double interval = reliability::young_daly_interval_seconds(save, mtbf);
  checkpoint_every_ =
      std::max<std::int64_t>(1, std::llround(interval / std::max(step_seconds_estimate_, 1e-6)));
  char line[256];
  std::snprintf(line, sizeof(line),
                "checkpoints every %lld steps (Young-Daly: sqrt(2 x %.3f s save x %.3g s job "
                "MTBF) = %.3g s at %.4g s a step)",
                static_cast<long long>(checkpoint_every_), save, mtbf, interval,
                step_seconds_estimate_);
  say(line);
}

}  // namespace dojo::train::detail
