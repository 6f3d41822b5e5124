// The training half of the GPU plugin's entry points (collectives/gpu_plugin.h).
#include <memory>

#include "orchestrator/train/engine.h"

extern "C" {

/// The GPU engine (make_gpu_engine), into `out`.
__attribute__((visibility("default"))) void dojo_gpu_make_engine(
    const dojo::train::MlpShape* shape, std::uint64_t seed,
    const dojo::config::OptimizerConfig* optimizer, std::int64_t total_steps,
    dojo::config::Precision precision, dojo::collectives::Communicator* comm,
    std::unique_ptr<dojo::train::Engine>* out) {
  *out = dojo::train::make_gpu_engine(*shape, seed, *optimizer, total_steps, precision, *comm);
}
}
