#pragma once
// What a training job computes, as the one training loop (trainer.cpp) sees
// it. The loop owns everything else: batch shares, the bucketer, metrics,
// heartbeats, stop agreement, non-finite steps, checkpoints, fault points,
// progress lines and the summary. Internal to orchestrator/train.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "collectives/bucketer.h"
#include "collectives/communicator.h"
#include "orchestrator/config/job.h"
#include "orchestrator/train/checkpoint.h"

namespace dojo::train::detail {

/// What the loop knows when it announces the run.
struct StartFacts {
  int ranks = 1;
  std::string backend;
  int global_batch = 0;
  int share = 0;  ///< this rank's samples a step
  std::int64_t total_steps = 0;
  std::size_t buckets = 0;
};

/// One progress line's figures (rank 0).
struct Progress {
  std::int64_t epoch = 0;  ///< 1-based, for people
  int epochs = 0;
  std::int64_t step = 0;
  std::int64_t total_steps = 0;
  double loss = 0;
  double accuracy = 0;
  double samples_per_second = 0;
  double compute_seconds = 0;
  double exposed_seconds = 0;
  double eta_seconds = 0;
};

struct ForwardResult {
  double loss_sum = 0;  ///< this rank's samples' summed loss
  double correct = 0;   ///< this rank's samples predicted right
};

class Workload {
 public:
  virtual ~Workload() = default;

  /// The model label of the job's metrics ("mlp", "synthetic").
  virtual std::string model_label() const = 0;
  /// Whether steps have a loss (a loss curve, non-finite checks).
  virtual bool has_loss() const = 0;
  virtual std::vector<std::size_t> parameter_counts() const = 0;
  virtual std::int64_t steps_per_epoch() const = 0;
  virtual std::int64_t total_steps() const = 0;
  /// How often rank 0 prints a progress line, in steps.
  virtual std::int64_t progress_every() const = 0;
  virtual std::string start_line(const StartFacts& facts) const = 0;
  virtual std::string progress_line(const Progress& progress) const = 0;

  /// Sets up the epoch's sample order (a pure function of seed and epoch).
  virtual void begin_epoch(std::int64_t epoch) = 0;
  /// Forward over this rank's `share` samples starting at `first` of the epoch.
  virtual ForwardResult forward(std::int64_t first, int share) = 0;
  /// Backward: each gradient goes into the bucketer as soon as it exists.
  virtual void backward(collectives::Bucketer& bucketer) = 0;
  /// The L2 norm of the averaged gradients (0 when the workload has no loss).
  virtual double gradient_norm(const std::vector<std::span<const float>>& grads) = 0;
  /// One optimizer step with the gradients scaled by `clip`.
  virtual void apply(const std::vector<std::span<const float>>& grads, float clip) = 0;
  /// Test-set accuracy (collective); nullopt when there is no test set.
  virtual std::optional<double> evaluate() = 0;

  /// Puts the model and optimizer state into a checkpoint.
  virtual void save(TrainState& state) const = 0;
  /// Takes them back; throws dojo::Error when the checkpoint holds another model.
  virtual void restore(const TrainState& state) = 0;
};

/// The MLP on Fashion-MNIST (CPU engine or GPU engine).
std::unique_ptr<Workload> make_mlp_workload(const config::JobConfig& job,
                                            collectives::Communicator& comm);

/// Model-shaped gradients and real GEMM compute (OpenBLAS) of a set FLOP
/// count per sample, for communication and scaling benchmarks without a dataset.
std::unique_ptr<Workload> make_synthetic_workload(const config::JobConfig& job,
                                                  collectives::Communicator& comm, int share);

}  // namespace dojo::train::detail
