#include <filesystem>
#include <ostream>

#include "collectives/gpu_plugin.h"
#include "common/build_info.h"
#include "common/error.h"
#include "common/flags.h"
#include "orchestrator/cli/command.h"

namespace dojo::cli {

int run_version(std::span<const std::string> args, Streams& io) {
  Flags flags("version");
  flags.parse(args);
  io.out << "dojo " << kDojoVersion << " (git " << kDojoGitSha << ")\n";
  if (!kDojoWithCuda) {
    io.out << "gpu: not built (CPU only)\n";
    return kExitOk;
  }
  // Named, not loaded: loading it would map CUDA into a command that needs none.
  const std::string plugin = collectives::gpu_plugin_path();
  io.out << "gpu: CUDA and NCCL in the plugin " << plugin
         << (std::filesystem::exists(plugin) ? "" : " (missing)")
         << ", loaded when a job uses a GPU\n";
  return kExitOk;
}

}  // namespace dojo::cli
