// The backends of a build with CUDA: mpi and nccl.
#include <mutex>

#include "collectives/backends/mpi/mpi_communicator.h"
#include "collectives/backends/nccl/nccl_communicator.h"
#include "collectives/communicator.h"
#include "collectives/cuda/cuda_check.h"

namespace dojo::collectives {

void register_builtin_backends() {
  static std::once_flag once;
  std::call_once(once, [] {
    mpi::register_mpi_backend();
    nccl::register_nccl_backend();
  });
}

bool this_rank_has_gpu() {
  return cuda::visible_devices() > 0;
}

}  // namespace dojo::collectives
