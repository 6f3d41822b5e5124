// The backends of a build with CUDA: mpi here, and nccl in the GPU plugin
// (gpu_plugin.h), which is loaded only when a job asks for nccl or "auto"
// looks for a GPU.
#include <memory>
#include <mutex>

#include "collectives/backends/mpi/mpi_communicator.h"
#include "collectives/communicator.h"
#include "collectives/gpu_plugin.h"

namespace dojo::collectives {
namespace {

using MakeNccl = void (*)(Bootstrap*, const CommunicatorOptions*, std::unique_ptr<Communicator>*);
using VisibleDevices = int (*)();

}  // namespace

void register_builtin_backends() {
  static std::once_flag once;
  std::call_once(once, [] {
    mpi::register_mpi_backend();
    register_backend("nccl", [](Bootstrap& bootstrap, const CommunicatorOptions& options) {
      const auto make = reinterpret_cast<MakeNccl>(gpu_plugin_symbol(kGpuMakeNccl));
      std::unique_ptr<Communicator> comm;
      make(&bootstrap, &options, &comm);
      return comm;
    });
  });
}

bool this_rank_has_gpu() {
  if (!gpu_plugin_loads())
    return false;
  return reinterpret_cast<VisibleDevices>(gpu_plugin_symbol(kGpuVisibleDevices))() > 0;
}

}  // namespace dojo::collectives
