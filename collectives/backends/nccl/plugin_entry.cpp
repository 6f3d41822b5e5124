// The nccl half of the GPU plugin's entry points (collectives/gpu_plugin.h).
#include <memory>

#include "collectives/backends/nccl/nccl_communicator.h"
#include "collectives/cuda/cuda_check.h"
#include "collectives/gpu_plugin.h"

using dojo::collectives::Bootstrap;
using dojo::collectives::Communicator;
using dojo::collectives::CommunicatorOptions;

extern "C" {

/// CUDA devices this process sees (0 without a driver).
__attribute__((visibility("default"))) int dojo_gpu_visible_devices() {
  return dojo::collectives::cuda::visible_devices();
}

/// A nccl communicator over `bootstrap`'s ranks, into `out`. Throws what the
/// backend throws (a CollectiveError naming the failed call).
__attribute__((visibility("default"))) void dojo_gpu_make_nccl(Bootstrap* bootstrap,
                                                               const CommunicatorOptions* options,
                                                               std::unique_ptr<Communicator>* out) {
  *out = std::make_unique<dojo::collectives::nccl::NcclCommunicator>(*bootstrap, *options);
}
}
