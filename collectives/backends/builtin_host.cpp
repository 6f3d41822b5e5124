// The backends of a build without CUDA: mpi.
#include <mutex>

#include "collectives/backends/mpi/mpi_communicator.h"
#include "collectives/communicator.h"

namespace dojo::collectives {

void register_builtin_backends() {
  static std::once_flag once;
  std::call_once(once, [] { mpi::register_mpi_backend(); });
}

bool this_rank_has_gpu() {
  return false;
}

}  // namespace dojo::collectives
