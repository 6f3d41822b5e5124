// `dojo launch` (scripts/dojorun uses the lean dojo-launch, the same code)
// and `dojo exec`, the per-rank shim.
#include <iostream>
#include <string>

#include "common/build_info.h"
#include "common/error.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/launch/launcher.h"
#include "orchestrator/launch/rank_env.h"
#include "orchestrator/launch/slurm_submit.h"

namespace dojo::cli {

int run_launch(std::span<const std::string> args, Streams& io) {
  const std::string version = std::string("dojo ") + kDojoVersion + " (git " + kDojoGitSha + ")";
  return launch::launch_main(std::vector<std::string>(args.begin(), args.end()), version, io.out,
                             io.err);
}

int run_submit(std::span<const std::string> args, Streams& io) {
  return launch::submit_main(std::vector<std::string>(args.begin(), args.end()), io.out, io.err);
}

int run_slurm(std::span<const std::string> args, Streams& io) {
  return launch::slurm_main(std::vector<std::string>(args.begin(), args.end()), io.out);
}

int run_exec(std::span<const std::string> args, Streams& io) {
  std::vector<std::string> command(args.begin(), args.end());
  if (!command.empty() && command.front() == "--")
    command.erase(command.begin());
  std::string error;
  const int code = launch::exec_with_rank_env(command, error);
  if (code == 2)
    throw UsageError(error);
  io.err << "dojo exec: " << error << std::endl;
  return code;
}

}  // namespace dojo::cli
