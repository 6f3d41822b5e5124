#pragma once
// `dojo launch` (scripts/dojorun): place a job, start it through mpirun,
// supervise it and restart it from its checkpoints.

#include <atomic>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/config/loader.h"

namespace dojo::launch {

struct LaunchOptions {
  std::optional<std::filesystem::path> job_file;
  std::optional<std::filesystem::path> cluster_file;  ///< --cluster
  std::vector<config::Override> overrides;            ///< --set
  bool dry_run = false;
  /// Start anew in a run directory whose job completed (the old directory
  /// is kept beside it as DIR.N); without it such a launch runs nothing.
  bool fresh = false;
  int np = 0;                                      ///< -np: overrides resources
  std::vector<std::pair<std::string, int>> hosts;  ///< -H / --hostfile: bypass the inventory
  std::vector<std::string> command;                ///< after --
  std::filesystem::path run_dir;                   ///< default runs/<job name>
  std::filesystem::path dojo_binary;               ///< the dojo the ranks run
  std::filesystem::path exec_binary;               ///< the rank shim: dojo-exec, else "dojo exec"
  std::string mpirun = "mpirun";
  std::string rsh_agent;               ///< --rsh-agent; default ssh
  std::optional<double> stop_grace_s;  ///< --stop-grace; default the job's stop_grace_s
  std::optional<config::SlurmLaunch> slurm_launch;  ///< --slurm-launch; default the job's
  std::string version;                 ///< "dojo X (git SHA)", recorded in the run directory
  std::vector<std::string> preflight;  ///< --preflight: /bin/sh -c LINE on each chosen node first
  std::filesystem::path
      state_dir;  ///< the allocation ledger's directory; default_state_dir() when empty
};

/// A request to stop a running launch: from a signal (SIGTERM, SIGINT,
/// SIGHUP, SIGUSR1), or from the launcher itself when Slurm revokes the
/// allocation. Written by signal handlers: lock-free atomics only.
struct StopRequest {
  std::atomic<bool> requested{false};
  std::atomic<int> signal{0};  ///< the signal that asked; 0 when none did
};

/// Exit codes: 0 the job completed; 1 it failed (restarts exhausted, or wall
/// time); 3 it was stopped on request (a checkpoint saved); throws
/// ConfigError or UsageError (exit 2) and LaunchError (exit 1) before it starts.
int launch(const LaunchOptions& options, std::ostream& out, std::ostream& err, StopRequest* stop);

/// Parses the command line of `dojo launch` / dojo-launch (everything after
/// `--` is the command, passed on literally). Throws UsageError.
LaunchOptions parse_launch_args(std::vector<std::string> args);

/// The usage of `dojo launch`, which scripts/dojorun shares.
extern const char* const kLaunchUsage;

/// The whole of `dojo launch`: `--help` or `-h` (before `--`) prints the usage
/// to `out` and returns 0; otherwise parses `args`, stops the job cleanly on
/// SIGINT, SIGTERM, SIGHUP and SIGUSR1, finds the dojo binaries next to this executable, and
/// launches. Throws ConfigError and UsageError (exit 2) and dojo::Error (exit 1).
int launch_main(const std::vector<std::string>& args, const std::string& version, std::ostream& out,
                std::ostream& err);

/// Parses an OpenMPI hostfile ("host slots=N", comments, blank lines).
std::vector<std::pair<std::string, int>> read_hostfile(const std::filesystem::path& path);
/// Parses -H "host:slots,host,..." (slots default 1).
std::vector<std::pair<std::string, int>> parse_host_list(const std::string& list);

}  // namespace dojo::launch
