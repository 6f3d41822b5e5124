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

namespace dojo::launch {

struct LoadedJob {
  config::JobConfig job;
  std::string text;  ///< the document as written (or made up for a bare command)
};

/// The job: a file, or the defaults of a bare command (where --set still
/// works); `-- COMMAND` and -np override what the file says.
LoadedJob load_job(const LaunchOptions& options);

/// Where the job runs: -H / --hostfile, a Slurm allocation, --cluster, the
/// job's cluster, or this machine alone. Given nodes are typed by the cluster
/// inventory where it knows them.
config::ClusterConfig where_to_run(const LaunchOptions& options, const config::JobConfig& job);

/// What every rank runs, through the rank shim (`dojo exec` or dojo-exec),
/// which gives it the torchrun environment.
std::vector<std::string> rank_program(const LaunchOptions& options, const config::JobConfig& job,
                                      const std::filesystem::path& run_dir);

}  // namespace dojo::launch
