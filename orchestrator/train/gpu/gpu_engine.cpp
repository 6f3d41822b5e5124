// The GPU engine: the MLP on cuBLAS (f32, or bf16 inputs with f32
// accumulation and f32 master weights) and dojo's kernels, on the nccl
// communicator's device. Backward runs on a compute stream of its own; each
// layer's gradients are handed to the communicator's stream through an event,
// so their all-reduce overlaps the rest of backward.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <string>

#include "collectives/cuda/cuda_check.h"
#include "common/error.h"
#include "orchestrator/train/engine.h"
#include "orchestrator/train/gpu/gpu_kernels.h"
#include "orchestrator/train/optimizer.h"

namespace dojo::train {
namespace {

using collectives::cuda::check_cuda;

void check_cublas(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw Error(std::string(call) + " failed: " + cublasGetStatusString(status));
  }
}

// Device memory that frees itself.
template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(std::size_t count) { resize(count); }
  ~DeviceArray() { cudaFree(data_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& other) noexcept : data_(other.data_), count_(other.count_) {
    other.data_ = nullptr;
    other.count_ = 0;
  }

  void resize(std::size_t count) {  // grows only; contents are not kept
    if (count <= count_)
      return;
    cudaFree(data_);
    data_ = nullptr;
    check_cuda(
        cudaMalloc(reinterpret_cast<void**>(&data_), std::max<std::size_t>(count, 1) * sizeof(T)),
        "cudaMalloc");
    count_ = count;
  }
  T* get() const { return data_; }
  std::size_t size() const { return count_; }

 private:
  T* data_ = nullptr;
  std::size_t count_ = 0;
};

// Page-locked host memory that frees itself: uploads from it are DMA at full
// bandwidth and truly asynchronous, where pageable memory is first copied by
// the driver into a staging buffer of its own.
class PinnedBytes {
 public:
  PinnedBytes() = default;
  ~PinnedBytes() { cudaFreeHost(data_); }
  PinnedBytes(const PinnedBytes&) = delete;
  PinnedBytes& operator=(const PinnedBytes&) = delete;

  void resize(std::size_t bytes) {  // grows only; contents are not kept
    if (bytes <= bytes_)
      return;
    cudaFreeHost(data_);
    data_ = nullptr;
    check_cuda(cudaHostAlloc(&data_, std::max<std::size_t>(bytes, 1), cudaHostAllocDefault),
               "cudaHostAlloc");
    bytes_ = bytes;
  }
  unsigned char* get() const { return static_cast<unsigned char*>(data_); }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// What one forward pass keeps on the device. Training and evaluation have
// one each, so an evaluation between forward and backward leaves backward's
// activations alone.
struct Pass {
  std::size_t rows = 0;
  DeviceArray<float> x;
  DeviceArray<std::uint16_t> x_bf16;
  DeviceArray<std::uint8_t> labels;
  std::vector<DeviceArray<float>> activations;
  std::vector<DeviceArray<std::uint16_t>> activations_bf16;
  DeviceArray<float> logits_grad;
  DeviceArray<float> row_loss;
  DeviceArray<int> row_correct;
};

class GpuEngine : public Engine {
 public:
  GpuEngine(const MlpShape& shape, std::uint64_t seed, const config::OptimizerConfig& optimizer,
            std::int64_t total_steps, config::Precision precision, collectives::Communicator& comm)
      : comm_(comm),
        optimizer_(optimizer),
        total_steps_(total_steps),
        bf16_(precision == config::Precision::kBf16),
        widths_(layer_widths(shape)),
        classes_(shape.classes) {
    check_cuda(cudaSetDevice(comm.device()), "cudaSetDevice");
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check_cublas(cublasCreate(&blas_), "cublasCreate");
    check_cublas(cublasSetStream(blas_, stream_), "cublasSetStream");
    check_cuda(cudaEventCreateWithFlags(&produced_, cudaEventDisableTiming), "cudaEventCreate");
    set_parameters(initial_parameters(shape, seed));
    const int copies = optimizer_.type == config::OptimizerType::kAdamW ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      for (std::size_t n : counts_) {
        state_.emplace_back(n);
        check_cuda(cudaMemsetAsync(state_.back().get(), 0, n * sizeof(float), stream_),
                   "cudaMemset");
      }
    }
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }

  ~GpuEngine() override {
    cudaStreamSynchronize(stream_);
    cudaEventDestroy(produced_);
    cublasDestroy(blas_);
    cudaStreamDestroy(stream_);
  }

  std::vector<std::size_t> parameter_counts() const override { return counts_; }

  BatchResult forward(const float* x, const std::uint8_t* labels, std::size_t rows) override {
    return run(train_, x, labels, rows, true);
  }

  BatchResult evaluate(const float* x, const std::uint8_t* labels, std::size_t rows) override {
    return run(eval_, x, labels, rows, false);
  }

  void backward(const std::function<std::span<float>(std::size_t)>& gradient,
                const std::function<void(std::size_t)>& ready) override {
    const std::size_t layers = widths_.size() - 1;
    const std::size_t count_rows = train_.rows;  // of the last forward
    const int rows = static_cast<int>(count_rows);
    float* delta = delta_[0].get();  // d loss / d z of the current layer
    check_cuda(
        cudaMemcpyAsync(delta, train_.logits_grad.get(), count_rows * classes_ * sizeof(float),
                        cudaMemcpyDeviceToDevice, stream_),
        "cudaMemcpyAsync");
    int which = 0;
    for (std::size_t l = layers; l-- > 0;) {
      const int in = static_cast<int>(widths_[l]);
      const int out = static_cast<int>(widths_[l + 1]);
      const void* below = l == 0 ? input(train_, bf16_) : activation(train_, l - 1, bf16_);
      const void* delta_in = delta;
      if (bf16_) {
        gpu::to_bf16(delta, delta_bf16_.get(), count_rows * out, stream_);
        delta_in = delta_bf16_.get();
      }
      // dW (out x in, row-major) = delta^T * below; column-major: below^c * (delta^c)^T.
      gemm(CUBLAS_OP_N, CUBLAS_OP_T, in, out, rows, below, in, delta_in, out,
           gradient(2 * l).data(), in);
      gpu::column_sums(delta, rows, out, gradient(2 * l + 1).data(), stream_);
      check_cuda(cudaGetLastError(), "column_sums");
      // The communicator's stream may reduce these two only after they exist.
      check_cuda(cudaEventRecord(produced_, stream_), "cudaEventRecord");
      comm_.wait_event(produced_);
      ready(2 * l);
      ready(2 * l + 1);
      if (l == 0)
        break;
      // d loss / d activation below = delta * W, then through the ReLU.
      float* next = delta_[1 - which].get();
      gemm(CUBLAS_OP_N, CUBLAS_OP_N, in, rows, out, weight(l, bf16_), in, delta_in, out, next, in);
      gpu::relu_backward(next, train_.activations[l - 1].get(), count_rows * in, stream_);
      check_cuda(cudaGetLastError(), "relu_backward");
      which = 1 - which;
      delta = next;
    }
  }

  double gradient_norm(const std::vector<std::span<const float>>& grads) override {
    check_cuda(cudaMemsetAsync(norm_.get(), 0, sizeof(double), stream_), "cudaMemsetAsync");
    for (const auto& g : grads)
      gpu::accumulate_squares(g.data(), g.size(), norm_.get(), stream_);
    double sum = 0;
    check_cuda(cudaMemcpyAsync(&sum, norm_.get(), sizeof(double), cudaMemcpyDeviceToHost, stream_),
               "cudaMemcpyAsync");
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    return std::sqrt(sum);
  }

  void step(const std::vector<std::span<const float>>& grads, float grad_scale) override {
    const float lr = static_cast<float>(learning_rate(optimizer_, steps_, total_steps_));
    const float decay = static_cast<float>(optimizer_.weight_decay);
    ++steps_;
    const std::size_t tensors = params_.size();
    for (std::size_t t = 0; t < tensors; ++t) {
      if (optimizer_.type == config::OptimizerType::kSgd) {
        gpu::sgd_update(params_[t].get(), state_[t].get(), grads[t].data(), counts_[t], lr,
                        static_cast<float>(optimizer_.momentum), decay, grad_scale, stream_);
      } else {
        const double b1 = optimizer_.beta1, b2 = optimizer_.beta2;
        gpu::adamw_update(params_[t].get(), state_[t].get(), state_[tensors + t].get(),
                          grads[t].data(), counts_[t], lr, static_cast<float>(b1),
                          static_cast<float>(b2), static_cast<float>(optimizer_.epsilon), decay,
                          static_cast<float>(1.0 - std::pow(b1, static_cast<double>(steps_))),
                          static_cast<float>(1.0 - std::pow(b2, static_cast<double>(steps_))),
                          grad_scale, stream_);
      }
    }
    check_cuda(cudaGetLastError(), "optimizer kernels");
    weights_stale_ = true;
  }

  std::vector<std::vector<float>> parameters() const override { return to_host(params_); }
  void set_parameters(const std::vector<std::vector<float>>& params) override {
    params_.clear();
    counts_.clear();
    for (const auto& p : params) {
      counts_.push_back(p.size());
      params_.emplace_back(p.size());
      check_cuda(cudaMemcpyAsync(params_.back().get(), p.data(), p.size() * sizeof(float),
                                 cudaMemcpyHostToDevice, stream_),
                 "cudaMemcpyAsync");
    }
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    weights_stale_ = true;
  }
  std::vector<std::vector<float>> optimizer_state() const override { return to_host(state_); }
  void set_optimizer_state(const std::vector<std::vector<float>>& state,
                           std::int64_t steps) override {
    for (std::size_t t = 0; t < state.size() && t < state_.size(); ++t) {
      check_cuda(cudaMemcpyAsync(state_[t].get(), state[t].data(), state[t].size() * sizeof(float),
                                 cudaMemcpyHostToDevice, stream_),
                 "cudaMemcpyAsync");
    }
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    steps_ = steps;
  }
  std::int64_t optimizer_steps() const override { return steps_; }

 private:
  // C (column-major m x n, f32) = op(A) * op(B) with A and B f32 or bf16.
  void gemm(cublasOperation_t op_a, cublasOperation_t op_b, int m, int n, int k, const void* a,
            int lda, const void* b, int ldb, float* c, int ldc) {
    const float one = 1.0f, zero = 0.0f;
    const cudaDataType_t type = bf16_ ? CUDA_R_16BF : CUDA_R_32F;
    check_cublas(cublasGemmEx(blas_, op_a, op_b, m, n, k, &one, a, type, lda, b, type, ldb, &zero,
                              c, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx");
  }

  static const void* input(const Pass& pass, bool half) {
    return half ? static_cast<const void*>(pass.x_bf16.get()) : pass.x.get();
  }
  static const void* activation(const Pass& pass, std::size_t l, bool half) {
    return half ? static_cast<const void*>(pass.activations_bf16[l].get())
                : pass.activations[l].get();
  }
  const void* weight(std::size_t l, bool half) const {
    return half ? static_cast<const void*>(weights_bf16_[l].get()) : params_[2 * l].get();
  }

  void refresh_bf16_weights() {
    if (!bf16_ || !weights_stale_)
      return;
    const std::size_t layers = widths_.size() - 1;
    weights_bf16_.resize(layers);
    for (std::size_t l = 0; l < layers; ++l) {
      weights_bf16_[l].resize(counts_[2 * l]);
      gpu::to_bf16(params_[2 * l].get(), weights_bf16_[l].get(), counts_[2 * l], stream_);
    }
    weights_stale_ = false;
  }

  BatchResult run(Pass& pass, const float* x, const std::uint8_t* labels, std::size_t rows,
                  bool training) {
    const std::size_t layers = widths_.size() - 1;
    pass.rows = rows;
    const std::size_t x_bytes = rows * widths_[0] * sizeof(float);
    pass.x.resize(rows * widths_[0]);
    pass.labels.resize(rows);
    // Inputs go up from page-locked memory (the last pass ended with a
    // stream synchronisation, so nothing still reads it).
    upload_.resize(x_bytes + rows);
    std::memcpy(upload_.get(), x, x_bytes);
    std::memcpy(upload_.get() + x_bytes, labels, rows);
    check_cuda(
        cudaMemcpyAsync(pass.x.get(), upload_.get(), x_bytes, cudaMemcpyHostToDevice, stream_),
        "cudaMemcpyAsync");
    check_cuda(cudaMemcpyAsync(pass.labels.get(), upload_.get() + x_bytes, rows,
                               cudaMemcpyHostToDevice, stream_),
               "cudaMemcpyAsync");
    refresh_bf16_weights();
    if (bf16_) {
      pass.x_bf16.resize(rows * widths_[0]);
      gpu::to_bf16(pass.x.get(), pass.x_bf16.get(), rows * widths_[0], stream_);
    }
    pass.activations.resize(layers);
    pass.activations_bf16.resize(layers);
    if (training) {
      std::size_t widest = 0;
      for (std::size_t w : widths_)
        widest = std::max(widest, w);
      for (auto& d : delta_)
        d.resize(rows * widest);
      delta_bf16_.resize(rows * widest);
    }
    for (std::size_t l = 0; l < layers; ++l) {
      const int in = static_cast<int>(widths_[l]);
      const int out = static_cast<int>(widths_[l + 1]);
      pass.activations[l].resize(rows * out);
      // z (rows x out, row-major) = below * W^T; column-major: (W^c)^T * below^c.
      gemm(CUBLAS_OP_T, CUBLAS_OP_N, out, static_cast<int>(rows), in, weight(l, bf16_), in,
           l == 0 ? input(pass, bf16_) : activation(pass, l - 1, bf16_), in,
           pass.activations[l].get(), out);
      gpu::bias_relu(pass.activations[l].get(), params_[2 * l + 1].get(), static_cast<int>(rows),
                     out, l + 1 < layers, stream_);
      if (bf16_ && l + 1 < layers) {
        pass.activations_bf16[l].resize(rows * out);
        gpu::to_bf16(pass.activations[l].get(), pass.activations_bf16[l].get(), rows * out,
                     stream_);
      }
    }
    pass.row_loss.resize(rows);
    pass.row_correct.resize(rows);
    if (training)
      pass.logits_grad.resize(rows * classes_);
    gpu::softmax_cross_entropy(pass.activations.back().get(), pass.labels.get(),
                               static_cast<int>(rows), static_cast<int>(classes_),
                               training ? pass.logits_grad.get() : nullptr, pass.row_loss.get(),
                               pass.row_correct.get(), stream_);
    check_cuda(cudaGetLastError(), "forward kernels");
    download_.resize(rows * (sizeof(float) + sizeof(int)));
    check_cuda(cudaMemcpyAsync(download_.get(), pass.row_loss.get(), rows * sizeof(float),
                               cudaMemcpyDeviceToHost, stream_),
               "cudaMemcpyAsync");
    check_cuda(cudaMemcpyAsync(download_.get() + rows * sizeof(float), pass.row_correct.get(),
                               rows * sizeof(int), cudaMemcpyDeviceToHost, stream_),
               "cudaMemcpyAsync");
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    BatchResult result;
    const auto* losses = reinterpret_cast<const float*>(download_.get());
    const auto* correct = reinterpret_cast<const int*>(download_.get() + rows * sizeof(float));
    for (std::size_t r = 0; r < rows; ++r) {
      result.loss_sum += losses[r];
      result.correct += correct[r];
    }
    return result;
  }

  std::vector<std::vector<float>> to_host(const std::vector<DeviceArray<float>>& arrays) const {
    std::vector<std::vector<float>> host;
    for (const auto& a : arrays) {
      host.emplace_back(a.size());
      check_cuda(cudaMemcpyAsync(host.back().data(), a.get(), a.size() * sizeof(float),
                                 cudaMemcpyDeviceToHost, stream_),
                 "cudaMemcpyAsync");
    }
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    return host;
  }

  collectives::Communicator& comm_;
  config::OptimizerConfig optimizer_;
  std::int64_t total_steps_;
  std::int64_t steps_ = 0;
  bool bf16_;
  std::vector<std::size_t> widths_;
  std::size_t classes_;
  std::vector<std::size_t> counts_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  cudaEvent_t produced_ = nullptr;
  std::vector<DeviceArray<float>> params_;
  std::vector<DeviceArray<float>> state_;
  std::vector<DeviceArray<std::uint16_t>> weights_bf16_;
  bool weights_stale_ = true;
  Pass train_;  // backward works on the last forward's pass
  Pass eval_;
  PinnedBytes upload_;
  PinnedBytes download_;
  DeviceArray<float> delta_[2];
  DeviceArray<std::uint16_t> delta_bf16_;
  DeviceArray<double> norm_{1};
};

}  // namespace

std::unique_ptr<Engine> make_gpu_engine(const MlpShape& shape, std::uint64_t seed,
                                        const config::OptimizerConfig& optimizer,
                                        std::int64_t total_steps, config::Precision precision,
                                        collectives::Communicator& comm) {
  if (comm.memory() != collectives::MemoryKind::kDevice) {
    throw Error(
        "workload.device gpu needs the nccl collectives backend (collectives.backend: "
        "nccl, or auto on GPU nodes), not " +
        comm.backend());
  }
  return std::make_unique<GpuEngine>(shape, seed, optimizer, total_steps, precision, comm);
}

}  // namespace dojo::train
