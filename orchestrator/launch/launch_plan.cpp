#include "orchestrator/launch/launch_plan.h"

#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/error.h"
#include "orchestrator/launch/launch_error.h"
#include "orchestrator/launch/launch_support.h"

namespace dojo::launch {
namespace {

namespace fs = std::filesystem;

/// How an override's flag starts (config::Override::flag).
constexpr std::string_view kSetFlag = "--set ";

/// The inventory given nodes are typed by: --cluster, else the job's cluster.
std::optional<config::ClusterConfig> inventory(const LaunchOptions& options,
                                               const config::JobConfig& job) {
  if (options.cluster_file)
    return config::load_cluster(*options.cluster_file);
  return job.cluster;
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& n : names)
    text += (text.empty() ? "" : ", ") + n;
  return text;
}

/// Nodes given by -H, --hostfile or a Slurm allocation, typed by the cluster
/// inventory: its own settings (the NIC) apply only when it lists them all.
/// Allocation nodes it cannot type are refused; given hosts bypass it.
config::ClusterConfig given_nodes(const std::vector<std::pair<std::string, int>>& hosts,
                                  const std::string& source, bool refuse_untyped,
                                  const LaunchOptions& options, const config::JobConfig& job,
                                  std::vector<std::string>& notes) {
  const std::optional<config::ClusterConfig> known = inventory(options, job);
  config::ClusterConfig cluster;
  cluster.name = source;
  std::vector<std::string> unlisted, untyped;
  if (known) {
    cluster.catalog = known->catalog;
    cluster.network = known->network;
    cluster.slurm = known->slurm;
    cluster.device_mtbf_hours = known->device_mtbf_hours;
  }
  for (const auto& [host, slots] : hosts) {
    const config::ClusterNode* node = known ? known->find_node(host) : nullptr;
    if (node != nullptr) {
      cluster.nodes.push_back({host, slots, node->accelerator, node->rack, config::NodeState::kUp});
    } else if (known && known->unlisted_nodes) {
      cluster.nodes.push_back(
          {host, slots, known->unlisted_nodes->accelerator, "unlisted", config::NodeState::kUp});
      unlisted.push_back(host);
    } else {
      cluster.nodes.push_back({host, slots, "", "default", config::NodeState::kUp});
      untyped.push_back(host);
    }
  }
  if (known && refuse_untyped && !untyped.empty()) {
    throw LaunchError("node(s) " + joined(untyped) + " of the " + source +
                      " are not in the cluster inventory " + known->source.string() +
                      ": list them there, or type every unlisted node with `unlisted_nodes: "
                      "{accelerator: NAME}`");
  }
  if (!unlisted.empty() || !untyped.empty()) {
    // The inventory's NIC is a fact about its own nodes only.
    const std::string nic = known && known->unlisted_nodes ? known->unlisted_nodes->interface : "";
    if (known && !known->network.interface.empty() && known->network.interface != nic) {
      unlisted.insert(unlisted.end(), untyped.begin(), untyped.end());
      notes.push_back("the inventory's network interface \"" + known->network.interface +
                      "\" is not used: node(s) " + joined(unlisted) + " are not in it (" +
                      (nic.empty() ? std::string("MPI and NCCL choose a NIC, never loopback")
                                   : "unlisted_nodes.interface: " + nic) +
                      ")");
    }
    cluster.network.interface = nic;
  }
  if (!untyped.empty()) {
    notes.push_back("node(s) " + joined(untyped) +
                    " are not typed by a cluster inventory: their H100e is not counted (give "
                    "--cluster C.yaml listing them)");
  }
  return cluster;
}

}  // namespace

/// The job: a file, or the defaults of a bare command (where --set still
/// works); `-- COMMAND` and -np override what the file says.
LoadedJob load_job(const LaunchOptions& options, const std::optional<SlurmAllocation>& allocation) {
  LoadedJob loaded;
  if (options.job_file) {
    loaded.job = config::load_job(*options.job_file, options.overrides);
    loaded.text = read_text(*options.job_file);
  } else {
    if (options.command.empty())
      throw UsageError("give a job file, or -- COMMAND ARGS...");
    const int ranks = options.np > 0 ? options.np : allocation ? allocation->default_ranks() : 1;
    // The command as a JSON array, which is also a YAML flow sequence with
    // every word quoted.
    loaded.text = "job:\n  name: " + name_from_command(options.command[0]) +
                  "\n  command: " + nlohmann::json(options.command).dump() +
                  "\n  resources: {ranks: " + std::to_string(std::max(ranks, 1)) + "}\n";
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
config::ClusterConfig where_to_run(const LaunchOptions& options, const config::JobConfig& job,
                                   const std::optional<SlurmAllocation>& allocation,
                                   std::vector<std::string>& notes) {
  if (!options.hosts.empty())
    return given_nodes(options.hosts, "given hosts", false, options, job, notes);
  if (allocation) {
    return given_nodes(allocation->nodes, "Slurm allocation " + allocation->job_id, true, options,
                       job, notes);
  }
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
