#pragma once
// The one training loop on one rank, with the workload as the part that
// varies (workload.h). Internal to orchestrator/train: trainer.cpp holds the
// loop, trainer_checkpoints.cpp resume and saves; not part of the API.

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
#include "orchestrator/train/flight_responder.h"
#include "orchestrator/train/job_metrics.h"
#include "orchestrator/train/trainer.h"
#include "orchestrator/train/workload.h"

namespace dojo::train::detail {

using Clock = std::chrono::steady_clock;
using collectives::Communicator;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Per-step facts every rank contributes; all-gathered so every rank agrees
/// (on the loss, on stopping) and rank 0 sees the stragglers.
struct StepReport {
  double loss_sum = 0;
  double correct = 0;
  double stop = 0;
  double compute_seconds = 0;
};

/// What the all-gathered reports of one step say, the same on every rank.
struct StepFigures {
  double loss = 0;             ///< mean over the global batch
  double accuracy = 0;         ///< of the global batch
  bool stop = false;           ///< some rank was asked to stop
  double compute_seconds = 0;  ///< this rank's
  int slowest_rank = 0;
  double straggler_ratio = 1;  ///< slowest compute over the mean
};

class Trainer {
 public:
  Trainer(const config::JobConfig& job, Communicator& comm, const WorkerOptions& options,
          std::ostream& log);

  TrainSummary run();

 private:
  // trainer.cpp: the loop.
  void start();
  void open_loss_log();
  StepFigures step();
  StepFigures agree(const std::vector<StepReport>& reports, double compute_seconds) const;
  void update(double loss);
  void record(const StepFigures& figures, double step_seconds);
  void send_heartbeat(const StepFigures& figures, double step_seconds);
  bool end_of_epoch();
  void report_progress(const StepFigures& figures, bool epoch_done, bool last);
  void evaluate(bool epoch_done);
  void finish(Clock::time_point wall_start);
  void say(const std::string& line) {
    if (leader_)
      log_ << line << std::endl;
  }

  // trainer_checkpoints.cpp: resume, saves, the Young-Daly interval.
  void restore();
  void maybe_checkpoint(bool force);
  void choose_checkpoint_interval(double save_seconds);

  const config::JobConfig& job_;
  const config::WorkloadConfig& config_;
  Communicator& comm_;
  const WorkerOptions& options_;
  std::ostream& log_;
  const bool leader_;

  std::vector<int> shares_;
  int share_ = 0;   ///< this rank's samples a step
  int offset_ = 0;  ///< this rank's first sample within each global batch
  std::unique_ptr<Workload> workload_;
  std::unique_ptr<collectives::Bucketer> bucketer_;
  std::unique_ptr<CheckpointStore> store_;
  std::unique_ptr<JobMetrics> metrics_;
  std::unique_ptr<metrics::Exporter> exporter_;
  std::FILE* loss_log_ = nullptr;  ///< rank 0: step,loss per line (the loss curve)
  std::unique_ptr<heartbeat::Pulse> heartbeat_;
  std::unique_ptr<FlightResponder> flight_;  ///< answers the launcher's SIGUSR2
  heartbeat::Heartbeat beat_;                ///< what this rank last told the launcher

  std::int64_t total_steps_ = 0;
  TrainState state_;
  std::int64_t steps_this_attempt_ = 0;
  std::int64_t checkpoint_every_ = 0;  ///< steps; 0 until decided
  std::int64_t last_checkpoint_step_ = 0;
  Clock::time_point loop_start_;
  double step_seconds_estimate_ = 0;  ///< agreed by all ranks before it decides anything
  double step_seconds_total_ = 0;     ///< training steps only: no evaluation, no checkpoints
  Clock::time_point recent_start_;    ///< of the window the progress rate is taken over
  std::int64_t recent_start_step_ = 0;
  TrainSummary summary_;
};

}  // namespace dojo::train::detail
