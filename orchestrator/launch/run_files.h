#pragma once
// What a launch writes and says about a job, apart from running it: the run
// directory's files, the JSON of its placement for events.jsonl, its H100e in
// words, and the pre-flight check of its nodes.

#include <atomic>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "orchestrator/launch/launch_plan.h"
#include "orchestrator/launch/mpirun_command.h"
#include "orchestrator/launch/placement.h"

namespace dojo::launch {

/// The run directory, its owner's only: hostfile, version, the job as
/// written and as resolved, overrides and config hash.
void write_run_files(const std::filesystem::path& run_dir, const LaunchOptions& options,
                     const LoadedJob& loaded, const Placement& placement);

/// The run directory's `status` (completed, stopped, failed), or "" when it
/// has none.
std::string read_status(const std::filesystem::path& run_dir);
/// The --set overrides, one a line, as overrides.txt holds them.
std::string overrides_text(const LaunchOptions& options);
/// The hash of the job as written and its overrides (config_hash's content).
std::string run_config_hash(const LaunchOptions& options, const LoadedJob& loaded);
/// The run directory's config_hash, or "" when it has none.
std::string read_config_hash(const std::filesystem::path& run_dir);

/// [{"host", "slots"}, ...] of a placement.
nlohmann::ordered_json hosts_json(const Placement& placement);
/// Shares as [[count, share], ...] runs: a line of events.jsonl stays short
/// at 85,000 ranks.
nlohmann::ordered_json shares_json(const std::vector<int>& shares);
/// "17.261 H100e", or why it is not counted (untyped nodes).
std::string h100e_text(const Placement& placement);
/// "SIGUSR1".
std::string signal_name(int sig);

/// Runs the pre-flight command on each node of `placement` in turn (one rank
/// through mpirun, `base`'s network settings); the first node that fails it,
/// with why, or an empty host when every node passed.
struct PreflightFailure {
  std::string host;
  std::string reason;
};
PreflightFailure first_failing_node(const Placement& placement, const MpirunSpec& base,
                                    const std::vector<std::string>& command,
                                    const std::filesystem::path& run_dir,
                                    const std::atomic<bool>* stop_requested);

}  // namespace dojo::launch
