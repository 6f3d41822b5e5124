#pragma once
// dojo's own CUDA kernels for MLP training; every launch is on `stream`.

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace dojo::train::gpu {

/// z[r][c] += bias[c] for a rows x cols row-major matrix, then ReLU if `relu`.
void bias_relu(float* z, const float* bias, int rows, int cols, bool relu, cudaStream_t stream);

/// delta[i] = 0 where activation[i] <= 0 (the ReLU's derivative).
void relu_backward(float* delta, const float* activation, std::size_t count, cudaStream_t stream);

/// Softmax cross-entropy of rows x classes logits: per-row loss and
/// correctness into `row_loss` and `row_correct`, and (when `grad` is not
/// null) the gradient of the mean loss, (softmax - onehot) / rows.
void softmax_cross_entropy(const float* logits, const std::uint8_t* labels, int rows, int classes,
                           float* grad, float* row_loss, int* row_correct, cudaStream_t stream);

/// out[c] = sum over rows of delta[r][c] (the bias gradient).
void column_sums(const float* delta, int rows, int cols, float* out, cudaStream_t stream);

/// f32 -> bf16 (round to nearest even), count elements.
void to_bf16(const float* in, std::uint16_t* out, std::size_t count, cudaStream_t stream);

/// *sum_of_squares (double, zeroed by the caller) += sum of g[i]^2.
void accumulate_squares(const float* g, std::size_t count, double* sum_of_squares,
                        cudaStream_t stream);

/// PyTorch SGD: v = momentum v + (scale g + decay w); w -= lr v.
void sgd_update(float* w, float* v, const float* g, std::size_t count, float lr, float momentum,
                float decay, float scale, cudaStream_t stream);

/// AdamW with bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t.
void adamw_update(float* w, float* m, float* v, const float* g, std::size_t count, float lr,
                  float beta1, float beta2, float epsilon, float decay, float c1, float c2,
                  float scale, cudaStream_t stream);

}  // namespace dojo::train::gpu
