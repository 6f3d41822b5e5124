// `dojo launch` (scripts/dojorun uses the lean dojo-launch, the same code)
// and `dojo exec`, the per-rank shim.
#include <ctime>
#include <iomanip>
#include <iostream>
#include <string>

#include "common/build_info.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "common/flags.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/launch/launcher.h"
#include "orchestrator/launch/ledger.h"
#include "orchestrator/launch/node_blacklist.h"
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

/// `dojo nodes [clear HOST]`: the cluster's shared node blacklist.
int run_nodes(std::span<const std::string> args, Streams& io) {
  std::vector<std::string> words;
  std::string state_dir;
  Flags flags("nodes");
  flags.positionals("WORDS", words);
  flags.text("--state-dir", state_dir);
  flags.parse(args);
  launch::NodeBlacklist blacklist(state_dir.empty() ? launch::default_state_dir()
                                                    : std::filesystem::path(state_dir));
  if (words.size() == 2 && words[0] == "clear") {
    if (!blacklist.clear(words[1])) {
      io.err << "dojo nodes: " << words[1] << " is not blacklisted\n";
      return kExitFailure;
    }
    io.out << "dojo nodes: " << words[1] << " cleared: later placements may use it again\n";
    return kExitOk;
  }
  if (!words.empty())
    throw UsageError("dojo nodes expects no argument, or clear HOST");
  const std::vector<launch::BlacklistEntry> entries = blacklist.active();
  if (entries.empty()) {
    io.out << "no node is blacklisted\n";
    return kExitOk;
  }
  const auto now = static_cast<long long>(std::time(nullptr));
  io.out << std::left << std::setw(24) << "HOST" << std::setw(12) << "LEFT_S" << std::setw(14)
         << "CAUSE" << std::setw(20) << "JOB"
         << "REASON\n";
  for (const launch::BlacklistEntry& e : entries) {
    io.out << std::setw(24) << e.host << std::setw(12) << (e.until - now) << std::setw(14)
           << e.cause << std::setw(20) << e.job << e.reason << "\n";
  }
  return kExitOk;
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
