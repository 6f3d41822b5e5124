// `dojo launch` (scripts/dojorun) and `dojo exec`, the per-rank shim.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "common/error.h"
#include "orchestrator/cli/build_info.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/launch/launcher.h"

namespace dojo::cli {
namespace {

std::atomic<bool> g_stop{false};
void request_stop(int) {
  g_stop.store(true);
}

int int_arg(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  const long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < 1 || n > 1'000'000) {
    throw UsageError(flag + " expects a positive count, got \"" + value + "\"");
  }
  return static_cast<int>(n);
}

}  // namespace

int run_launch(std::span<const std::string> args_in, Streams& io) {
  std::vector<std::string> args(args_in.begin(), args_in.end());
  launch::LaunchOptions options;
  // Everything after "--" is the command, passed on literally.
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      options.command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      args.resize(i);
      if (options.command.empty())
        throw UsageError("-- needs a command after it");
      break;
    }
  }
  for (const std::string& set : take_set_flags(args))
    options.overrides.push_back(config::parse_override(set));
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size())
        throw UsageError(a + " needs a value");
      return args[++i];
    };
    if (a == "--dry-run") {
      options.dry_run = true;
    } else if (a == "--cluster") {
      options.cluster_file = value();
    } else if (a == "-np" || a == "-n") {
      options.np = int_arg(a, value());
    } else if (a == "-H" || a == "--host") {
      options.hosts = launch::parse_host_list(value());
    } else if (a == "--hostfile") {
      options.hosts = launch::read_hostfile(value());
    } else if (a == "--run-dir") {
      options.run_dir = value();
    } else if (a == "--mpirun") {
      options.mpirun = value();
    } else if (a == "--state-dir") {
      options.state_dir = value();
    } else if (a == "--rsh-agent") {
      options.rsh_agent = value();
    } else if (!a.empty() && a[0] == '-') {
      throw UsageError("unknown flag \"" + a + "\"");
    } else if (!options.job_file) {
      options.job_file = a;
    } else {
      throw UsageError("one job file, please (got \"" + options.job_file->string() + "\" and \"" +
                       a + "\")");
    }
  }
  char self[4096] = {};
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  options.dojo_binary =
      n > 0 ? std::string(self, static_cast<std::size_t>(n)) : std::string("dojo");

  options.version = std::string("dojo ") + kDojoVersion + " (git " + kDojoGitSha + ")";
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM})
    sigaction(sig, &action, nullptr);
  return launch::launch(options, io.out, io.err, &g_stop);
}

// Runs COMMAND with the torchrun environment of this rank: RANK, WORLD_SIZE,
// LOCAL_RANK and LOCAL_WORLD_SIZE from Open MPI's, DOJO_BATCH_SHARE from the
// launcher's DOJO_BATCH_SHARES.
int run_exec(std::span<const std::string> args, Streams& io) {
  std::size_t first = 0;
  if (!args.empty() && args[0] == "--")
    first = 1;
  if (first >= args.size())
    throw UsageError("exec needs -- COMMAND ARGS...");
  const char* pairs[][2] = {{"OMPI_COMM_WORLD_RANK", "RANK"},
                            {"OMPI_COMM_WORLD_SIZE", "WORLD_SIZE"},
                            {"OMPI_COMM_WORLD_LOCAL_RANK", "LOCAL_RANK"},
                            {"OMPI_COMM_WORLD_LOCAL_SIZE", "LOCAL_WORLD_SIZE"}};
  for (const auto& [from, to] : pairs) {
    const char* value = std::getenv(from);
    if (value == nullptr) {
      throw UsageError(std::string("exec runs under mpirun (") + from + " is not set)");
    }
    setenv(to, value, 1);
  }
  if (const char* shares = std::getenv("DOJO_BATCH_SHARES")) {
    const int rank = std::atoi(std::getenv("RANK"));
    std::string list = shares;
    std::size_t start = 0;
    for (int r = 0; r < rank && start != std::string::npos; ++r) {
      start = list.find(',', start);
      if (start != std::string::npos)
        ++start;
    }
    if (start != std::string::npos) {
      setenv("DOJO_BATCH_SHARE", list.substr(start, list.find(',', start) - start).c_str(), 1);
    }
  }
  std::vector<char*> argv;
  for (std::size_t i = first; i < args.size(); ++i)
    argv.push_back(const_cast<char*>(args[i].c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  io.err << "dojo exec: cannot run " << args[first] << ": " << errno_text(errno) << std::endl;
  return 127;
}

}  // namespace dojo::cli
