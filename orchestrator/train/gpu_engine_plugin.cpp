// The GPU engine of a build with CUDA: in the GPU plugin (collectives/
// gpu_plugin.h), loaded when a job first asks for workload.device: gpu.
#include "collectives/gpu_plugin.h"
#include "orchestrator/train/engine.h"

namespace dojo::train {
namespace {

using MakeEngine = void (*)(const MlpShape*, std::uint64_t, const config::OptimizerConfig*,
                            std::int64_t, config::Precision, collectives::Communicator*,
                            std::unique_ptr<Engine>*);

}  // namespace

std::unique_ptr<Engine> make_gpu_engine(const MlpShape& shape, std::uint64_t seed,
                                        const config::OptimizerConfig& optimizer,
                                        std::int64_t total_steps, config::Precision precision,
                                        collectives::Communicator& comm) {
  const auto make =
      reinterpret_cast<MakeEngine>(collectives::gpu_plugin_symbol(collectives::kGpuMakeEngine));
  std::unique_ptr<Engine> engine;
  make(&shape, seed, &optimizer, total_steps, precision, &comm, &engine);
  return engine;
}

}  // namespace dojo::train
