#pragma once
// The GPU parts of dojo (the nccl backend and the GPU training engine) live
// in a plugin, libdojo-gpu.so, that is loaded on first use, as NCCL loads its
// own plugins: commands and ranks that never touch a GPU never map CUDA,
// cuBLAS or NCCL. The plugin is self-contained (it carries its own copy of
// the collectives core it needs) and is reached through a few C entry points
// only, named below.

#include <string>

namespace dojo::collectives {

/// The plugin's file name.
inline constexpr const char* kGpuPluginFile = "libdojo-gpu.so";

/// Entry points of the plugin (extern "C"; see backends/nccl/plugin_entry.cpp
/// and orchestrator/train/gpu/plugin_entry.cpp).
inline constexpr const char* kGpuVisibleDevices = "dojo_gpu_visible_devices";
inline constexpr const char* kGpuMakeNccl = "dojo_gpu_make_nccl";
inline constexpr const char* kGpuMakeEngine = "dojo_gpu_make_engine";

/// Where the plugin is looked for: DOJO_GPU_PLUGIN when set, else
/// lib/libdojo-gpu.so beside the running program's bin/ directory.
std::string gpu_plugin_path();

/// The address of `symbol` in the plugin, loading the plugin on first use.
/// Throws dojo::Error naming the file and why it could not be loaded (not
/// built, a CUDA library missing) or the symbol that is not in it.
void* gpu_plugin_symbol(const char* symbol);

/// Whether the plugin loads (loading it if it does); never throws.
bool gpu_plugin_loads();

}  // namespace dojo::collectives
