#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/batch_shares.h"
#include "common/error.h"
#include "orchestrator/train/train_support.h"

namespace dojo::train {

using collectives::DType;

// How the global batch is split: explicit shares in the job, else the
// launcher's DOJO_BATCH_SHARE (all ranks must have one), else even.
std::vector<int> batch_shares(const config::JobConfig& job, collectives::Communicator& comm,
                              const WorkerOptions& options, int global_batch) {
  const int ranks = comm.size();
  if (!job.resources.shares.empty()) {
    if (static_cast<int>(job.resources.shares.size()) != ranks) {
      throw Error("resources.shares has " + std::to_string(job.resources.shares.size()) +
                  " entries but the job runs on " + std::to_string(ranks) + " ranks");
    }
    return split_batch(global_batch, ranks, job.resources.shares);
  }
  std::int32_t mine = options.batch_share.value_or(-1);
  std::vector<std::int32_t> given(static_cast<std::size_t>(ranks));
  comm.control_all_gather(&mine, given.data(), 1, DType::kI32);
  const bool any = std::any_of(given.begin(), given.end(), [](int s) { return s != -1; });
  if (!any)
    return split_batch(global_batch, ranks, {});
  std::vector<int> shares(given.begin(), given.end());
  check_given_shares(shares, global_batch);
  return shares;
}

void write_summary(const std::filesystem::path& path, const std::string& job, int ranks,
                   int global_batch, const TrainSummary& s) {
  // JSON has no NaN or infinity: a non-finite figure (a skipped step's loss) is null.
  auto number = [](double value) {
    return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json();
  };
  const nlohmann::ordered_json summary = {
      {"job", job},
      {"ranks", ranks},
      {"global_batch", global_batch},
      {"steps", s.steps},
      {"resumed_from_step", s.resumed_from_step},
      {"test_accuracy", number(s.test_accuracy)},
      {"final_loss", number(s.final_loss)},
      {"samples_per_second", number(s.samples_per_second)},
      {"compute_seconds", number(s.compute_seconds)},
      {"exposed_communication_seconds", number(s.exposed_communication_seconds)},
      {"communication_seconds", number(s.communication_seconds)},
      {"wall_seconds", number(s.wall_seconds)},
      {"skipped_steps", s.skipped_steps},
      {"checkpoints", s.checkpoints},
      {"stopped", s.stopped}};
  write_file_atomically(path.string(), summary.dump(2) + "\n");
}

}  // namespace dojo::train
