#pragma once
// SGD with momentum and AdamW, with warm-up and cosine decay of the learning rate.

#include <cstdint>
#include <span>
#include <vector>

#include "orchestrator/config/job.h"

namespace dojo::train {

class Optimizer {
 public:
  /// `counts`: elements of each parameter tensor; `total_steps` sets the cosine decay length.
  Optimizer(const config::OptimizerConfig& config, std::vector<std::size_t> counts,
            std::int64_t total_steps);

  /// The learning rate of step `step` (0-based): linear warm-up to the peak
  /// over warmup_steps, then constant or cosine decay to 0 at total_steps.
  double learning_rate(std::int64_t step) const;

  /// Updates `params` with the averaged gradients `grads` (one span per
  /// tensor) multiplied by `grad_scale` (the clipping factor).
  void step(std::vector<std::vector<float>>& params,
            const std::vector<std::span<const float>>& grads, float grad_scale);

  /// Steps taken so far (AdamW's bias correction needs it).
  std::int64_t steps() const { return steps_; }
  /// Momentum (SGD) or first and second moments (AdamW), for checkpoints.
  std::vector<std::vector<float>>& state() { return state_; }
  const std::vector<std::vector<float>>& state() const { return state_; }
  void set_steps(std::int64_t steps) { steps_ = steps; }

 private:
  config::OptimizerConfig config_;
  std::int64_t total_steps_;
  std::int64_t steps_ = 0;
  std::vector<std::vector<float>> state_;
};

/// The learning rate of step `step` (0-based) under `config` for a run of
/// `total_steps`: linear warm-up to the peak over warmup_steps, then constant
/// or cosine decay to 0 at total_steps. Shared by the CPU and GPU optimizers.
double learning_rate(const config::OptimizerConfig& config, std::int64_t step,
                     std::int64_t total_steps);

/// The L2 norm of all gradients together, accumulated in double.
double global_norm(const std::vector<std::span<const float>>& grads);

}  // namespace dojo::train
