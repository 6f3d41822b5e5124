// The parts of the training runtime that both workloads share: batch shares
// and the summary file.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "orchestrator/config/shares.h"
#include "orchestrator/train/trainer.h"

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
    return config::split_batch(global_batch, ranks, job.resources.shares);
  }
  std::int32_t mine = options.batch_share.value_or(-1);
  std::vector<std::int32_t> given(static_cast<std::size_t>(ranks));
  comm.all_gather(&mine, given.data(), 1, DType::kI32);
  const bool any = std::any_of(given.begin(), given.end(), [](int s) { return s != -1; });
  if (!any)
    return config::split_batch(global_batch, ranks, {});
  std::vector<int> shares(given.begin(), given.end());
  config::check_given_shares(shares, global_batch);
  return shares;
}

void write_summary(const std::filesystem::path& path, const std::string& job, int ranks,
                   int global_batch, const TrainSummary& s) {
  // JSON has no NaN or infinity: a non-finite figure (a skipped step's loss) is null.
  auto number = [](double value) {
    if (!std::isfinite(value))
      return std::string("null");
    char text[32];
    std::snprintf(text, sizeof(text), "%.10g", value);
    return std::string(text);
  };
  std::ostringstream json;
  json << "{\n  \"job\": \"" << job << "\",\n  \"ranks\": " << ranks
       << ",\n  \"global_batch\": " << global_batch << ",\n  \"steps\": " << s.steps
       << ",\n  \"resumed_from_step\": " << s.resumed_from_step
       << ",\n  \"test_accuracy\": " << number(s.test_accuracy)
       << ",\n  \"final_loss\": " << number(s.final_loss)
       << ",\n  \"samples_per_second\": " << number(s.samples_per_second)
       << ",\n  \"compute_seconds\": " << number(s.compute_seconds)
       << ",\n  \"exposed_communication_seconds\": " << number(s.exposed_communication_seconds)
       << ",\n  \"communication_seconds\": " << number(s.communication_seconds)
       << ",\n  \"wall_seconds\": " << number(s.wall_seconds)
       << ",\n  \"skipped_steps\": " << s.skipped_steps << ",\n  \"checkpoints\": " << s.checkpoints
       << ",\n  \"stopped\": " << (s.stopped ? "true" : "false") << "\n}\n";
  write_file_atomically(path.string(), json.str());
}

}  // namespace dojo::train
