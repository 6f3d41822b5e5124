#pragma once
// Where the MLP computes: on the CPU (OpenBLAS) or a GPU (cuBLAS and dojo's
// CUDA kernels). The training loop talks to this interface only.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "collectives/communicator.h"
#include "orchestrator/config/job.h"
#include "orchestrator/train/mlp_init.h"

namespace dojo::train {

struct BatchResult {
  double loss_sum = 0;  ///< sum of the samples' cross-entropy losses
  int correct = 0;      ///< samples whose arg-max is the label
};

/// Gradient spans live in the communicator's memory (host for mpi, device
/// for nccl); parameters and optimizer state cross the interface as host
/// vectors (checkpoints) only.
class Engine {
 public:
  virtual ~Engine() = default;

  virtual std::vector<std::size_t> parameter_counts() const = 0;
  /// Forward over `rows` samples given in host memory, keeping what backward needs.
  virtual BatchResult forward(const float* x, const std::uint8_t* labels, std::size_t rows) = 0;
  /// Writes the gradient of the mean loss of the last forward into
  /// gradient(i), last layer first, calling ready(i) as each is complete.
  virtual void backward(const std::function<std::span<float>(std::size_t)>& gradient,
                        const std::function<void(std::size_t)>& ready) = 0;
  virtual BatchResult evaluate(const float* x, const std::uint8_t* labels, std::size_t rows) = 0;
  /// The L2 norm of all averaged gradients together.
  virtual double gradient_norm(const std::vector<std::span<const float>>& grads) = 0;
  /// One optimizer step with the gradients multiplied by `grad_scale`.
  virtual void step(const std::vector<std::span<const float>>& grads, float grad_scale) = 0;

  virtual std::vector<std::vector<float>> parameters() const = 0;
  virtual void set_parameters(const std::vector<std::vector<float>>& params) = 0;
  virtual std::vector<std::vector<float>> optimizer_state() const = 0;
  virtual void set_optimizer_state(const std::vector<std::vector<float>>& state,
                                   std::int64_t steps) = 0;
  virtual std::int64_t optimizer_steps() const = 0;
};

/// OpenBLAS sgemm and host loops; gradients in host memory.
std::unique_ptr<Engine> make_cpu_engine(const MlpShape& shape, std::uint64_t seed,
                                        const config::OptimizerConfig& optimizer,
                                        std::int64_t total_steps);

/// cuBLAS and CUDA kernels in f32 or bf16 (bf16 GEMMs accumulate in f32 and
/// keep f32 master weights), on `comm`'s device; `comm` must be the nccl
/// backend. Throws dojo::Error in a build without CUDA.
std::unique_ptr<Engine> make_gpu_engine(const MlpShape& shape, std::uint64_t seed,
                                        const config::OptimizerConfig& optimizer,
                                        std::int64_t total_steps, config::Precision precision,
                                        collectives::Communicator& comm);

}  // namespace dojo::train
