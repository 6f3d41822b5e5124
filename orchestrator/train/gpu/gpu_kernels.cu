#include <cuda_bf16.h>

#include <cmath>

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

// One warp per row: lanes take classes lane, lane + 32, ..., and the row's
// max, arg-max and sum of exponentials are warp reductions, so a batch of
// thousands of rows keeps every SM busy whatever the number of classes.
constexpr int kWarp = 32;
constexpr int kRowsPerBlock = kThreads / kWarp;

__global__ void softmax_xent_kernel(const float* logits, const std::uint8_t* labels, int rows,
                                    int classes, float* grad, float* row_loss, int* row_correct) {
  const int lane = threadIdx.x % kWarp;
  const int r = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp;
  if (r >= rows)
    return;  // whole warps leave together: a warp is one row
  const float* x = logits + static_cast<std::size_t>(r) * classes;
  float top = -INFINITY;
  int arg = classes;  // the lowest index among equal maxima, as a CPU scan finds
  for (int c = lane; c < classes; c += kWarp) {
    if (x[c] > top) {
      top = x[c];
      arg = c;
    }
  }
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    const float other_top = __shfl_xor_sync(0xffffffffu, top, offset);
    const int other_arg = __shfl_xor_sync(0xffffffffu, arg, offset);
    if (other_top > top || (other_top == top && other_arg < arg)) {
      top = other_top;
      arg = other_arg;
    }
  }
  double sum = 0;
  for (int c = lane; c < classes; c += kWarp)
    sum += exp(static_cast<double>(x[c] - top));
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  const double log_sum = log(sum) + top;
  const int label = labels[r];
  if (lane == 0) {
    row_loss[r] = static_cast<float>(log_sum - x[label]);
    row_correct[r] = arg == label ? 1 : 0;
  }
  if (grad != nullptr) {
    float* g = grad + static_cast<std::size_t>(r) * classes;
    for (int c = lane; c < classes; c += kWarp) {
      const double p = exp(static_cast<double>(x[c]) - log_sum);
      g[c] = static_cast<float>((p - (c == label ? 1.0 : 0.0)) / rows);
    }
  }
}

// Column sums of a row-major matrix by tiles of 32 columns: a 32 x 32 block
// per tile, each thread summing every 32nd row of its column (reads of a row
// are coalesced across the warp), then a fixed-order tree over the 32
// partial sums in shared memory. Deterministic, and wide matrices give as
// many blocks as tiles.
constexpr int kTile = 32;

__global__ void column_sums_kernel(const float* delta, int rows, int cols, float* out) {
  __shared__ float partial[kTile][kTile + 1];  // +1: no bank conflicts on the column reads
  const int c = blockIdx.x * kTile + threadIdx.x;
  float sum = 0.0f;
  if (c < cols) {
    for (int r = threadIdx.y; r < rows; r += kTile)
      sum += delta[static_cast<std::size_t>(r) * cols + c];
  }
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  for (int stride = kTile / 2; stride > 0; stride /= 2) {
    if (threadIdx.y < stride)
      partial[threadIdx.y][threadIdx.x] += partial[threadIdx.y + stride][threadIdx.x];
    __syncthreads();
  }
  if (threadIdx.y == 0 && c < cols)
    out[c] = partial[0][threadIdx.x];
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
  const unsigned blocks = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
  if (blocks == 0)
    return;
  softmax_xent_kernel<<<blocks, kThreads, 0, stream>>>(logits, labels, rows, classes, grad,
                                                       row_loss, row_correct);
}

void column_sums(const float* delta, int rows, int cols, float* out, cudaStream_t stream) {
  const unsigned tiles = static_cast<unsigned>((cols + kTile - 1) / kTile);
  if (tiles == 0)
    return;
  column_sums_kernel<<<tiles, dim3(kTile, kTile), 0, stream>>>(delta, rows, cols, out);
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
