#include "orchestrator/launch/slurm.h"

#include <cstdlib>
#include <numeric>

#include "common/error.h"
#include "common/numbers.h"
#include "common/subprocess.h"
#include "orchestrator/launch/slurm_hostlist.h"

namespace dojo::launch {
namespace {

/// How long squeue and scontrol may take before the answer is "unknown".
constexpr double kSlurmCommandSeconds = 10;

std::string env_text(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

int env_count(const char* name) {
  const std::string text = env_text(name);
  if (text.empty())
    return 0;
  const std::optional<std::int64_t> n = parse_integer(text);
  if (!n || *n < 0 || *n > 1'000'000)
    throw UsageError(std::string(name) + "=\"" + text + "\" is not a count");
  return static_cast<int>(*n);
}

}  // namespace

int parse_gpu_count(const std::string& text) {
  if (text.empty())
    return 0;
  // "8", "h100:8", "gpu:h100:8"; Slurm writes a list per type as "h100:4,a100:4".
  int total = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    const std::string item = text.substr(start, end - start);
    const std::size_t colon = item.rfind(':');
    const std::optional<std::int64_t> n =
        parse_integer(colon == std::string::npos ? item : item.substr(colon + 1));
    if (!n || *n < 0 || *n > 1024)
      throw UsageError("cannot read a GPU count from \"" + text + "\"");
    total += static_cast<int>(*n);
    start = end + 1;
  }
  return total;
}

int SlurmAllocation::slots() const {
  return std::accumulate(nodes.begin(), nodes.end(), 0,
                         [](int sum, const auto& node) { return sum + node.second; });
}

int SlurmAllocation::default_ranks() const {
  if (gpus_per_node > 0 || ntasks == 0)
    return slots();
  return ntasks;
}

std::string SlurmAllocation::describe() const {
  std::string text = "Slurm job " + job_id + " grants " + std::to_string(slots()) +
                     (gpus_per_node > 0 ? " GPU slots" : " tasks") + " on " +
                     std::to_string(nodes.size()) + (nodes.size() == 1 ? " node" : " nodes") +
                     " (SLURM_JOB_NODELIST=" + nodelist;
  if (ntasks > 0)
    text += ", SLURM_NTASKS=" + std::to_string(ntasks);
  if (!tasks_per_node.empty())
    text += ", SLURM_TASKS_PER_NODE=" + tasks_per_node;
  if (gpus_per_node > 0)
    text += ", " + std::to_string(gpus_per_node) + " GPUs per node";
  return text + ")";
}

std::optional<SlurmAllocation> slurm_allocation() {
  SlurmAllocation a;
  a.nodelist = env_text("SLURM_JOB_NODELIST");
  if (a.nodelist.empty())
    a.nodelist = env_text("SLURM_NODELIST");
  if (a.nodelist.empty())
    return std::nullopt;
  a.job_id = env_text("SLURM_JOB_ID");
  if (a.job_id.empty())
    a.job_id = env_text("SLURM_JOBID");
  const std::vector<std::string> hosts = expand_slurm_hostlist(a.nodelist);
  std::vector<int> slots(hosts.size(), 1);
  a.tasks_per_node = env_text("SLURM_TASKS_PER_NODE");
  if (!a.tasks_per_node.empty()) {
    const std::vector<int> counts = expand_tasks_per_node(a.tasks_per_node);
    if (counts.size() != hosts.size()) {
      throw UsageError("SLURM_TASKS_PER_NODE (\"" + a.tasks_per_node + "\") does not match the " +
                       std::to_string(hosts.size()) + " nodes of SLURM_JOB_NODELIST");
    }
    slots = counts;
  }
  a.ntasks = env_count("SLURM_NTASKS");
  if (a.ntasks == 0)
    a.ntasks = env_count("SLURM_NPROCS");
  a.gpus_per_node = parse_gpu_count(env_text("SLURM_GPUS_PER_NODE"));
  if (a.gpus_per_node == 0)
    a.gpus_per_node = parse_gpu_count(env_text("SLURM_GPUS_ON_NODE"));
  a.restart_count = env_count("SLURM_RESTART_COUNT");
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    a.nodes.emplace_back(hosts[i], a.gpus_per_node > 0 ? a.gpus_per_node : slots[i]);
    a.slots_beyond_tasks = a.slots_beyond_tasks || a.nodes.back().second > slots[i];
  }
  return a;
}

SlurmJobState slurm_job_state(const std::string& job_id) {
  SlurmJobState s;
  if (job_id.empty())
    return s;
  const ProcessResult r =
      run_process({"squeue", "--noheader", "--states=all", "--format=%T", "--jobs=" + job_id},
                  kSlurmCommandSeconds);
  if (!r.started || r.timed_out)
    return s;
  std::string word = r.output.substr(0, r.output.find_first_of("\r\n"));
  if (r.exit_code != 0) {
    // squeue says "Invalid job id specified" once the job is gone from
    // slurmctld; anything else (the controller unreachable) is not an answer.
    if (r.output.find("Invalid job id") == std::string::npos)
      return s;
    word = "GONE";
  } else if (word.empty()) {
    word = "GONE";
  }
  s.known = true;
  s.state = word;
  s.alive = word == "RUNNING" || word == "COMPLETING" || word == "SUSPENDED" ||
            word == "CONFIGURING" || word == "STAGE_OUT";
  return s;
}

std::string drain_slurm_node(const std::string& host, const std::string& reason) {
  const ProcessResult r =
      run_process({"scontrol", "update", "NodeName=" + host, "State=DRAIN", "Reason=" + reason},
                  kSlurmCommandSeconds);
  if (r.started && !r.timed_out && r.exit_code == 0)
    return "";
  if (r.timed_out)
    return "scontrol did not answer within 10 s";
  return r.output.empty() ? "scontrol exited with code " + std::to_string(r.exit_code) : r.output;
}

}  // namespace dojo::launch
