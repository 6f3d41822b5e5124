#pragma once
// What a launch runs where, before anything starts: the job (a file or a bare
// command, with -np and -- COMMAND applied), the nodes it may use (-H,
// --hostfile, a Slurm allocation, --cluster, the job's cluster, or this
// machine alone) and the program each rank runs.

#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/config/loader.h"
#include "orchestrator/launch/launcher.h"
#include "orchestrator/launch/slurm.h"

namespace dojo::launch {

struct LoadedJob {
  config::JobConfig job;
  std::string text;  ///< the document as written (or made up for a bare command)
};

/// The job: a file, or the defaults of a bare command (where --set still
/// works); `-- COMMAND` and -np override what the file says. A bare command
/// inside a Slurm allocation runs the allocation's ranks unless -np says.
LoadedJob load_job(const LaunchOptions& options, const std::optional<SlurmAllocation>& allocation);

/// Where the job runs: -H / --hostfile, a Slurm allocation, --cluster, the
/// job's cluster, or this machine alone. Given nodes are typed by the cluster
/// inventory where it lists them, else by its `unlisted_nodes`; a node it
/// does not type is refused by name. Without an inventory nodes are untyped
/// (their H100e is not counted). What the caller should be told goes to `notes`.
config::ClusterConfig where_to_run(const LaunchOptions& options, const config::JobConfig& job,
                                   const std::optional<SlurmAllocation>& allocation,
                                   std::vector<std::string>& notes);

/// What every rank runs, through the rank shim (`dojo exec` or dojo-exec),
/// which gives it the torchrun environment.
std::vector<std::string> rank_program(const LaunchOptions& options, const config::JobConfig& job,
                                      const std::filesystem::path& run_dir);

}  // namespace dojo::launch
