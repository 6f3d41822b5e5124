#include <cuda_bf16.h>

#include "collectives/backends/nccl/kernels.h"

namespace dojo::collectives::nccl {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(std::size_t count) {
  // Grid-stride loops: a bounded grid covers any count.
  const std::size_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 ? blocks : 65535);
}

__global__ void scale_kernel(float* data, std::size_t count, float factor) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    data[i] *= factor;
  }
}

__global__ void encode_kernel(const float* in, __nv_bfloat16* out, std::size_t count) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    out[i] = __float2bfloat16_rn(in[i]);
  }
}

__global__ void decode_kernel(const __nv_bfloat16* in, float* out, std::size_t count) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    out[i] = __bfloat162float(in[i]);
  }
}

}  // namespace

void launch_scale(float* data, std::size_t count, float factor, cudaStream_t stream) {
  if (count == 0)
    return;
  scale_kernel<<<blocks_for(count), kThreads, 0, stream>>>(data, count, factor);
}

void launch_encode_bf16(const float* in, std::uint16_t* out, std::size_t count,
                        cudaStream_t stream) {
  if (count == 0)
    return;
  encode_kernel<<<blocks_for(count), kThreads, 0, stream>>>(
      in, reinterpret_cast<__nv_bfloat16*>(out), count);
}

void launch_decode_bf16(const std::uint16_t* in, float* out, std::size_t count,
                        cudaStream_t stream) {
  if (count == 0)
    return;
  decode_kernel<<<blocks_for(count), kThreads, 0, stream>>>(
      reinterpret_cast<const __nv_bfloat16*>(in), out, count);
}

}  // namespace dojo::collectives::nccl
