#include "orchestrator/launch/slurm_submit.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <ostream>
#include <set>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "common/flags.h"
#include "common/subprocess.h"
#include "orchestrator/launch/launch_error.h"
#include "orchestrator/launch/mpirun_command.h"
#include "orchestrator/launch/placement.h"
#include "orchestrator/launch/slurm_hostlist.h"

namespace dojo::launch {
namespace {

namespace fs = std::filesystem;

/// How long sbatch may take to answer.
constexpr double kSbatchSeconds = 60;
constexpr int kSecondsPerMinute = 60;

std::string fixed3(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f", value);
  return text;
}

/// Slurm's GRES name for an accelerator kind; "" for CPU nodes (no GRES).
std::string gres_name(config::AcceleratorKind kind) {
  switch (kind) {
    case config::AcceleratorKind::kGpu:
      return "gpu";
    case config::AcceleratorKind::kDojo:
      return "dojo";
    case config::AcceleratorKind::kCpu:
      return "";
  }
  return "";
}

/// The nodes and tasks a job asks Slurm for, from its placement on the inventory.
struct SlurmShape {
  int nodes = 0;
  int ranks = 0;
  int tasks_per_node = 0;  ///< 0: uneven, give --ntasks
  int gpus_per_node = 0;
  std::string gres;                  ///< "gpu" or "dojo" when the nodes have accelerators
  std::vector<std::string> exclude;  ///< inventory nodes not up
};

SlurmShape shape_of(const config::JobConfig& job,
                    const std::optional<config::ClusterConfig>& cluster) {
  SlurmShape shape;
  PlacementRequest request;
  request.ranks = job.resources.ranks.value_or(0);
  request.h100e = job.resources.h100e.value_or(0);
  request.ranks_per_node = job.resources.ranks_per_node.value_or(0);
  if (!cluster) {
    if (request.h100e > 0)
      throw UsageError("job " + job.name +
                       " asks for H100e: give --cluster C.yaml (or job.cluster) "
                       "so that dojo submit can count nodes by their accelerators");
    shape.ranks = request.ranks;
    shape.tasks_per_node = request.ranks_per_node;
    if (shape.tasks_per_node > 0)
      shape.nodes = (shape.ranks + shape.tasks_per_node - 1) / shape.tasks_per_node;
    return shape;
  }
  const Placement p = place(*cluster, request, {});
  shape.nodes = static_cast<int>(p.hosts.size());
  shape.ranks = p.ranks;
  const bool even = std::all_of(p.hosts.begin(), p.hosts.end(), [&](const HostAllocation& h) {
    return h.slots == p.hosts.front().slots;
  });
  shape.tasks_per_node = even ? p.hosts.front().slots : 0;
  const bool one_type = std::all_of(p.hosts.begin(), p.hosts.end(), [&](const HostAllocation& h) {
    return h.accelerator == p.hosts.front().accelerator;
  });
  const config::Accelerator* a = cluster->catalog.find(p.hosts.front().accelerator);
  if (a != nullptr && a->kind != config::AcceleratorKind::kCpu && even && one_type) {
    shape.gres = gres_name(a->kind);
    shape.gpus_per_node = shape.tasks_per_node;
  }
  for (const config::ClusterNode& node : cluster->nodes) {
    if (node.state != config::NodeState::kUp)
      shape.exclude.push_back(node.host);
  }
  return shape;
}

/// Slurm's --time: minutes, rounded up.
std::string slurm_time(double seconds) {
  const long minutes = static_cast<long>(std::ceil(seconds / kSecondsPerMinute));
  return std::to_string(std::max(1L, minutes));
}

}  // namespace

std::string sbatch_script(const SubmitOptions& options, const config::JobConfig& job) {
  std::optional<config::ClusterConfig> cluster = job.cluster;
  if (options.cluster_file)
    cluster = config::load_cluster(*options.cluster_file);
  const SlurmShape shape = shape_of(job, cluster);
  std::vector<std::string> exclude = shape.exclude;
  exclude.insert(exclude.end(), options.exclude.begin(), options.exclude.end());
  std::sort(exclude.begin(), exclude.end());
  exclude.erase(std::unique(exclude.begin(), exclude.end()), exclude.end());

  std::string s = "#!/bin/bash\n# Written by `dojo submit` for job " + job.name +
                  ".\n# A requeued job resumes from its newest checkpoint in the run directory;\n"
                  "# attempt numbers and logs continue there.\n";
  auto directive = [&](const std::string& text) { s += "#SBATCH " + text + "\n"; };
  directive("--job-name=" + job.name);
  if (shape.nodes > 0)
    directive("--nodes=" + std::to_string(shape.nodes));
  if (shape.tasks_per_node > 0 && shape.nodes > 0 &&
      shape.tasks_per_node * shape.nodes == shape.ranks) {
    directive("--ntasks-per-node=" + std::to_string(shape.tasks_per_node));
  } else {
    directive("--ntasks=" + std::to_string(shape.ranks));
  }
  if (shape.gpus_per_node > 0) {
    directive(shape.gres == "gpu"
                  ? "--gpus-per-node=" + std::to_string(shape.gpus_per_node)
                  : "--gres=" + shape.gres + ":" + std::to_string(shape.gpus_per_node));
  }
  if (!job.slurm.constraint.empty())
    directive("--constraint=" +
              job.slurm.constraint);  // features as `dojo slurm nodes` declares them
  if (job.wall_time_s > 0)
    directive("--time=" + slurm_time(job.wall_time_s));
  if (job.slurm.requeue)
    directive("--requeue");
  directive("--signal=B:USR1@" + std::to_string(job.slurm.signal_lead_s));
  directive("--output=" + (options.run_dir / "slurm-%j.out").string());
  directive("--open-mode=append");
  if (!job.slurm.partition.empty())
    directive("--partition=" + job.slurm.partition);
  if (!job.slurm.account.empty())
    directive("--account=" + job.slurm.account);
  if (!job.slurm.qos.empty())
    directive("--qos=" + job.slurm.qos);
  if (!exclude.empty())
    directive("--exclude=" + compress_slurm_hostlist(exclude));

  std::vector<std::string> command = {options.dojorun.string(),
                                      fs::absolute(options.job_file).string(), "--run-dir",
                                      options.run_dir.string()};
  if (options.cluster_file) {
    command.push_back("--cluster");
    command.push_back(fs::absolute(*options.cluster_file).string());
  }
  for (const config::Override& o : options.overrides) {
    command.push_back("--set");
    command.push_back(o.flag.substr(o.flag.find(' ') + 1));
  }
  s += "\nexport DOJO_BIN_DIR=" + shell_words({options.bin_dir.string()}) + "\n";
  s += "# dojorun becomes the batch step: Slurm's signals reach it, and its exit code is the "
       "job's.\n";
  s += "exec " + shell_words(command) + "\n";
  return s;
}

int submit_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  SubmitOptions options;
  std::vector<std::string> positionals, sets, exclude;
  std::string run_dir;
  Flags flags("submit");
  flags.positionals("JOB", positionals);
  flags.flag("--dry-run", options.dry_run);
  flags.list("--set", sets);
  flags.list("--exclude", exclude);
  flags.value("--cluster", [&](const std::string& v) { options.cluster_file = v; });
  flags.text("--run-dir", run_dir);
  flags.text("--sbatch", options.sbatch);
  flags.parse(args);
  if (positionals.size() != 1)
    throw UsageError("give one job file");
  options.job_file = positionals[0];
  for (const std::string& set : sets)
    options.overrides.push_back(config::parse_override(set));
  for (const std::string& list : exclude) {
    for (const std::string& host : expand_slurm_hostlist(list))
      options.exclude.push_back(host);
  }
  const config::JobConfig job = config::load_job(options.job_file, options.overrides);
  options.run_dir = fs::absolute(run_dir.empty() ? fs::path("runs") / job.name : fs::path(run_dir))
                        .lexically_normal();
  char self[4096] = {};
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  options.bin_dir = n > 0 ? fs::path(std::string(self, static_cast<std::size_t>(n))).parent_path()
                          : fs::current_path();
  const fs::path dojorun = options.bin_dir / ".." / ".." / "scripts" / "dojorun";
  options.dojorun =
      fs::exists(dojorun) ? fs::weakly_canonical(dojorun) : options.bin_dir / "dojo-launch";
  const std::string script = sbatch_script(options, job);
  if (options.dry_run) {
    out << script;
    return kExitOk;
  }
  fs::create_directories(options.run_dir);
  const fs::path file = options.run_dir / "submit.sbatch";
  write_file_atomically(file.string(), script);
  const ProcessResult r =
      run_process({options.sbatch, "--parsable", file.string()}, kSbatchSeconds);
  if (!r.started || r.timed_out || r.exit_code != 0) {
    throw LaunchError("sbatch refused " + file.string() + ": " +
                      (r.timed_out ? std::string("no answer within 60 s") : r.output));
  }
  const std::string id = r.output.substr(0, r.output.find_first_of(";\r\n"));
  out << "dojo submit: job " << job.name << " is Slurm job " << id << "; run directory "
      << options.run_dir.string() << " (script " << file.string() << ")\n";
  (void)err;
  return kExitOk;
}

std::string slurm_billing(const config::ClusterConfig& cluster) {
  // The accelerator types this cluster has, and their nodes.
  std::map<std::string, std::vector<std::string>> nodes_of;
  for (const config::ClusterNode& node : cluster.nodes)
    nodes_of[node.accelerator].push_back(node.host);
  std::string s = "# Slurm's billing in H100-equivalents for cluster " + cluster.name +
                  ", from the accelerator catalog\n#   " + cluster.catalog.source.string() +
                  "\n# One GPU (GRES) of each type bills its H100e factor; a CPU node bills its\n"
                  "# factor per CPU. Job billing, fair-share and TRES limits on `billing` then\n"
                  "# count H100e. Put these in slurm.conf.\n";
  std::vector<std::string> tres, gres_weights;
  for (const auto& [name, hosts] : nodes_of) {
    const config::Accelerator* a = cluster.catalog.find(name);
    if (a == nullptr)
      continue;
    const std::string gres = gres_name(a->kind);
    if (!gres.empty()) {
      tres.push_back("gres/" + gres + ":" + name);
      gres_weights.push_back("GRES/" + gres + ":" + name + "=" + fixed3(a->h100e()));
    }
  }
  s += "GresTypes=gpu,dojo\n";
  std::string tres_line = "AccountingStorageTRES=gres/gpu,gres/dojo";
  for (const std::string& t : tres)
    tres_line += "," + t;
  s += tres_line + "\n\n# One partition per accelerator type:\n";
  for (const auto& [name, hosts] : nodes_of) {
    const config::Accelerator* a = cluster.catalog.find(name);
    if (a == nullptr)
      continue;
    const std::string gres = gres_name(a->kind);
    const std::string weights = gres.empty()
                                    ? "CPU=" + fixed3(a->h100e())
                                    : "CPU=0,GRES/" + gres + ":" + name + "=" + fixed3(a->h100e());
    s += "PartitionName=" + cluster.name + "-" + name + " Nodes=" + compress_slurm_hostlist(hosts) +
         " TRESBillingWeights=\"" + weights + "\"\n";
  }
  if (!gres_weights.empty()) {
    std::string all;
    for (const std::string& w : gres_weights)
      all += "," + w;
    s += "\n# Or one partition of every accelerator node (CPUs of GPU jobs bill nothing):\n"
         "PartitionName=" +
         cluster.name + " Nodes=ALL TRESBillingWeights=\"CPU=0" + all + "\"\n";
  }
  return s;
}

std::string slurm_nodes(const config::ClusterConfig& cluster) {
  // Runs of alike nodes (accelerator, slots, rack, state) share one NodeName line.
  std::vector<std::pair<std::string, std::vector<std::string>>> lines;
  for (const config::ClusterNode& node : cluster.nodes) {
    const config::Accelerator* a = cluster.catalog.find(node.accelerator);
    const std::string gres = a != nullptr ? gres_name(a->kind) : "";
    std::string attributes =
        gres.empty() ? " CPUs=" + std::to_string(node.slots)
                     : " Gres=" + gres + ":" + node.accelerator + ":" + std::to_string(node.slots);
    attributes += " Feature=" + node.accelerator + "," + node.rack;
    attributes += node.state == config::NodeState::kUp ? " State=UNKNOWN"
                  : node.state == config::NodeState::kDrained
                      ? " State=DRAIN Reason=\"drained in the dojo inventory\""
                      : " State=DOWN Reason=\"down in the dojo inventory\"";
    if (lines.empty() || lines.back().first != attributes)
      lines.push_back({attributes, {}});
    lines.back().second.push_back(node.host);
  }
  std::string s = "# NodeName lines for cluster " + cluster.name +
                  " from its inventory; CPUs, memory and sockets as\n"
                  "# slurmd -C reports them go beside. Each node's gres.conf names its devices.\n"
                  "GresTypes=gpu,dojo\n";
  for (const auto& [attributes, hosts] : lines)
    s += "NodeName=" + compress_slurm_hostlist(hosts) + attributes + "\n";
  return s;
}

int slurm_main(const std::vector<std::string>& args, std::ostream& out) {
  if (args.empty() || (args[0] != "billing" && args[0] != "nodes"))
    throw UsageError("dojo slurm expects billing or nodes");
  std::string cluster_file;
  Flags flags("slurm " + args[0]);
  flags.text("--cluster", cluster_file);
  flags.parse(std::span<const std::string>(args).subspan(1));
  if (cluster_file.empty())
    throw UsageError("dojo slurm " + args[0] + " needs --cluster C.yaml");
  const config::ClusterConfig cluster = config::load_cluster(cluster_file);
  out << (args[0] == "billing" ? slurm_billing(cluster) : slurm_nodes(cluster));
  return kExitOk;
}

}  // namespace dojo::launch
