#include "collectives/cuda/cuda_check.h"

#include <cstdlib>
#include <string>

#include "collectives/error.h"
#include "common/numbers.h"

namespace dojo::collectives::cuda {
namespace {

int rank_from_environment() {
  for (const char* name : {"RANK", "OMPI_COMM_WORLD_RANK"}) {
    if (const char* value = std::getenv(name)) {
      const auto rank = parse_integer(value);
      return rank ? static_cast<int>(*rank) : -1;
    }
  }
  return -1;
}

}  // namespace

void fail_call(const char* call, const std::string& reason, std::source_location where) {
  CollectiveContext context;
  context.op = call;
  context.rank = rank_from_environment();
  context.host = this_host();
  context.file = where.file_name();
  context.line = static_cast<int>(where.line());
  throw CollectiveError(context, reason);
}

void check_cuda(cudaError_t rc, const char* call, std::source_location where) {
  if (rc == cudaSuccess)
    return;
  fail_call(call, std::string(cudaGetErrorName(rc)) + ": " + cudaGetErrorString(rc), where);
}

int visible_devices() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}

}  // namespace dojo::collectives::cuda
