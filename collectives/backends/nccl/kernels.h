#pragma once
// Element-wise CUDA kernels of the nccl backend, launched on a given stream.

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace dojo::collectives::nccl {

void launch_scale(float* data, std::size_t count, float factor, cudaStream_t stream);
void launch_encode_bf16(const float* in, std::uint16_t* out, std::size_t count,
                        cudaStream_t stream);
void launch_decode_bf16(const std::uint16_t* in, float* out, std::size_t count,
                        cudaStream_t stream);

}  // namespace dojo::collectives::nccl
