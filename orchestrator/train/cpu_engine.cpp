// The CPU engine: the OpenBLAS MLP and the host optimizer.
#include "orchestrator/train/engine.h"
#include "orchestrator/train/mlp.h"
#include "orchestrator/train/optimizer.h"

namespace dojo::train {
namespace {

class CpuEngine : public Engine {
 public:
  CpuEngine(const MlpShape& shape, std::uint64_t seed, const config::OptimizerConfig& optimizer,
            std::int64_t total_steps)
      : mlp_(shape, seed), optimizer_(optimizer, mlp_.parameter_counts(), total_steps) {}

  std::vector<std::size_t> parameter_counts() const override { return mlp_.parameter_counts(); }
  BatchResult forward(const float* x, const std::uint8_t* labels, std::size_t rows) override {
    const auto r = mlp_.forward(x, labels, rows);
    return {r.loss_sum, r.correct};
  }
  void backward(const std::function<std::span<float>(std::size_t)>& gradient,
                const std::function<void(std::size_t)>& ready) override {
    mlp_.backward(gradient, ready);
  }
  BatchResult evaluate(const float* x, const std::uint8_t* labels, std::size_t rows) override {
    const auto r = mlp_.evaluate(x, labels, rows);
    return {r.loss_sum, r.correct};
  }
  double gradient_norm(const std::vector<std::span<const float>>& grads) override {
    return global_norm(grads);
  }
  void step(const std::vector<std::span<const float>>& grads, float grad_scale) override {
    optimizer_.step(mlp_.parameters(), grads, grad_scale);
  }
  std::vector<std::vector<float>> parameters() const override { return mlp_.parameters(); }
  void set_parameters(const std::vector<std::vector<float>>& params) override {
    mlp_.parameters() = params;
  }
  std::vector<std::vector<float>> optimizer_state() const override { return optimizer_.state(); }
  void set_optimizer_state(const std::vector<std::vector<float>>& state,
                           std::int64_t steps) override {
    optimizer_.state() = state;
    optimizer_.set_steps(steps);
  }
  std::int64_t optimizer_steps() const override { return optimizer_.steps(); }

 private:
  Mlp mlp_;
  Optimizer optimizer_;
};

}  // namespace

std::unique_ptr<Engine> make_cpu_engine(const MlpShape& shape, std::uint64_t seed,
                                        const config::OptimizerConfig& optimizer,
                                        std::int64_t total_steps) {
  return std::make_unique<CpuEngine>(shape, seed, optimizer, total_steps);
}

}  // namespace dojo::train
