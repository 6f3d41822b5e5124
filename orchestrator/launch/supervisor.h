#pragma once
// Runs one attempt of a job: mpirun as a child in its own process group, its
// output to a size-capped log, heartbeats watched for hangs, a wall-time
// limit, and a stop request turned into a checkpoint-and-exit.

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/heartbeat/heartbeat.h"
#include "orchestrator/launch/attempt_cause.h"
#include "orchestrator/launch/job_stats.h"

namespace dojo::launch {

struct AttemptOptions {
  std::vector<std::string> argv;                      ///< mpirun (or srun) and its arguments
  std::map<std::string, std::string> env;             ///< set in its environment
  std::filesystem::path log;                          ///< this attempt's log
  std::size_t log_cap_bytes = std::size_t{64} << 20;  ///< head and tail kept beyond this
  bool echo = true;                                   ///< copy the output to our stdout too
  int ranks = 1;
  std::vector<std::string> rank_hosts;        ///< host of each rank, for messages
  heartbeat::Receiver* heartbeats = nullptr;  ///< null: no hang detection
  JobStats* stats = nullptr;                  ///< what the heartbeats say; set with heartbeats
  /// Hangs are watched from the first heartbeat on (a program that sends
  /// none has only the wall-time limit); else from the start.
  bool watch_from_first_heartbeat = false;
  /// A rank shim's report that its rank failed ends the attempt at once;
  /// false: only when mpirun (or srun) exits.
  bool act_on_rank_exits = true;
  double hang_timeout_s = 120;
  /// On a hang, ask the ranks for their flight recorders (SIGUSR2; built-in
  /// workloads answer) before ending the attempt; else the verdict comes
  /// from the heartbeats' collective marks.
  bool flight_request = false;
  /// Where the flight records and the verdict of a hang go ("" : nowhere).
  std::filesystem::path flight_file;
  double wall_deadline_s = 0;  ///< seconds left for the job; 0: no limit
  double stop_grace_s = 60;    ///< after a stop request, before SIGKILL
  const std::atomic<bool>* stop_requested = nullptr;
  /// Called about once a second while the attempt runs (lease renewal,
  /// metrics, stragglers).
  std::function<void()> on_tick;
};

struct AttemptResult {
  enum class Outcome { kCompleted, kFailed, kHung, kStopped, kWallTime };
  Outcome outcome = Outcome::kFailed;
  Cause cause = Cause::kUserError;  ///< why it ended, for events, metrics and budgets
  int exit_code = -1;
  int signal = 0;           ///< the signal a rank died of (kKilled), else 0
  bool oom_killed = false;  ///< the kernel's OOM killer killed a process meanwhile (seen here)
  std::string reason;       ///< one line: what happened
  std::vector<int> failed_ranks;
  std::vector<std::string> lost_nodes;  ///< nodes whose Open MPI daemon (or node) went away
  bool rank_signalled = false;          ///< a rank was killed by a signal
  double seconds = 0;
  double first_step_seconds = -1;  ///< from the start to the first heartbeat with progress
  /// Who saw the end first: "rank_exit" (a rank shim's report), "mpirun" or
  /// "srun" (their exit), "heartbeats" (a hang), "wall_time", "stop", or ""
  /// when every rank completed.
  std::string detected_by;
  /// From the failure to its detection, as far as the launcher can see: a
  /// hang's time without progress; the wait for mpirun after a rank's exit
  /// report; 0 when it acted on the report at once.
  double detect_seconds = 0;
  double stop_seconds = 0;     ///< from the stop request to the end (stopped on request)
  std::string flight_verdict;  ///< a hang's: who never entered which collective
};

const char* to_string(AttemptResult::Outcome outcome);

/// Runs the attempt to its end. No process of it is left behind when it returns.
AttemptResult run_attempt(const AttemptOptions& options);

}  // namespace dojo::launch
