#include <cuda_bf16.h>

#include "orchestrator/train/gpu/gpu_kernels.h"

namespace dojo::train::gpu {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(std::size_t count) {
  const std::size_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

#define DOJO_GRID_LOOP(i, count)                                                        \
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; \
       i < (count); i += static_cast<std::size_t>(gridDim.x) * blockDim.x)

__global__ void bias_relu_kernel(float* z, const float* bias, int rows, int cols, bool relu) {
  const std::size_t count = static_cast<std::size_t>(rows) * cols;
  DOJO_GRID_LOOP(i, count) {
    float v = z[i] + bias[i % cols];
    z[i] = relu && v < 0.0f ? 0.0f : v;
  }
}

__global__ void relu_backward_kernel(float* delta, const float* activation, std::size_t count) {
  DOJO_GRID_LOOP(i, count) {
    if (activation[i] <= 0.0f)
      delta[i] = 0.0f;
  }
}

// One thread per row: classes are few (10 for Fashion-MNIST).
__global__ void softmax_xent_kernel(const float* logits, const std::uint8_t* labels, int rows,
                                    int classes, float* grad, float* row_loss, int* row_correct) {
  const int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows)
    return;
  const float* x = logits + static_cast<std::size_t>(r) * classes;
  float top = x[0];
  int arg = 0;
  for (int c = 1; c < classes; ++c) {
    if (x[c] > top) {
      top = x[c];
      arg = c;
    }
  }
  double sum = 0;
  for (int c = 0; c < classes; ++c)
    sum += exp(static_cast<double>(x[c] - top));
  const double log_sum = log(sum) + top;
  const int label = labels[r];
  row_loss[r] = static_cast<float>(log_sum - x[label]);
  row_correct[r] = arg == label ? 1 : 0;
  if (grad != nullptr) {
    float* g = grad + static_cast<std::size_t>(r) * classes;
    for (int c = 0; c < classes; ++c) {
      const double p = exp(static_cast<double>(x[c]) - log_sum);
      g[c] = static_cast<float>((p - (c == label ? 1.0 : 0.0)) / rows);
    }
  }
}

__global__ void column_sums_kernel(const float* delta, int rows, int cols, float* out) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols)
    return;
  float sum = 0.0f;
  for (int r = 0; r < rows; ++r)
    sum += delta[static_cast<std::size_t>(r) * cols + c];
  out[c] = sum;
}

__global__ void to_bf16_kernel(const float* in, __nv_bfloat16* out, std::size_t count) {
  DOJO_GRID_LOOP(i, count) {
    out[i] = __float2bfloat16_rn(in[i]);
  }
}

__global__ void squares_kernel(const float* g, std::size_t count, double* sum) {
  __shared__ double partial[kThreads];
  double local = 0;
  DOJO_GRID_LOOP(i, count) {
    local += static_cast<double>(g[i]) * g[i];
  }
  partial[threadIdx.x] = local;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride)
      partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0)
    atomicAdd(sum, partial[0]);
}

__global__ void sgd_kernel(float* w, float* v, const float* g, std::size_t count, float lr,
                           float momentum, float decay, float scale) {
  DOJO_GRID_LOOP(i, count) {
    const float d = g[i] * scale + decay * w[i];
    v[i] = momentum * v[i] + d;
    w[i] -= lr * v[i];
  }
}

__global__ void adamw_kernel(float* w, float* m, float* v, const float* g, std::size_t count,
                             float lr, float beta1, float beta2, float epsilon, float decay,
                             float c1, float c2, float scale) {
  DOJO_GRID_LOOP(i, count) {
    const float gi = g[i] * scale;
    m[i] = beta1 * m[i] + (1.0f - beta1) * gi;
    v[i] = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    w[i] -= lr * ((m[i] / c1) / (sqrtf(v[i] / c2) + epsilon) + decay * w[i]);
  }
}

}  // namespace

void bias_relu(float* z, const float* bias, int rows, int cols, bool relu, cudaStream_t stream) {
  const std::size_t count = static_cast<std::size_t>(rows) * cols;
  bias_relu_kernel<<<blocks_for(count), kThreads, 0, stream>>>(z, bias, rows, cols, relu);
}

void relu_backward(float* delta, const float* activation, std::size_t count, cudaStream_t stream) {
  relu_backward_kernel<<<blocks_for(count), kThreads, 0, stream>>>(delta, activation, count);
}

void softmax_cross_entropy(const float* logits, const std::uint8_t* labels, int rows, int classes,
                           float* grad, float* row_loss, int* row_correct, cudaStream_t stream) {
  softmax_xent_kernel<<<blocks_for(static_cast<std::size_t>(rows)), kThreads, 0, stream>>>(
      logits, labels, rows, classes, grad, row_loss, row_correct);
}

void column_sums(const float* delta, int rows, int cols, float* out, cudaStream_t stream) {
  column_sums_kernel<<<blocks_for(static_cast<std::size_t>(cols)), kThreads, 0, stream>>>(
      delta, rows, cols, out);
}

void to_bf16(const float* in, std::uint16_t* out, std::size_t count, cudaStream_t stream) {
  to_bf16_kernel<<<blocks_for(count), kThreads, 0, stream>>>(
      in, reinterpret_cast<__nv_bfloat16*>(out), count);
}

void accumulate_squares(const float* g, std::size_t count, double* sum_of_squares,
                        cudaStream_t stream) {
  squares_kernel<<<blocks_for(count), kThreads, 0, stream>>>(g, count, sum_of_squares);
}

void sgd_update(float* w, float* v, const float* g, std::size_t count, float lr, float momentum,
                float decay, float scale, cudaStream_t stream) {
  sgd_kernel<<<blocks_for(count), kThreads, 0, stream>>>(w, v, g, count, lr, momentum, decay,
                                                         scale);
}

void adamw_update(float* w, float* m, float* v, const float* g, std::size_t count, float lr,
                  float beta1, float beta2, float epsilon, float decay, float c1, float c2,
                  float scale, cudaStream_t stream) {
  adamw_kernel<<<blocks_for(count), kThreads, 0, stream>>>(w, m, v, g, count, lr, beta1, beta2,
                                                           epsilon, decay, c1, c2, scale);
}

}  // namespace dojo::train::gpu
