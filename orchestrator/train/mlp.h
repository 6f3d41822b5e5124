#pragma once
// A multilayer perceptron with ReLU and softmax cross-entropy, on OpenBLAS.

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "orchestrator/train/mlp_init.h"

namespace dojo::train {

/// Parameters are registered in forward order: weight then bias of each
/// layer (layer l's weight is tensor 2l, its bias 2l + 1). Weights are
/// row-major `outputs x inputs`.
class Mlp {
 public:
  /// He-normal weights and zero biases from `seed` (the same on every rank).
  Mlp(MlpShape shape, std::uint64_t seed);

  const MlpShape& shape() const { return shape_; }
  std::vector<std::size_t> parameter_counts() const;
  std::vector<std::vector<float>>& parameters() { return params_; }
  const std::vector<std::vector<float>>& parameters() const { return params_; }
  /// Multiply-adds of one sample's forward pass (backward is about twice that).
  double forward_flops_per_sample() const;

  struct BatchResult {
    double loss_sum = 0;  ///< sum of the samples' cross-entropy losses
    int correct = 0;      ///< samples whose arg-max is the label
  };

  /// Forward pass over `rows` samples (row-major, `inputs` floats each),
  /// keeping what backward() needs.
  BatchResult forward(const float* x, const std::uint8_t* labels, std::size_t rows);

  /// Backward pass of the last forward(): writes the gradient of the mean
  /// loss over its rows into `gradient(i)` for every tensor, last layer
  /// first, and calls `ready(i)` the moment tensor i's gradient is complete.
  void backward(const std::function<std::span<float>(std::size_t)>& gradient,
                const std::function<void(std::size_t)>& ready);

  /// Loss and accuracy without keeping activations (evaluation).
  BatchResult evaluate(const float* x, const std::uint8_t* labels, std::size_t rows) const;

 private:
  BatchResult run(const float* x, const std::uint8_t* labels, std::size_t rows,
                  std::vector<std::vector<float>>& activations,
                  std::vector<float>* logits_grad) const;

  MlpShape shape_;
  std::vector<std::size_t> widths_;  // inputs, hidden..., classes
  std::vector<std::vector<float>> params_;
  // From the last forward(): activations per layer (input pointer, then each layer's output).
  const float* input_ = nullptr;
  std::size_t rows_ = 0;
  std::vector<std::vector<float>> activations_;
  std::vector<float> logits_grad_;
  std::vector<float> scratch_;
};

}  // namespace dojo::train
