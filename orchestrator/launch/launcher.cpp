#include "orchestrator/launch/launcher.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>
#include <cstring>
#include <string_view>
#include <thread>

#include "common/atomic_file.h"
#include "common/batch_shares.h"
#include "common/exit_codes.h"
#include "orchestrator/heartbeat/heartbeat.h"
#include "orchestrator/launch/allocation_watch.h"
#include "orchestrator/launch/launch_error.h"
#include "orchestrator/launch/launch_plan.h"
#include "orchestrator/launch/launch_support.h"
#include "orchestrator/launch/launcher_metrics.h"
#include "orchestrator/launch/ledger.h"
#include "orchestrator/launch/mpirun_command.h"
#include "orchestrator/launch/placement.h"
#include "orchestrator/launch/slurm.h"
#include "orchestrator/launch/supervisor.h"
#include "orchestrator/metrics/exporter.h"

namespace dojo::launch {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

/// The global batch a command job's shares split (DOJO_BATCH_SHARE), when
/// the job has no built-in workload to say.
constexpr int kCommandGlobalBatch = 256;
/// The rendezvous port on a remote rank 0 (torchrun's default); a local job
/// gets a free port instead.
constexpr int kRemoteMasterPort = 29500;
/// How often the launcher renews its ledger booking while the job runs.
constexpr auto kLeaseRenewal = std::chrono::seconds(60);
/// How long a node's pre-flight check may take.
constexpr double kPreflightWallSeconds = 60;
/// How often a restart's backoff looks for a stop request.
constexpr auto kBackoffPoll = std::chrono::milliseconds(50);
/// A node that failed this many attempts is replaced by a spare.
constexpr int kFailuresBeforeReplacing = 2;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

json hosts_json(const Placement& placement) {
  json hosts = json::array();
  for (const HostAllocation& h : placement.hosts)
    hosts.push_back({{"host", h.host}, {"slots", h.slots}});
  return hosts;
}

/// Shares as [[count, share], ...] runs: a line of events.jsonl stays short
/// at 85,000 ranks.
json shares_json(const std::vector<int>& shares) {
  json runs = json::array();
  for (const auto& [count, share] : share_runs(shares))
    runs.push_back({count, share});
  return runs;
}

/// One job from placement to its end: the ledger booking, the run directory,
/// heartbeats and metrics, pre-flight checks, attempts and restarts.
class JobRun {
 public:
  JobRun(const LaunchOptions& options, std::ostream& out, std::ostream& err, StopRequest* stop)
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
        run_dir_(fs::absolute(options.run_dir.empty() ? fs::path("runs") / job_.name
                                                      : options.run_dir)),
        stop_grace_s_(options.stop_grace_s.value_or(job_.stop_grace_s)),
        srun_(allocation_ && options.slurm_launch.value_or(job_.slurm.launch) ==
                                 config::SlurmLaunch::kSrun) {
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
  }

  ~JobRun() {
    if (!booked_)
      return;
    try {
      ledger_.release(job_id_);
    } catch (...) {  // a destructor reports nothing; the lease runs out
    }
  }

  int run() {
    if (options_.dry_run)
      return dry_run();
    placement_ = book();
    booked_ = true;
    adopt(placement_);
    prepare_run_directory();
    start_heartbeats();
    start_metrics();
    preflight();
    return attempts();
  }

 private:
  Placement place_avoiding(const Unavailable& held) const {
    Unavailable u = held;
    u.blacklisted.insert(blacklist_.begin(), blacklist_.end());
    try {
      return place(cluster_, request_, u);
    } catch (const LaunchError& e) {
      if (!allocation_)
        throw;
      throw LaunchError(std::string(e.what()) + "; " + allocation_->describe());
    }
  }

  /// Books a placement in the ledger; what Slurm granted is never refused.
  Placement book() {
    return ledger_.book(
        job_id_, [&](const Unavailable& held) { return place_avoiding(held); },
        allocation_.has_value());
  }

  std::vector<int> shares_for(const Placement& p) const {
    const int global_batch = job_.workload ? job_.workload->global_batch : kCommandGlobalBatch;
    if (job_.resources.shares.empty())
      return shares_by_factor(global_batch, p.rank_factors());
    if (static_cast<int>(job_.resources.shares.size()) != p.ranks) {
      throw LaunchError("resources.shares has " + std::to_string(job_.resources.shares.size()) +
                        " entries for " + std::to_string(p.ranks) + " ranks");
    }
    return job_.workload ? split_batch(global_batch, p.ranks, job_.resources.shares)
                         : job_.resources.shares;
  }

  bool all_local() const {
    return std::all_of(placement_.hosts.begin(), placement_.hosts.end(),
                       [](const HostAllocation& h) { return is_local(h.host); });
  }

  /// Takes a placement (the first, a spare, or one after a failed pre-flight
  /// check): shares, rank hosts and the mpirun spec follow it.
  void adopt(Placement next) {
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
    spec_.rsh_agent = options_.rsh_agent;
    spec_.as_root = ::geteuid() == 0;
    spec_.program = rank_program(options_, job_, run_dir_);
    for (const auto& [name, value] : job_.env)
      spec_.env[name] = value;
    spec_.env["DOJO_JOB"] = job_.name;
    spec_.env["DOJO_RUN_DIR"] = run_dir_.string();
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

  int dry_run() {
    Unavailable held;
    for (const Booking& b : allocation_ ? std::vector<Booking>{} : ledger_.bookings()) {
      for (const auto& [host, n] : b.slots)
        held.held_slots[host] += n;
    }
    adopt(place_avoiding(held));
    spec_.env["DOJO_HEARTBEAT_ADDR"] = "LAUNCHER:PORT";
    out_ << "# placement: " << placement_.ranks << " ranks on " << placement_.hosts.size()
         << " node(s), " << h100e_text() << "\n";
    if (allocation_)
      out_ << "# " << allocation_->describe() << "\n";
    out_ << "# hostfile " << spec_.hostfile.string() << "\n"
         << placement_.hostfile() << "# batch shares " << shares_text(shares_) << "\n# command\n"
         << shell_words(srun_ ? srun_argv(spec_, job_.slurm.mpi) : mpirun_argv(spec_)) << "\n";
    return kExitOk;
  }

  /// "17.261 H100e", or why it is not counted.
  std::string h100e_text() const {
    const std::vector<std::string> untyped = placement_.untyped_hosts();
    if (!untyped.empty()) {
      return "H100e not counted (no accelerator type for " + untyped.front() +
             (untyped.size() > 1 ? " and " + std::to_string(untyped.size() - 1) + " more" : "") +
             ")";
    }
    std::ostringstream text;
    text << std::fixed << std::setprecision(3) << placement_.h100e << " H100e";
    return text.str();
  }

  /// The run directory, its owner's only: hostfile, version, the job as
  /// written and as resolved, overrides, config hash, events.
  void prepare_run_directory() {
    fs::create_directories(run_dir_);
    fs::permissions(run_dir_, fs::perms::owner_all, fs::perm_options::replace);
    write_file_atomically((run_dir_ / "hostfile").string(), placement_.hostfile());
    write_file_atomically((run_dir_ / "version").string(), options_.version + "\n");
    write_file_atomically((run_dir_ / "job.yaml").string(), loaded_.text);
    write_file_atomically((run_dir_ / "config.resolved.yaml").string(),
                          options_.job_file
                              ? config::resolved_yaml(*options_.job_file, options_.overrides)
                              : loaded_.text);
    std::string sets;
    for (const config::Override& o : options_.overrides)
      sets += o.flag + "\n";
    write_file_atomically((run_dir_ / "overrides.txt").string(), sets);
    write_file_atomically((run_dir_ / "config_hash").string(),
                          config_hash(loaded_.text + sets) + "\n");
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
    events_->add("placement",
                 {{"hosts", hosts_json(placement_)}, {"shares", shares_json(shares_)}});
  }

  /// Ranks reach the launcher over the cluster's network when it names an
  /// interface, else through this host's name (or loopback for a local job).
  void start_heartbeats() {
    const std::string cluster_address = local_ ? "" : interface_address(cluster_.network.interface);
    heartbeats_ = std::make_unique<heartbeat::Receiver>(
        local_ ? "127.0.0.1" : (cluster_address.empty() ? "0.0.0.0" : cluster_address), 0);
    const std::string reachable_as =
        local_ ? "127.0.0.1" : (cluster_address.empty() ? this_host() : cluster_address);
    spec_.env["DOJO_HEARTBEAT_ADDR"] = reachable_as + ":" + std::to_string(heartbeats_->port());
  }

  /// The launcher's own metrics, and file_sd targets Prometheus picks up.
  void start_metrics() {
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

  /// The name of the first node that fails the pre-flight check, or "".
  std::string failing_preflight_node() {
    for (const HostAllocation& h : placement_.hosts) {
      MpirunSpec check = spec_;
      check.hostfile = run_dir_ / "preflight-hostfile";
      write_file_atomically(check.hostfile.string(), h.host + " slots=1\n");
      check.ranks = 1;
      check.env = {{"DOJO_PREFLIGHT_HOST", h.host}};
      check.program = options_.preflight;
      AttemptOptions a;
      a.argv = mpirun_argv(check);
      a.log = run_dir_ / ("preflight-" + h.host + ".log");
      a.echo = false;
      a.rank_hosts = {h.host};
      a.wall_deadline_s = kPreflightWallSeconds;
      a.stop_requested = &stop_->requested;
      const AttemptResult r = run_attempt(a);
      if (r.outcome != AttemptResult::Outcome::kCompleted) {
        events_->add("preflight_failed", {{"host", h.host}, {"reason", r.reason}});
        err_ << "dojo launch: node " << h.host << " failed the pre-flight check (" << r.reason
             << "); marked down for this job\n";
        return h.host;
      }
    }
    return "";
  }

  /// Runs the optional pre-flight check on every chosen node: a node that
  /// fails it is marked down for this job and the job placed again without it.
  void preflight() {
    if (options_.preflight.empty())
      return;
    for (std::string failed = failing_preflight_node(); !failed.empty();
         failed = failing_preflight_node()) {
      blacklist_.insert(failed);
      adopt(book());
      events_->add("placement", {{"hostfile", placement_.hostfile()}});
    }
  }

  /// Called about once a second during an attempt: lease renewal, metrics,
  /// and rank 0's metrics endpoint once it serves.
  void tick(double heartbeat_age) {
    if (watch_ && !stop_requested()) {
      revoked_ = watch_->check();
      if (!revoked_.empty()) {
        err_ << "dojo launch: " << revoked_ << "; stopping the job\n";
        stop_->requested.store(true);
      }
    }
    if (Clock::now() - last_renewal_ > kLeaseRenewal) {
      last_renewal_ = Clock::now();
      ledger_.renew(job_id_);
    }
    if (metrics_)
      metrics_->heartbeat_age(heartbeat_age);
    if (targets_ && !job_target_known_) {
      std::ifstream port_file(run_dir_ / "metrics.port");
      int port = 0;
      if (port_file >> port && port > 0) {
        const std::string rank0 = local_ ? "127.0.0.1" : placement_.hosts.front().host;
        targets_->set("job", rank0 + ":" + std::to_string(port));
        job_target_known_ = true;
      }
    }
  }

  AttemptOptions attempt_options(int attempt) {
    spec_.env["DOJO_ATTEMPT"] = std::to_string(attempt);
    AttemptOptions a;
    if (srun_) {
      // srun places rank r on line r of SLURM_HOSTFILE.
      std::string lines;
      for (const std::string& host : rank_hosts_)
        lines += host + "\n";
      write_file_atomically((run_dir_ / "rank-hostfile").string(), lines);
      a.argv = srun_argv(spec_, job_.slurm.mpi);
      a.env = srun_env(spec_, run_dir_ / "rank-hostfile");
    } else {
      a.argv = mpirun_argv(spec_);
    }
    write_file_atomically((run_dir_ / "command.txt").string(), shell_words(a.argv) + "\n");
    a.log = run_dir_ / ("attempt-" + std::to_string(attempt) + ".log");
    a.ranks = placement_.ranks;
    a.rank_hosts = rank_hosts_;
    // Heartbeats are how hangs are seen; command jobs opt in by sending them.
    a.heartbeats = job_.workload ? heartbeats_.get() : nullptr;
    a.job = job_.name;
    a.attempt = attempt;
    a.hang_timeout_s = job_.hang_timeout_s;
    if (job_.wall_time_s > 0)
      a.wall_deadline_s = std::max(0.001, job_.wall_time_s - seconds_since(job_start_));
    a.stop_grace_s = stop_grace_s_;
    a.stop_requested = &stop_->requested;
    last_renewal_ = Clock::now();
    a.on_tick = [this](double age) { tick(age); };
    return a;
  }

  /// The job's end: status file, metrics, end event, one line, exit code.
  int finish(const std::string& status, const std::string& reason, int exit_code,
             const std::string& message) {
    write_file_atomically((run_dir_ / "status").string(), status + "\n");
    if (metrics_)
      metrics_->state(status);
    json end = {{"status", status}};
    if (!reason.empty())
      end["reason"] = reason;
    events_->add("end", end);
    (exit_code == kExitOk ? out_ : err_) << "dojo launch: job " << job_.name << message << "\n";
    return exit_code;
  }

  /// The exit code when `result` ends the job; nullopt when it restarts.
  std::optional<int> outcome_of(const AttemptResult& result, int attempt) {
    switch (result.outcome) {
      case AttemptResult::Outcome::kCompleted:
        return finish("completed", "", kExitOk,
                      " completed (attempt " + std::to_string(attempt) + ")");
      case AttemptResult::Outcome::kStopped:
        return finish("stopped", stop_reason(), kExitStopped, " stopped: " + stop_reason());
      case AttemptResult::Outcome::kWallTime:
        return finish("failed", result.reason, kExitFailure, ": " + result.reason);
      case AttemptResult::Outcome::kFailed:
      case AttemptResult::Outcome::kHung:
        break;
    }
    err_ << "dojo launch: job " << job_.name << " attempt " << attempt << " "
         << to_string(result.outcome) << ": " << result.reason << "\n";
    if (watch_ && revoked_.empty())
      revoked_ = watch_->check_now();  // ranks on other nodes die with the allocation
    if (!revoked_.empty())
      return finish("failed", revoked_, kExitFailure, ": " + revoked_);
    if (attempt - first_attempt_ >= job_.restarts.max || stop_requested()) {
      return finish("failed", result.reason, kExitFailure,
                    " failed after " + std::to_string(attempt - first_attempt_ + 1) +
                        " attempt(s)");
    }
    return std::nullopt;
  }

  /// Why the job stops: the signal, or the revoked allocation.
  std::string stop_reason() const {
    if (!revoked_.empty())
      return revoked_;
    const int sig = stop_->signal.load();
    return sig != 0 ? std::string("on request (") + signal_name(sig) + ")" : "on request";
  }

  static std::string signal_name(int sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
  }

  /// A node that failed twice is replaced by a spare when the cluster has one.
  void replace_failing_hosts(const AttemptResult& result) {
    for (int r : result.failed_ranks) {
      if (r < 0 || r >= static_cast<int>(rank_hosts_.size()))
        continue;
      const std::string host = rank_hosts_[static_cast<std::size_t>(r)];
      if (++host_failures_[host] != kFailuresBeforeReplacing)
        continue;
      drain(host);
      blacklist_.insert(host);
      try {
        adopt(book());
        events_->add("replaced", {{"host", host}, {"hostfile", placement_.hostfile()}});
        err_ << "dojo launch: node " << host << " failed twice; the job moves to a spare\n";
        return;  // the ranks of this attempt no longer map onto the new hosts
      } catch (const LaunchError&) {
        blacklist_.erase(host);
        events_->add("no_spare", {{"host", host}});
        err_ << "dojo launch: node " << host
             << " failed twice but the cluster has no spare; the job continues where it is\n";
      }
    }
  }

  /// Inside Slurm, when the cluster allows it: a node that failed twice is
  /// drained, so that Slurm gives it to no later job until an admin resumes it.
  void drain(const std::string& host) {
    if (!allocation_ || !cluster_.slurm.drain_failed_nodes)
      return;
    const std::string reason = "dojo: failed twice in job " + job_.name + " (Slurm job " +
                               allocation_->job_id + ")";
    const std::string error = drain_slurm_node(host, reason);
    events_->add(error.empty() ? "drained" : "drain_failed", {{"host", host}, {"error", error}});
    err_ << "dojo launch: node " << host
         << (error.empty() ? " drained in Slurm (" + reason + ")" : " not drained: " + error)
         << "\n";
  }

  /// Waits the restart's exponential backoff, or until a stop request.
  void back_off(int attempt) {
    if (metrics_) {
      metrics_->state("restarting");
      metrics_->restarted();
    }
    const double backoff =
        std::min(job_.restarts.backoff_max_s, job_.restarts.backoff_s * std::pow(2.0, attempt));
    events_->add("restart", {{"attempt", attempt + 1}, {"backoff_s", backoff}});
    err_ << "dojo launch: restarting from the newest checkpoint in " << backoff << " s\n";
    const auto until = Clock::now() + std::chrono::duration<double>(backoff);
    while (Clock::now() < until && !stop_requested())
      std::this_thread::sleep_for(kBackoffPoll);
  }

  int attempts() {
    job_start_ = Clock::now();
    for (int attempt = first_attempt_;; ++attempt) {
      AttemptOptions a = attempt_options(attempt);
      if (metrics_) {
        metrics_->state("running");
        metrics_->attempt(attempt);
      }
      events_->add("attempt", {{"attempt", attempt}});
      const AttemptResult result = run_attempt(a);
      events_->add(to_string(result.outcome), {{"attempt", attempt},
                                               {"reason", result.reason},
                                               {"ranks", result.failed_ranks},
                                               {"lost_nodes", result.lost_nodes},
                                               {"exit_code", result.exit_code},
                                               {"seconds", result.seconds},
                                               {"first_step_seconds", result.first_step_seconds}});
      if (const std::optional<int> exit_code = outcome_of(result, attempt))
        return *exit_code;
      replace_failing_hosts(result);
      back_off(attempt - first_attempt_);
    }
  }

  bool stop_requested() const { return stop_->requested.load(); }

  const LaunchOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  StopRequest own_stop_;
  StopRequest* stop_;
  const std::optional<SlurmAllocation> allocation_;
  const LoadedJob loaded_;
  const config::JobConfig& job_;
  std::vector<std::string> notes_;
  const config::ClusterConfig cluster_;
  const fs::path state_dir_;
  Ledger ledger_;
  const std::string job_id_;
  const fs::path run_dir_;
  const double stop_grace_s_;
  const bool srun_;  ///< srun starts the ranks (else mpirun)
  PlacementRequest request_;
  std::unique_ptr<AllocationWatch> watch_;
  std::string revoked_;  ///< why Slurm's allocation is gone, once it is
  int first_attempt_ = 0;

  bool booked_ = false;
  Placement placement_;
  std::vector<int> shares_;
  std::vector<std::string> rank_hosts_;
  bool local_ = true;
  MpirunSpec spec_;
  bool master_port_chosen_ = false;
  std::set<std::string> blacklist_;
  std::map<std::string, int> host_failures_;

  std::unique_ptr<EventLog> events_;
  std::unique_ptr<heartbeat::Receiver> heartbeats_;
  std::unique_ptr<LauncherMetrics> metrics_;
  std::unique_ptr<metrics::Exporter> exporter_;
  std::unique_ptr<FileSdTargets> targets_;
  bool job_target_known_ = false;
  Clock::time_point job_start_;
  Clock::time_point last_renewal_;
};

}  // namespace

int launch(const LaunchOptions& options, std::ostream& out, std::ostream& err, StopRequest* stop) {
  JobRun job(options, out, err, stop);
  return job.run();
}

}  // namespace dojo::launch
