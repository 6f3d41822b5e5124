#include "orchestrator/launch/run_files.h"

#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/atomic_file.h"
#include "common/batch_shares.h"
#include "orchestrator/launch/launch_support.h"
#include "orchestrator/launch/supervisor.h"

namespace dojo::launch {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

/// How long a node's pre-flight check may take.
constexpr double kPreflightWallSeconds = 60;

}  // namespace

void write_run_files(const fs::path& run_dir, const LaunchOptions& options, const LoadedJob& loaded,
                     const Placement& placement) {
  fs::create_directories(run_dir);
  fs::permissions(run_dir, fs::perms::owner_all, fs::perm_options::replace);
  write_file_atomically((run_dir / "hostfile").string(), placement.hostfile());
  write_file_atomically((run_dir / "version").string(), options.version + "\n");
  write_file_atomically((run_dir / "job.yaml").string(), loaded.text);
  std::string resolved =
      options.job_file ? config::resolved_yaml(*options.job_file, options.overrides)
                       : config::resolved_yaml_text(
                             loaded.text, fs::current_path() / "(command line)", options.overrides);
  if (options.job_file && !options.command.empty()) {
    resolved += "# the command line replaced the job's command or workload with: " +
                nlohmann::json(options.command).dump() + "\n";
  }
  write_file_atomically((run_dir / "config.resolved.yaml").string(), resolved);
  write_file_atomically((run_dir / "overrides.txt").string(), overrides_text(options));
  write_file_atomically((run_dir / "config_hash").string(),
                        run_config_hash(options, loaded) + "\n");
}

std::string overrides_text(const LaunchOptions& options) {
  std::string sets;
  for (const config::Override& o : options.overrides)
    sets += o.flag + "\n";
  return sets;
}

std::string run_config_hash(const LaunchOptions& options, const LoadedJob& loaded) {
  return config_hash(loaded.text + overrides_text(options));
}

std::string read_config_hash(const fs::path& run_dir) {
  std::ifstream in(run_dir / "config_hash");
  std::string hash;
  in >> hash;
  return hash;
}

json hosts_json(const Placement& placement) {
  json hosts = json::array();
  for (const HostAllocation& h : placement.hosts)
    hosts.push_back({{"host", h.host}, {"slots", h.slots}});
  return hosts;
}

json shares_json(const std::vector<int>& shares) {
  json runs = json::array();
  for (const auto& [count, share] : share_runs(shares))
    runs.push_back({count, share});
  return runs;
}

std::string h100e_text(const Placement& placement) {
  const std::vector<std::string> untyped = placement.untyped_hosts();
  if (!untyped.empty()) {
    return "H100e not counted (no accelerator type for " + untyped.front() +
           (untyped.size() > 1 ? " and " + std::to_string(untyped.size() - 1) + " more" : "") + ")";
  }
  std::ostringstream text;
  text << std::fixed << std::setprecision(3) << placement.h100e << " H100e";
  return text.str();
}

std::string read_status(const fs::path& run_dir) {
  std::ifstream in(run_dir / "status");
  std::string status;
  in >> status;
  return status;
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

PreflightFailure first_failing_node(const Placement& placement, const MpirunSpec& base,
                                    const std::vector<std::string>& command,
                                    const fs::path& run_dir,
                                    const std::atomic<bool>* stop_requested) {
  for (const HostAllocation& h : placement.hosts) {
    MpirunSpec check = base;
    check.hostfile = run_dir / "preflight-hostfile";
    write_file_atomically(check.hostfile.string(), h.host + " slots=1\n");
    check.ranks = 1;
    check.env = {{"DOJO_PREFLIGHT_HOST", h.host}};
    check.program = command;
    AttemptOptions a;
    a.argv = mpirun_argv(check);
    a.log = run_dir / ("preflight-" + h.host + ".log");
    a.echo = false;
    a.rank_hosts = {h.host};
    a.wall_deadline_s = kPreflightWallSeconds;
    a.stop_requested = stop_requested;
    const AttemptResult r = run_attempt(a);
    if (r.outcome != AttemptResult::Outcome::kCompleted)
      return {h.host, r.reason};
  }
  return {};
}

}  // namespace dojo::launch
