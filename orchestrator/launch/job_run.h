#pragma once
// One job from placement to its end (the inside of `dojo launch`): the ledger
// booking, the run directory, heartbeats and metrics, pre-flight checks,
// attempts, restarts, and Slurm's part in each. job_run.cpp sets a job up;
// job_run_attempts.cpp runs its attempts and decides what follows each.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/heartbeat/heartbeat.h"
#include "orchestrator/launch/allocation_watch.h"
#include "orchestrator/launch/goodput.h"
#include "orchestrator/launch/job_stats.h"
#include "orchestrator/launch/launch_plan.h"
#include "orchestrator/launch/launch_support.h"
#include "orchestrator/launch/launcher.h"
#include "orchestrator/launch/launcher_metrics.h"
#include "orchestrator/launch/ledger.h"
#include "orchestrator/launch/mpirun_command.h"
#include "orchestrator/launch/node_blacklist.h"
#include "orchestrator/launch/placement.h"
#include "orchestrator/launch/slurm.h"
#include "orchestrator/launch/supervisor.h"
#include "orchestrator/metrics/exporter.h"

namespace dojo::launch {

/// One job from placement to its end: the ledger booking, the run directory,
/// heartbeats and metrics, pre-flight checks, attempts and restarts.
class JobRun {
 public:
  JobRun(const LaunchOptions& options, std::ostream& out, std::ostream& err, StopRequest* stop);

  ~JobRun();

  int run();

 private:
  Placement place_avoiding(const Unavailable& held) const;

  /// --fresh: the run directory moves aside to DIR.N (nothing is deleted).
  void set_aside_run_directory();

  /// Books a placement in the ledger; what Slurm granted is never refused.
  Placement book();

  std::vector<int> shares_for(const Placement& p) const;

  bool all_local() const;

  /// Takes a placement (the first, a spare, or one after a failed pre-flight
  /// check): shares, rank hosts and the mpirun spec follow it.
  void adopt(Placement next);

  int dry_run();

  /// The run directory's files, and its events from here on.
  void prepare_run_directory();

  /// Ranks reach the launcher over the cluster's network when it names an
  /// interface, else through this host's name (or loopback for a local job).
  void start_heartbeats();

  /// The launcher's own metrics, and file_sd targets Prometheus picks up.
  void start_metrics();

  /// The name of the first node that fails the pre-flight check, or "".
  std::string failing_preflight_node();

  /// Runs the optional pre-flight check on every chosen node: a node that
  /// fails it is marked down for this job and the job placed again without it.
  void preflight();

  /// Called about once a second during an attempt: lease renewal, metrics,
  /// stragglers, and rank 0's metrics endpoint once it serves.
  void tick();

  /// The figures the ranks' heartbeats gave, to metrics and the summary;
  /// stragglers to the events and the log.
  void take_figures();

  /// summary.json of a command job, from what its ranks sent (a built-in
  /// workload writes its own).
  void write_summary(const std::string& status);

  AttemptOptions attempt_options(int attempt);

  /// Goodput: a continued run's ledger from its goodput.json, with a Slurm
  /// requeue's time between launchers as badput.
  void load_goodput();
  /// The attempt under way as far as it got (`ended`: its result).
  AttemptRecord attempt_record(int attempt, const AttemptResult* ended) const;
  /// The ledger to goodput.json and the metrics; `running`: count the
  /// attempt under way too.
  void publish_goodput(bool running);
  /// A built-in job's summary.json (rank 0 wrote it) gains the goodput.
  void add_goodput_to_summary();

  /// The job's end: status file, metrics, end event, one line, exit code.
  int finish(const std::string& status, const std::string& reason, int exit_code,
             const std::string& message);

  /// The exit code when `result` ends the job; nullopt when it restarts.
  std::optional<int> outcome_of(const AttemptResult& result, int attempt);

  /// Restarts `cause` may use (restarts.user_error, ...); 0 for causes
  /// that end the job (completed, stopped, wall_time).
  int restart_budget(Cause cause) const;

  /// "killed (SIGKILL, by the kernel's OOM killer: ...)", "user_error (exit code 7)".
  std::string cause_text(const AttemptResult& result) const;

  /// Why the job stops: the signal, or the revoked allocation.
  std::string stop_reason() const;

  /// Counts each failed rank's node; the nodes that just failed their second
  /// time (drained in Slurm when the cluster allows it).
  std::vector<std::string> hosts_failed_twice(const AttemptResult& result);

  void replace_hosts(const std::vector<std::string>& failed_twice);

  /// A node implicated in `result` (lost, hung, a rank killed) goes on the
  /// cluster's shared blacklist for its cooldown.
  void blacklist_node(const std::string& host, const AttemptResult& result);

  /// Inside Slurm, when the cluster allows it: a node that failed twice is
  /// drained, so that Slurm gives it to no later job until an admin resumes it.
  void drain(const std::string& host);

  /// Waits the restart's exponential backoff, or until a stop request.
  void back_off(int attempt);

  int attempts();

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
  const std::filesystem::path state_dir_;
  Ledger ledger_;
  const std::string job_id_;
  const std::filesystem::path run_dir_;
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
  std::set<std::string> blacklist_;  ///< this job's: failed pre-flight, failed twice
  /// The cluster's shared blacklist: for placements from an inventory file,
  /// outside Slurm (which drains instead), when its cooldown is not 0.
  std::unique_ptr<NodeBlacklist> shared_blacklist_;
  std::map<Cause, int> restarts_by_cause_;
  std::map<std::string, int> host_failures_;  ///< attempts each host's ranks failed
  std::map<std::string, int>
      node_failures_;  ///< of which the node was to blame (lost, hung, killed)

  std::unique_ptr<EventLog> events_;
  std::unique_ptr<heartbeat::Receiver> heartbeats_;
  std::unique_ptr<JobStats> stats_;  ///< the current attempt's
  JobFigures figures_;               ///< the latest measured, of any attempt
  std::vector<StragglerReport> stragglers_;
  int attempts_run_ = 0;
  GoodputLedger goodput_;
  int current_attempt_ = -1;
  std::chrono::steady_clock::time_point attempt_start_;
  /// Since when the launcher's own time is not yet in the ledger.
  std::chrono::steady_clock::time_point goodput_mark_ = std::chrono::steady_clock::now();
  std::unique_ptr<LauncherMetrics> metrics_;
  std::unique_ptr<metrics::Exporter> exporter_;
  std::unique_ptr<FileSdTargets> targets_;
  bool job_target_known_ = false;
  std::chrono::steady_clock::time_point job_start_;
  std::chrono::steady_clock::time_point last_renewal_;
};

}  // namespace dojo::launch
