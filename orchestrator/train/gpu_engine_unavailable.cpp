// The GPU engine of a build without CUDA: a clear error instead.
#include "common/error.h"
#include "orchestrator/train/engine.h"

namespace dojo::train {

std::unique_ptr<Engine> make_gpu_engine(const MlpShape&, std::uint64_t,
                                        const config::OptimizerConfig&, std::int64_t,
                                        config::Precision, collectives::Communicator&) {
  throw Error(
      "workload.device gpu needs dojo built with CUDA and NCCL (DOJO_WITH_CUDA); this "
      "build has neither");
}

}  // namespace dojo::train
