#pragma once
// One MLP training run on one rank: the state `train()` keeps between steps.
// Internal to orchestrator/train (shared by trainer.cpp, the step loop, and
// run_checkpoints.cpp, resume and saves); not part of the component's API.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "collectives/bucketer.h"
#include "collectives/communicator.h"
#include "orchestrator/config/job.h"
#include "orchestrator/heartbeat/heartbeat.h"
#include "orchestrator/metrics/exporter.h"
#include "orchestrator/train/checkpoint.h"
#include "orchestrator/train/engine.h"
#include "orchestrator/train/fashion_mnist.h"
#include "orchestrator/train/job_metrics.h"
#include "orchestrator/train/trainer.h"

namespace dojo::train::detail {

using Clock = std::chrono::steady_clock;
using collectives::Communicator;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Per-step facts every rank contributes; all-gathered so every rank agrees.
struct StepReport {
  double loss_sum = 0;
  double correct = 0;
  double stop = 0;
  double compute_seconds = 0;
};

class Run {
 public:
  Run(const config::JobConfig& job, Communicator& comm, const WorkerOptions& options,
      std::ostream& log)
      : job_(job),
        workload_(*job.workload),
        comm_(comm),
        options_(options),
        log_(log),
        leader_(comm.rank() == 0) {}

  TrainSummary run();

 private:
  void load_data();
  void plan();
  void restore(CheckpointStore& store);
  void maybe_checkpoint(CheckpointStore& store, bool force);
  double evaluate();
  void write_summary(const TrainSummary& summary);
  void say(const std::string& line) {
    if (leader_)
      log_ << line << std::endl;
  }

  const config::JobConfig& job_;
  const config::WorkloadConfig& workload_;
  Communicator& comm_;
  const WorkerOptions& options_;
  std::ostream& log_;
  const bool leader_;

  Dataset train_;
  Dataset test_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<collectives::Bucketer> bucketer_;
  std::unique_ptr<JobMetrics> metrics_;
  std::unique_ptr<metrics::Exporter> exporter_;
  std::FILE* loss_log_ = nullptr;  // rank 0: step,loss per line (the loss curve)
  std::unique_ptr<heartbeat::Pulse> heartbeat_;

  int global_batch_ = 0;
  std::vector<int> shares_;
  int offset_ = 0;  // this rank's first sample within each global batch
  std::int64_t steps_per_epoch_ = 0;
  std::int64_t total_steps_ = 0;

  TrainState state_;
  std::int64_t checkpoint_every_ = 0;  // steps; 0 until decided
  std::int64_t last_checkpoint_step_ = 0;
  double step_seconds_estimate_ = 0;
  double step_seconds_total_ = 0;  // training steps only: no evaluation, no checkpoints
  TrainSummary summary_;
};

}  // namespace dojo::train::detail
