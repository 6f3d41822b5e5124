#include "orchestrator/launch/job_run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
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

using Clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;

/// How often the launcher renews its ledger booking while the job runs.
constexpr auto kLeaseRenewal = std::chrono::seconds(60);
/// How often a restart's backoff looks for a stop request.
constexpr auto kBackoffPoll = std::chrono::milliseconds(50);
/// A node that failed this many attempts is replaced by a spare.
constexpr int kFailuresBeforeReplacing = 2;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// NaN and infinities as null: JSON has no number for them.
json finite_or_null(double value) {
  return std::isfinite(value) ? json(value) : json();
}

}  // namespace

void JobRun::tick() {
  if (watch_ && !stop_requested()) {
    revoked_ = watch_->check();
    if (!revoked_.empty()) {
      err_ << "dojo launch: " << revoked_ << "; stopping the job\n";
      stop_->requested.store(true);
    }
  }
  publish_goodput(true);
  if (Clock::now() - last_renewal_ > kLeaseRenewal) {
    last_renewal_ = Clock::now();
    ledger_.renew(job_id_);
  }
  // A command job that sends no heartbeats has no age to report.
  if (metrics_ && (job_.workload || stats_->any_beat()))
    metrics_->heartbeat_age(stats_->oldest_progress_age(Clock::now()));
  take_figures();
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

void JobRun::take_figures() {
  const JobFigures f = stats_->figures();
  if (f.ranks_measured > 0 || f.step >= 0) {
    figures_ = f;
    if (metrics_)
      metrics_->figures(f);
  }
  for (StragglerReport& s : stats_->new_stragglers()) {
    events_->add("straggler", {{"rank", s.rank},
                               {"host", s.host},
                               {"step", s.step},
                               {"compute_seconds", s.compute_seconds},
                               {"median_compute_seconds", s.median_compute_seconds},
                               {"ratio", s.ratio}});
    err_ << "dojo launch: straggler: " << s.describe(job_.stragglers.steps) << "\n";
    if (metrics_)
      metrics_->straggler_reported();
    stragglers_.push_back(std::move(s));
  }
}

void JobRun::write_summary(const std::string& status) {
  if (job_.workload)
    return;
  const JobFigures& f = figures_;
  json stragglers = json::array();
  for (const StragglerReport& s : stragglers_)
    stragglers.push_back(
        {{"rank", s.rank}, {"host", s.host}, {"step", s.step}, {"ratio", s.ratio}});
  const json summary = {{"job", job_.name},
                        {"status", status},
                        {"measured_by", "launcher, from the ranks' heartbeats"},
                        {"ranks", placement_.ranks},
                        {"attempts", goodput_.attempts().size()},  // every launch's
                        {"seconds", seconds_since(job_start_)},
                        {"step", f.step},
                        {"ranks_measured", f.ranks_measured},
                        {"step_seconds", finite_or_null(f.step_seconds)},
                        {"compute_seconds", finite_or_null(f.compute_seconds)},
                        {"communication_ratio", finite_or_null(f.communication_ratio)},
                        {"samples_per_second", finite_or_null(f.samples_per_second)},
                        {"loss", finite_or_null(f.loss)},
                        {"slowest_rank", f.slowest_rank},
                        {"straggler_ratio", finite_or_null(f.straggler_ratio)},
                        {"stragglers", stragglers},
                        {"goodput", goodput_json(goodput_)}};
  write_file_atomically((run_dir_ / "summary.json").string(), summary.dump(2) + "\n");
}

AttemptOptions JobRun::attempt_options(int attempt) {
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
  stats_ = std::make_unique<JobStats>(job_.name, attempt, rank_hosts_,
                                      StragglerPolicy{job_.stragglers.ratio, job_.stragglers.steps},
                                      Clock::now());
  a.heartbeats = heartbeats_.get();
  a.stats = stats_.get();
  a.watch_from_first_heartbeat = !job_.workload;
  // DOJO_RANK_EXIT_REPORTS=0: wait for mpirun to notice a failed rank, as
  // before the shims reported exits (scripts/bench-launch compares both).
  const char* reports = std::getenv("DOJO_RANK_EXIT_REPORTS");
  a.act_on_rank_exits = reports == nullptr || std::string(reports) != "0";
  a.hang_timeout_s = job_.hang_timeout_s;
  a.flight_request = job_.workload.has_value();  // built-in ranks keep a flight recorder
  a.flight_file = run_dir_ / ("flight-attempt-" + std::to_string(attempt) + ".json");
  if (job_.wall_time_s > 0)
    a.wall_deadline_s = std::max(0.001, job_.wall_time_s - seconds_since(job_start_));
  a.stop_grace_s = stop_grace_s_;
  a.stop_requested = &stop_->requested;
  last_renewal_ = Clock::now();
  a.on_tick = [this] { tick(); };
  return a;
}

int JobRun::finish(const std::string& status, const std::string& reason, int exit_code,
                   const std::string& message) {
  write_summary(status);
  if (job_.workload)
    add_goodput_to_summary();
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

std::optional<int> JobRun::outcome_of(const AttemptResult& result, int attempt) {
  switch (result.outcome) {
    case AttemptResult::Outcome::kCompleted:
      return finish("completed", "", kExitOk,
                    " completed (attempt " + std::to_string(attempt) + ")");
    case AttemptResult::Outcome::kStopped: {
      const std::string reason = stop_requested() ? stop_reason() : result.reason;
      return finish("stopped", reason, kExitStopped, " stopped: " + reason);
    }
    case AttemptResult::Outcome::kWallTime:
      return finish("failed", result.reason, kExitFailure, ": " + result.reason);
    case AttemptResult::Outcome::kFailed:
    case AttemptResult::Outcome::kHung:
      break;
  }
  err_ << "dojo launch: job " << job_.name << " attempt " << attempt << " "
       << to_string(result.outcome) << ": " << result.reason << "; cause: " << cause_text(result)
       << "\n";
  if (watch_ && revoked_.empty())
    revoked_ = watch_->check_now();  // ranks on other nodes die with the allocation
  if (!revoked_.empty())
    return finish("failed", revoked_, kExitFailure, ": " + revoked_);
  const std::string after =
      " after " + std::to_string(attempt - first_attempt_ + 1) + " attempt(s)";
  if (attempt - first_attempt_ >= job_.restarts.max || stop_requested())
    return finish("failed", result.reason, kExitFailure, " failed" + after);
  const int budget = restart_budget(result.cause);
  if (++restarts_by_cause_[result.cause] > budget) {
    const std::string spent = std::string("its restart budget for ") + to_string(result.cause) +
                              " (restarts." + to_string(result.cause) + ": " +
                              std::to_string(budget) + ") is spent";
    return finish("failed", result.reason + "; " + spent, kExitFailure,
                  " failed" + after + ": " + spent);
  }
  return std::nullopt;
}

int JobRun::restart_budget(Cause cause) const {
  const config::RestartsConfig& r = job_.restarts;
  switch (cause) {
    case Cause::kUserError:
      return r.user_error;
    case Cause::kKilled:
      return r.killed;
    case Cause::kHang:
      return r.hang;
    case Cause::kNodeLost:
      return r.node_lost;
    case Cause::kLaunchFailed:
      return r.launch_failed;
    case Cause::kCompleted:
    case Cause::kStopped:
    case Cause::kWallTime:
      break;
  }
  return 0;
}

std::string JobRun::cause_text(const AttemptResult& result) const {
  std::string text = to_string(result.cause);
  if (result.cause == Cause::kUserError)
    text += " (exit code " + std::to_string(result.exit_code) + ")";
  if (result.cause == Cause::kKilled) {
    text +=
        " (" + (result.signal != 0 ? signal_name(result.signal) : std::string("a signal")) +
        (result.oom_killed ? ", by the kernel's OOM killer: oom_kill in /proc/vmstat rose" : "") +
        ")";
  }
  return text;
}

std::string JobRun::stop_reason() const {
  if (!revoked_.empty())
    return revoked_;
  const int sig = stop_->signal.load();
  return sig != 0 ? std::string("on request (") + signal_name(sig) + ")" : "on request";
}

std::vector<std::string> JobRun::hosts_failed_twice(const AttemptResult& result) {
  std::set<std::string> hosts(result.lost_nodes.begin(), result.lost_nodes.end());
  for (int r : result.failed_ranks) {
    if (r >= 0 && r < static_cast<int>(rank_hosts_.size()))
      hosts.insert(rank_hosts_[static_cast<std::size_t>(r)]);
  }
  // mpirun does not always say which rank failed; on one node it can only be that node.
  const bool one_node = placement_.hosts.size() == 1;
  if (hosts.empty() && one_node && result.outcome != AttemptResult::Outcome::kCompleted)
    hosts.insert(placement_.hosts.front().host);
  // A program's own non-zero exit says nothing about its node; a hang, a lost
  // daemon or a rank killed by a signal may.
  const bool node_implicated = result.outcome == AttemptResult::Outcome::kHung ||
                               !result.lost_nodes.empty() || result.rank_signalled;
  std::vector<std::string> twice;
  for (const std::string& host : hosts) {
    if (++host_failures_[host] == kFailuresBeforeReplacing)
      twice.push_back(host);
    if (node_implicated)
      blacklist_node(host, result);
    if (node_implicated && ++node_failures_[host] == kFailuresBeforeReplacing)
      drain(host);
  }
  return twice;
}

void JobRun::replace_hosts(const std::vector<std::string>& failed_twice) {
  for (const std::string& host : failed_twice) {
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

void JobRun::blacklist_node(const std::string& host, const AttemptResult& result) {
  if (!shared_blacklist_)
    return;
  double h100e = 0;
  if (const config::ClusterNode* node = cluster_.find_node(host)) {
    for (const HostAllocation& h : placement_.hosts) {
      if (h.host == host)
        h100e = h.h100e_factor * node->slots;
    }
  }
  const auto cooldown = static_cast<long long>(cluster_.blacklist_cooldown_s);
  shared_blacklist_->add({host, static_cast<long long>(std::time(nullptr)) + cooldown,
                          to_string(result.cause), job_.name, h100e, result.reason});
  events_->add("blacklisted",
               {{"host", host}, {"cause", to_string(result.cause)}, {"cooldown_s", cooldown}});
  err_ << "dojo launch: node " << host << " blacklisted for " << cooldown << " s ("
       << to_string(result.cause) << "): later placements avoid it; `dojo nodes clear " << host
       << "` returns it to service\n";
}

void JobRun::drain(const std::string& host) {
  if (!allocation_ || !cluster_.slurm.drain_failed_nodes)
    return;
  const std::string reason = "dojo: lost, hung or killed twice in job " + job_.name +
                             " (Slurm job " + allocation_->job_id + ")";
  const std::string error = drain_slurm_node(host, reason);
  events_->add(error.empty() ? "drained" : "drain_failed", {{"host", host}, {"error", error}});
  err_ << "dojo launch: node " << host
       << (error.empty() ? " drained in Slurm (" + reason + ")" : " not drained: " + error) << "\n";
}

void JobRun::back_off(int attempt) {
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

int JobRun::attempts() {
  job_start_ = Clock::now();
  load_goodput();
  for (int attempt = first_attempt_;; ++attempt) {
    AttemptOptions a = attempt_options(attempt);
    if (metrics_) {
      metrics_->state("running");
      metrics_->attempt(attempt);
    }
    events_->add("attempt", {{"attempt", attempt}});
    attempt_start_ = Clock::now();
    goodput_.add_setup(seconds_since(goodput_mark_));
    current_attempt_ = attempt;
    const AttemptResult result = run_attempt(a);
    goodput_mark_ = Clock::now();
    ++attempts_run_;
    take_figures();
    goodput_.add_attempt(attempt_record(attempt, &result));
    current_attempt_ = -1;
    publish_goodput(false);
    if (metrics_)
      metrics_->attempt_ended(to_string(result.cause));
    events_->add(to_string(result.outcome), {{"attempt", attempt},
                                             {"cause", to_string(result.cause)},
                                             {"signal", result.signal},
                                             {"oom_killed", result.oom_killed},
                                             {"reason", result.reason},
                                             {"ranks", result.failed_ranks},
                                             {"lost_nodes", result.lost_nodes},
                                             {"exit_code", result.exit_code},
                                             {"detected_by", result.detected_by},
                                             {"flight_verdict", result.flight_verdict},
                                             {"detect_seconds", result.detect_seconds},
                                             {"seconds", result.seconds},
                                             {"first_step_seconds", result.first_step_seconds}});
    const std::vector<std::string> failed_twice = hosts_failed_twice(result);
    if (const std::optional<int> exit_code = outcome_of(result, attempt))
      return *exit_code;
    replace_hosts(failed_twice);
    goodput_.add_setup(seconds_since(goodput_mark_));
    const Clock::time_point backoff_start = Clock::now();
    back_off(attempt - first_attempt_);
    goodput_.add_backoff(seconds_since(backoff_start));
    goodput_mark_ = Clock::now();
    if (metrics_)
      metrics_->goodput(goodput_.totals());
  }
}

}  // namespace dojo::launch
