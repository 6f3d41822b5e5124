#pragma once
// One rank of a data-parallel training job.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "collectives/communicator.h"
#include "orchestrator/config/job.h"

namespace dojo::train {

struct WorkerOptions {
  std::filesystem::path run_dir;
  /// This rank's samples per global batch, from the launcher (DOJO_BATCH_SHARE).
  std::optional<int> batch_share;
  /// Stop, as if signalled, once this many steps have run in this attempt.
  std::optional<std::int64_t> stop_after_steps;
  /// Set by a signal handler: save a checkpoint and stop at the next step.
  const std::atomic<bool>* stop_requested = nullptr;
  /// Where to send heartbeats (DOJO_HEARTBEAT_ADDR, host:port); empty: none.
  std::string heartbeat_address;
  /// Which attempt of the job this is (DOJO_ATTEMPT), reported in heartbeats.
  int attempt = 0;
  /// Fault injection for tests (DOJO_FAULT_EXIT_AT_STEP, DOJO_FAULT_RANK,
  /// DOJO_FAULT_ATTEMPTS): this rank exits with code 17 right after this step.
  std::optional<std::int64_t> fault_exit_at_step;
  /// Fault injection for tests (DOJO_FAULT_CLOCK_SKEW): this rank's measured
  /// durations are multiplied by this factor, as if its clock ran fast, so
  /// tests can check that ranks agree on every decision taken from a clock.
  double clock_skew = 1.0;
};

struct TrainSummary {
  bool stopped = false;  ///< stopped on request before the end (checkpoint saved)
  std::int64_t steps = 0;
  std::int64_t resumed_from_step = -1;
  double test_accuracy = 0;
  double final_loss = 0;
  double samples_per_second = 0;
  double compute_seconds = 0;
  double exposed_communication_seconds = 0;
  double communication_seconds = 0;
  double wall_seconds = 0;
  std::int64_t skipped_steps = 0;
  int checkpoints = 0;
};

/// Trains `job` on this rank of `comm`. Rank 0 prints progress to `log`,
/// serves metrics, writes checkpoints and `summary.json` in the run
/// directory. Throws dojo::Error for bad input (dataset, shares) or a
/// non-finite step under the error policy.
TrainSummary train(const config::JobConfig& job, collectives::Communicator& comm,
                   const WorkerOptions& options, std::ostream& log);

}  // namespace dojo::train
