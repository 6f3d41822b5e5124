#pragma once
// The MLP's shape and initial parameters, shared by the CPU and GPU engines
// (this file needs no BLAS, so the GPU-only build can use it).

#include <cstdint>
#include <vector>

namespace dojo::train {

struct MlpShape {
  std::size_t inputs = 784;
  std::vector<int> hidden{256, 128, 100};
  std::size_t classes = 10;
};

/// inputs, each hidden width, classes. Throws dojo::Error for an empty layer.
std::vector<std::size_t> layer_widths(const MlpShape& shape);

/// He-normal weights (row-major outputs x inputs) and zero biases, weight
/// then bias per layer, from `seed`: the same on every rank and engine.
std::vector<std::vector<float>> initial_parameters(const MlpShape& shape, std::uint64_t seed);

}  // namespace dojo::train
