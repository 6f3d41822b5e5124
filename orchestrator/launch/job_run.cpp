#include "orchestrator/launch/job_run.h"

#include <unistd.h>

#include <ctime>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/atomic_file.h"
#include "common/batch_shares.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "orchestrator/launch/launch_error.h"
#include "orchestrator/launch/run_files.h"

namespace dojo::launch {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

/// The global batch a command job's shares split (DOJO_BATCH_SHARE), when
/// the job has no built-in workload to say.
constexpr int kCommandGlobalBatch = 256;
/// The rendezvous port on a remote rank 0 (torchrun's default); a local job
/// gets a free port instead.
constexpr int kRemoteMasterPort = 29500;

}  // namespace

JobRun::JobRun(const LaunchOptions& options, std::ostream& out, std::ostream& err,
               StopRequest* stop)
    : options_(options),
      out_(out),
      err_(err),
      stop_(stop != nullptr ? stop : &own_stop_),
      allocation_(options.hosts.empty() ? slurm_allocation() : std::nullopt),
      loaded_(load_job(options, allocation_)),
      job_(loaded_.job),
      cluster_(where_to_run(options, job_, allocation_, notes_)),
      state_dir_(options.state_dir.empty() ? default_state_dir() : options.state_dir),
      ledger_(state_dir_),
      // Inside Slurm the booking is the Slurm job's: a relaunch in the same
      // allocation (a killed launcher's successor) takes it over.
      job_id_(allocation_ ? "slurm-" + allocation_->job_id
                          : job_.name + "@" + this_host() + ":" + std::to_string(::getpid())),
      run_dir_(
          fs::absolute(options.run_dir.empty() ? fs::path("runs") / job_.name : options.run_dir)),
      stop_grace_s_(options.stop_grace_s.value_or(job_.stop_grace_s)),
      srun_(allocation_ &&
            options.slurm_launch.value_or(job_.slurm.launch) == config::SlurmLaunch::kSrun) {
  request_.ranks = job_.resources.ranks.value_or(0);
  request_.h100e = job_.resources.h100e.value_or(0);
  request_.ranks_per_node = job_.resources.ranks_per_node.value_or(0);
  if (options.slurm_launch == config::SlurmLaunch::kSrun && !allocation_)
    throw UsageError("--slurm-launch srun runs inside a Slurm allocation (salloc or sbatch)");
  if (allocation_ && request_.ranks > allocation_->slots()) {
    throw LaunchError("job " + job_.name + " asks for " + std::to_string(request_.ranks) +
                      " ranks, but " + allocation_->describe() + ": ask Slurm for more (-n " +
                      std::to_string(request_.ranks) + ") or run fewer ranks (-np " +
                      std::to_string(allocation_->slots()) + ")");
  }
  for (const std::string& note : notes_)
    err_ << "dojo launch: note: " << note << "\n";
  if (allocation_)
    watch_ = std::make_unique<AllocationWatch>(allocation_->job_id);
  if (!allocation_ && options.hosts.empty() && !cluster_.source.empty() &&
      cluster_.blacklist_cooldown_s > 0) {
    shared_blacklist_ = std::make_unique<NodeBlacklist>(state_dir_);
    for (const BlacklistEntry& e : shared_blacklist_->active()) {
      if (cluster_.find_node(e.host) == nullptr)
        continue;
      err_ << "dojo launch: note: node " << e.host << " is blacklisted for another "
           << (e.until - static_cast<long long>(std::time(nullptr))) << " s (" << e.cause
           << " in job " << e.job << "); `dojo nodes clear " << e.host
           << "` returns it to service\n";
    }
  }
}

JobRun::~JobRun() {
  if (!booked_)
    return;
  try {
    ledger_.release(job_id_);
  } catch (...) {  // a destructor reports nothing; the lease runs out
  }
}

int JobRun::run() {
  if (options_.dry_run)
    return dry_run();
  if (job_.workload && options_.fresh)
    set_aside_run_directory();
  if (job_.workload && read_status(run_dir_) == "completed" &&
      read_config_hash(run_dir_) == run_config_hash(options_, loaded_)) {
    // The same job again resumes from its final checkpoint: it would run no
    // step and replace the summary of the run that did the work. (Changed,
    // say with more steps, it continues from that checkpoint.)
    out_ << "dojo launch: job " << job_.name << " already completed in " << run_dir_.string()
         << "; nothing to run, its summary.json is kept (--fresh starts it anew)\n";
    return kExitOk;
  }
  placement_ = book();
  booked_ = true;
  adopt(placement_);
  prepare_run_directory();
  start_heartbeats();
  start_metrics();
  preflight();
  return attempts();
}

void JobRun::set_aside_run_directory() {
  if (!fs::exists(run_dir_))
    return;
  fs::path aside;
  for (int n = 1;; ++n) {
    aside = run_dir_.string() + "." + std::to_string(n);
    if (!fs::exists(aside))
      break;
  }
  fs::rename(run_dir_, aside);
  out_ << "dojo launch: --fresh: the earlier run of " << job_.name << " is kept in "
       << aside.string() << "\n";
}

Placement JobRun::place_avoiding(const Unavailable& held) const {
  Unavailable u = held;
  u.blacklisted.insert(blacklist_.begin(), blacklist_.end());
  if (shared_blacklist_) {
    for (const BlacklistEntry& e : shared_blacklist_->active())
      u.blacklisted.insert(e.host);
  }
  try {
    return place(cluster_, request_, u);
  } catch (const LaunchError& e) {
    if (!allocation_)
      throw;
    throw LaunchError(std::string(e.what()) + "; " + allocation_->describe());
  }
}

Placement JobRun::book() {
  return ledger_.book(
      job_id_, [&](const Unavailable& held) { return place_avoiding(held); },
      allocation_.has_value());
}

std::vector<int> JobRun::shares_for(const Placement& p) const {
  const int global_batch = job_.workload ? job_.workload->global_batch : kCommandGlobalBatch;
  if (job_.resources.shares.empty())
    return shares_by_factor(global_batch, p.rank_factors());
  if (static_cast<int>(job_.resources.shares.size()) != p.ranks) {
    throw LaunchError("resources.shares has " + std::to_string(job_.resources.shares.size()) +
                      " entries for " + std::to_string(p.ranks) + " ranks");
  }
  // Shares are weights, for every kind of job: [3, 1] is a 3:1 split of the
  // global batch, and each rank is told its samples.
  return split_batch(global_batch, p.ranks, job_.resources.shares);
}

bool JobRun::all_local() const {
  return std::all_of(placement_.hosts.begin(), placement_.hosts.end(),
                     [](const HostAllocation& h) { return is_local(h.host); });
}

void JobRun::adopt(Placement next) {
  placement_ = std::move(next);
  shares_ = shares_for(placement_);
  rank_hosts_.clear();
  for (const HostAllocation& h : placement_.hosts)
    rank_hosts_.insert(rank_hosts_.end(), h.slots, h.host);
  local_ = all_local();
  const std::string& master = placement_.hosts.front().host;
  spec_.mpirun = options_.mpirun;
  spec_.hostfile = run_dir_ / "hostfile";
  spec_.ranks = placement_.ranks;
  spec_.network_interface =
      local_ && cluster_.network.interface == "lo" ? std::string() : cluster_.network.interface;
  spec_.mca = cluster_.network.mca;
  spec_.rsh_agent = options_.rsh_agent;
  spec_.as_root = ::geteuid() == 0;
  spec_.oversubscribe = allocation_ && allocation_->slots_beyond_tasks;
  spec_.program = rank_program(options_, job_, run_dir_);
  for (const auto& [name, value] : job_.env)
    spec_.env[name] = value;
  spec_.env["DOJO_JOB"] = job_.name;
  spec_.env["DOJO_RUN_DIR"] = run_dir_.string();
  spec_.env["DOJO_CHECKPOINT_DIR"] = (run_dir_ / job_.checkpoint.dir).lexically_normal().string();
  spec_.env["DOJO_BATCH_SHARES"] = encode_shares(shares_);
  spec_.env["MASTER_ADDR"] = is_local(master) ? "127.0.0.1" : master;
  if (!master_port_chosen_) {  // the job keeps its port when it moves to a spare
    spec_.env["MASTER_PORT"] =
        std::to_string(is_local(master) ? free_tcp_port() : kRemoteMasterPort);
    master_port_chosen_ = true;
  }
  spec_.env["DOJO_ATTEMPT"] = "0";
  // Secrets: mpirun passes them on from its environment (this launcher's), by
  // name, so their values never appear in a command line, a log or a file.
  spec_.pass_env.clear();
  for (const std::string& name : job_.secret_env) {
    if (std::getenv(name.c_str()) == nullptr) {
      throw LaunchError("job " + job_.name + ": secret_env names " + name +
                        ", which is not set in the launcher's environment");
    }
    spec_.pass_env.push_back(name);
  }
  if (events_)  // the run directory exists: a spare, or a node that failed its pre-flight
    write_file_atomically((run_dir_ / "hostfile").string(), placement_.hostfile());
}

int JobRun::dry_run() {
  Unavailable held;
  for (const Booking& b : allocation_ ? std::vector<Booking>{} : ledger_.bookings()) {
    for (const auto& [host, n] : b.slots)
      held.held_slots[host] += n;
  }
  adopt(place_avoiding(held));
  spec_.env["DOJO_HEARTBEAT_ADDR"] = "LAUNCHER:PORT";
  out_ << "# placement: " << placement_.ranks << " ranks on " << placement_.hosts.size()
       << " node(s), " << h100e_text(placement_) << "\n";
  if (allocation_)
    out_ << "# " << allocation_->describe() << "\n";
  out_ << "# hostfile " << spec_.hostfile.string() << "\n"
       << placement_.hostfile() << "# batch shares " << shares_text(shares_) << "\n# command\n"
       << shell_words(srun_ ? srun_argv(spec_, job_.slurm.mpi) : mpirun_argv(spec_)) << "\n";
  return kExitOk;
}

void JobRun::prepare_run_directory() {
  write_run_files(run_dir_, options_, loaded_, placement_);
  // A requeued or relaunched job continues the numbering: no log is overwritten.
  first_attempt_ = next_attempt_number(run_dir_);
  events_ = std::make_unique<EventLog>(run_dir_ / "events.jsonl");
  json start = {{"job", job_.name},
                {"ranks", placement_.ranks},
                {"h100e", placement_.untyped_hosts().empty() ? json(placement_.h100e) : json()},
                {"run_dir", run_dir_.string()},
                {"first_attempt", first_attempt_}};
  if (allocation_) {
    start["slurm_job"] = allocation_->job_id;
    start["slurm_restart_count"] = allocation_->restart_count;
    start["launch"] = srun_ ? "srun" : "mpirun";
  }
  events_->add("start", start);
  events_->add("placement", {{"hosts", hosts_json(placement_)}, {"shares", shares_json(shares_)}});
}

void JobRun::start_heartbeats() {
  const std::string cluster_address = local_ ? "" : interface_address(cluster_.network.interface);
  heartbeats_ = std::make_unique<heartbeat::Receiver>(
      local_ ? "127.0.0.1" : (cluster_address.empty() ? "0.0.0.0" : cluster_address), 0);
  const std::string reachable_as =
      local_ ? "127.0.0.1" : (cluster_address.empty() ? this_host() : cluster_address);
  spec_.env["DOJO_HEARTBEAT_ADDR"] = reachable_as + ":" + std::to_string(heartbeats_->port());
}

void JobRun::start_metrics() {
  if (!job_.metrics.enabled)
    return;
  metrics_ = std::make_unique<LauncherMetrics>(job_.name, placement_.ranks, placement_.h100e);
  exporter_ = std::make_unique<metrics::Exporter>(metrics::ExporterOptions{job_.metrics.bind, 0});
  exporter_->add(metrics_->registry());
  write_file_atomically((run_dir_ / "launcher.port").string(),
                        std::to_string(exporter_->port()) + "\n");
  targets_ = std::make_unique<FileSdTargets>(
      state_dir_ / "prometheus" / (job_.name + "-" + std::to_string(::getpid()) + ".json"),
      job_.name);
  targets_->set("launcher", exporter_->endpoint());
}

std::string JobRun::failing_preflight_node() {
  const PreflightFailure failed =
      first_failing_node(placement_, spec_, options_.preflight, run_dir_, &stop_->requested);
  if (!failed.host.empty()) {
    events_->add("preflight_failed", {{"host", failed.host}, {"reason", failed.reason}});
    err_ << "dojo launch: node " << failed.host << " failed the pre-flight check (" << failed.reason
         << "); marked down for this job\n";
  }
  return failed.host;
}

void JobRun::preflight() {
  if (options_.preflight.empty())
    return;
  for (std::string failed = failing_preflight_node(); !failed.empty();
       failed = failing_preflight_node()) {
    blacklist_.insert(failed);
    adopt(book());
    events_->add("placement", {{"hostfile", placement_.hostfile()}});
  }
}

}  // namespace dojo::launch
