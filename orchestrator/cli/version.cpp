#include <ostream>

#include "common/build_info.h"
#include "common/error.h"
#include "common/flags.h"
#include "orchestrator/cli/command.h"

namespace dojo::cli {

int run_version(std::span<const std::string> args, Streams& io) {
  Flags flags("version");
  flags.parse(args);
  io.out << "dojo " << kDojoVersion << " (git " << kDojoGitSha << ")\n"
         << "gpu: " << (kDojoWithCuda ? "CUDA and NCCL built in" : "not built (CPU only)") << "\n";
  return kExitOk;
}

}  // namespace dojo::cli
