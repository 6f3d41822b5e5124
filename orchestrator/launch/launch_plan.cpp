#include "orchestrator/launch/launch_plan.h"

#include <unistd.h>

#include <algorithm>
#include <string_view>

#include "common/error.h"
#include "orchestrator/launch/launch_support.h"
#include "orchestrator/launch/slurm.h"

namespace dojo::launch {
namespace {

namespace fs = std::filesystem;

/// How an override's flag starts (config::Override::flag).
constexpr std::string_view kSetFlag = "--set ";

/// Nodes given by -H, --hostfile or a Slurm allocation, typed by the cluster
/// inventory where it knows them.
config::ClusterConfig given_nodes(const std::vector<std::pair<std::string, int>>& hosts,
                                  const LaunchOptions& options, const config::JobConfig& job) {
  config::ClusterConfig known;
  if (options.cluster_file)
    known = config::load_cluster(*options.cluster_file);
  else if (job.cluster)
    known = *job.cluster;
  config::ClusterConfig cluster;
  cluster.name = options.hosts.empty() ? "slurm" : "hosts";
  cluster.catalog = known.catalog;
  cluster.network = known.network;
  for (const auto& [host, slots] : hosts) {
    const config::ClusterNode* node = known.find_node(host);
    cluster.nodes.push_back({host, slots, node != nullptr ? node->accelerator : "",
                             node != nullptr ? node->rack : "default", config::NodeState::kUp});
  }
  return cluster;
}

}  // namespace

/// The job: a file, or the defaults of a bare command (where --set still
/// works); `-- COMMAND` and -np override what the file says.
LoadedJob load_job(const LaunchOptions& options) {
  LoadedJob loaded;
  if (options.job_file) {
    loaded.job = config::load_job(*options.job_file, options.overrides);
    loaded.text = read_text(*options.job_file);
  } else {
    if (options.command.empty())
      throw UsageError("give a job file, or -- COMMAND ARGS...");
    loaded.text = "job:\n  name: " + name_from_command(options.command[0]) +
                  "\n  command: [from-the-command-line]\n  resources: {ranks: " +
                  std::to_string(std::max(options.np, 1)) + "}\n";
    loaded.job = config::load_job_text(loaded.text, fs::current_path() / "(command line)",
                                       options.overrides);
  }
  if (!options.command.empty()) {
    loaded.job.workload.reset();
    loaded.job.command = options.command;
  }
  if (options.np > 0) {
    loaded.job.resources.ranks = options.np;
    loaded.job.resources.h100e.reset();
  }
  return loaded;
}

/// Where the job runs: -H / --hostfile, a Slurm allocation, --cluster, the
/// job's cluster, or this machine alone.
config::ClusterConfig where_to_run(const LaunchOptions& options, const config::JobConfig& job) {
  std::vector<std::pair<std::string, int>> hosts = options.hosts;
  if (hosts.empty()) {
    if (auto allocation = slurm_allocation())
      hosts = std::move(*allocation);
  }
  if (!hosts.empty())
    return given_nodes(hosts, options, job);
  if (options.cluster_file)
    return config::load_cluster(*options.cluster_file);
  if (job.cluster)
    return *job.cluster;
  config::ClusterConfig alone;
  alone.name = "this-machine";
  const int wanted = job.resources.ranks.value_or(1);
  const int cores = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  alone.nodes.push_back(
      {"localhost", std::max(wanted, cores), "", "local", config::NodeState::kUp});
  return alone;
}

/// What every rank runs, through the rank shim (`dojo exec` or dojo-exec),
/// which gives it the torchrun environment.
std::vector<std::string> rank_program(const LaunchOptions& options, const config::JobConfig& job,
                                      const fs::path& run_dir) {
  std::vector<std::string> program =
      options.exec_binary.empty()
          ? std::vector<std::string>{options.dojo_binary.string(), "exec", "--"}
          : std::vector<std::string>{options.exec_binary.string(), "--"};
  if (!job.workload) {
    program.insert(program.end(), job.command.begin(), job.command.end());
    return program;
  }
  if (!options.job_file)
    throw UsageError("a built-in workload needs a job file");
  program.insert(program.end(),
                 {options.dojo_binary.string(), "worker", fs::absolute(*options.job_file).string(),
                  "--run-dir", run_dir.string()});
  for (const config::Override& o : options.overrides) {
    program.push_back("--set");
    program.push_back(o.flag.substr(kSetFlag.size()));  // key.path=value
  }
  return program;
}

}  // namespace dojo::launch
