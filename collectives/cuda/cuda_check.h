#pragma once
// The check helper for CUDA runtime return codes, for every GPU part of dojo
// (the nccl backend, the GPU engine, dojo-gpu-check). Compiled only when the
// build has CUDA (DOJO_WITH_CUDA).

#include <cuda_runtime_api.h>

#include <source_location>
#include <string>

namespace dojo::collectives::cuda {

/// Throws CollectiveError with the CUDA error name and text, `call`, this
/// rank (from the environment), host and file:line unless `rc` is cudaSuccess.
void check_cuda(cudaError_t rc, const char* call,
                std::source_location where = std::source_location::current());

/// Throws CollectiveError for a failed GPU library call (`call`: the function,
/// `reason`: the library's text), with this rank, host and file:line.
[[noreturn]] void fail_call(const char* call, const std::string& reason,
                            std::source_location where);

/// Number of CUDA devices this process sees (0 when there is no driver).
int visible_devices();

}  // namespace dojo::collectives::cuda
