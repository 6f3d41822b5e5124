#pragma once
// The check helpers for CUDA runtime and NCCL return codes. Compiled only when
// the build has CUDA (DOJO_WITH_CUDA); nothing else includes CUDA headers.

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <source_location>

namespace dojo::collectives::nccl {

/// Throws CollectiveError with the CUDA error name and text, `call`, this
/// rank (from the environment), host and file:line unless `rc` is cudaSuccess.
void check_cuda(cudaError_t rc, const char* call,
                std::source_location where = std::source_location::current());

/// The same for NCCL; ncclInProgress counts as success (non-blocking comms).
void check_nccl(ncclResult_t rc, const char* call,
                std::source_location where = std::source_location::current());

/// Number of CUDA devices this process sees (0 when there is no driver).
int visible_devices();

}  // namespace dojo::collectives::nccl
