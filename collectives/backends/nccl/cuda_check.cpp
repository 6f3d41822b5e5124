#include "collectives/backends/nccl/cuda_check.h"

#include <cstdlib>
#include <string>

#include "collectives/error.h"

namespace dojo::collectives::nccl {
namespace {

int rank_from_environment() {
  for (const char* name : {"RANK", "OMPI_COMM_WORLD_RANK"}) {
    if (const char* value = std::getenv(name))
      return std::atoi(value);
  }
  return -1;
}

[[noreturn]] void fail(const char* call, const std::string& reason, std::source_location where) {
  CollectiveContext context;
  context.op = call;
  context.rank = rank_from_environment();
  context.host = this_host();
  context.file = where.file_name();
  context.line = static_cast<int>(where.line());
  throw CollectiveError(context, reason);
}

}  // namespace

void check_cuda(cudaError_t rc, const char* call, std::source_location where) {
  if (rc == cudaSuccess)
    return;
  fail(call, std::string(cudaGetErrorName(rc)) + ": " + cudaGetErrorString(rc), where);
}

void check_nccl(ncclResult_t rc, const char* call, std::source_location where) {
  if (rc == ncclSuccess || rc == ncclInProgress)
    return;
  fail(call, std::string("NCCL: ") + ncclGetErrorString(rc), where);
}

int visible_devices() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}

}  // namespace dojo::collectives::nccl
