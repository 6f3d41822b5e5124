#include "orchestrator/train/optimizer.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace dojo::train {

Optimizer::Optimizer(const config::OptimizerConfig& config, std::vector<std::size_t> counts,
                     std::int64_t total_steps)
    : config_(config), total_steps_(std::max<std::int64_t>(total_steps, 1)) {
  const int copies = config_.type == config::OptimizerType::kAdamW ? 2 : 1;
  for (int c = 0; c < copies; ++c) {
    for (std::size_t n : counts)
      state_.emplace_back(n, 0.0f);
  }
}

double Optimizer::learning_rate(std::int64_t step) const {
  return train::learning_rate(config_, step, total_steps_);
}

double learning_rate(const config::OptimizerConfig& config, std::int64_t step,
                     std::int64_t total_steps) {
  const double peak = config.learning_rate;
  const std::int64_t warmup = config.warmup_steps;
  if (step < warmup)
    return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (config.schedule == config::LrSchedule::kConstant)
    return peak;
  const double span = static_cast<double>(std::max<std::int64_t>(total_steps - warmup, 1));
  const double progress = std::min(1.0, static_cast<double>(step - warmup) / span);
  return peak * 0.5 * (1.0 + std::cos(M_PI * progress));
}

void Optimizer::step(std::vector<std::vector<float>>& params,
                     const std::vector<std::span<const float>>& grads, float grad_scale) {
  if (grads.size() != params.size())
    throw Error("optimizer: gradient and parameter counts differ");
  const float lr = static_cast<float>(learning_rate(steps_));
  const float decay = static_cast<float>(config_.weight_decay);
  ++steps_;
  if (config_.type == config::OptimizerType::kSgd) {
    // PyTorch's SGD: v = momentum * v + (g + decay * w); w -= lr * v.
    const float momentum = static_cast<float>(config_.momentum);
    for (std::size_t t = 0; t < params.size(); ++t) {
      float* w = params[t].data();
      float* v = state_[t].data();
      const float* g = grads[t].data();
      for (std::size_t i = 0; i < params[t].size(); ++i) {
        const float d = g[i] * grad_scale + decay * w[i];
        v[i] = momentum * v[i] + d;
        w[i] -= lr * v[i];
      }
    }
    return;
  }
  // AdamW: decoupled weight decay (Loshchilov and Hutter).
  const double b1 = config_.beta1;
  const double b2 = config_.beta2;
  const float correction1 = static_cast<float>(1.0 - std::pow(b1, static_cast<double>(steps_)));
  const float correction2 = static_cast<float>(1.0 - std::pow(b2, static_cast<double>(steps_)));
  const float beta1 = static_cast<float>(b1);
  const float beta2 = static_cast<float>(b2);
  const float eps = static_cast<float>(config_.epsilon);
  const std::size_t tensors = params.size();
  for (std::size_t t = 0; t < tensors; ++t) {
    float* w = params[t].data();
    float* m = state_[t].data();
    float* v = state_[tensors + t].data();
    const float* g = grads[t].data();
    for (std::size_t i = 0; i < params[t].size(); ++i) {
      const float gi = g[i] * grad_scale;
      m[i] = beta1 * m[i] + (1.0f - beta1) * gi;
      v[i] = beta2 * v[i] + (1.0f - beta2) * gi * gi;
      const float m_hat = m[i] / correction1;
      const float v_hat = v[i] / correction2;
      w[i] -= lr * (m_hat / (std::sqrt(v_hat) + eps) + decay * w[i]);
    }
  }
}

double global_norm(const std::vector<std::span<const float>>& grads) {
  double sum = 0;
  for (const auto& g : grads) {
    for (float x : g)
      sum += static_cast<double>(x) * x;
  }
  return std::sqrt(sum);
}

}  // namespace dojo::train
