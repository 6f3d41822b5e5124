#include "orchestrator/launch/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string_view>
#include <tuple>

#include "common/exit_codes.h"
#include "orchestrator/launch/capped_log.h"
#include "orchestrator/launch/flight_verdict.h"
#include "orchestrator/launch/launch_error.h"
#include "orchestrator/launch/process_group.h"
#include "orchestrator/launch/rank_output.h"

namespace dojo::launch {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// How long one wait for output lasts before the other checks run.
constexpr int kPollMilliseconds = 50;
/// How much of the latest output is kept to find failed ranks in.
constexpr std::size_t kRecentOutputBytes = 64 << 10;
/// After mpirun exits, how long its group may hold the output pipe.
constexpr double kPipeDrainSeconds = 5.0;
/// A hang report names the ranks without progress for this much less than
/// the timeout too (three heartbeat intervals).
constexpr double kReportSlackSeconds = 3.0;
/// Heartbeats taken at most at once before the output is read again.
constexpr std::size_t kHeartbeatsPerRound = 1 << 16;
/// Ranks in different collectives of one sequence number for this long are
/// ended as a hang: they can never meet (two heartbeats, so that no stale
/// line decides).
constexpr double kMismatchSeconds = 2.0;
/// How long the ranks get to answer a request for their flight recorders.
constexpr double kFlightAnswerSeconds = 3.0;
/// A rank that exited with a code (not a signal) may be the victim of a lost
/// peer or node: mpirun gets this long to name a lost node before the
/// attempt ends on the rank's own report. A signal ends it at once.
constexpr double kExitSettleSeconds = 0.3;

std::string describe_ranks(const std::vector<int>& ranks, const std::vector<std::string>& hosts) {
  std::string who;
  for (int r : ranks) {
    const std::string host =
        r < static_cast<int>(hosts.size()) ? hosts[static_cast<std::size_t>(r)] : "?";
    who += (who.empty() ? "" : ", ") + std::string("rank ") + std::to_string(r) + " on " + host;
  }
  return who;
}

/// One attempt from fork to reaping: its output, its hang watch, its limits.
class Attempt {
 public:
  explicit Attempt(const AttemptOptions& options)
      : options_(options),
        start_(Clock::now()),
        log_(options.log, options.log_cap_bytes),
        output_(options.ranks),
        last_tick_(start_),
        oom_kills_at_start_(oom_kills()) {
    std::tie(child_, out_fd_) = start_group(options.argv, options.env);
  }

  AttemptResult run() {
    while (!exited_ || pipe_open_) {
      pump_output();
      reap();
      if (exited_)
        continue;
      tick();
      if (options_.heartbeats != nullptr) {
        receive_heartbeats();
        check_rank_exits();
        check_mismatch();
        check_hang();
        check_flight();
      }
      check_wall_time();
      check_stop();
    }
    ::close(out_fd_);
    kill_group(SIGKILL);  // nothing of the attempt survives it
    write_output(output_.flush());
    log_.close();
    return result();
  }

 private:
  void kill_group(int sig) { ::kill(-child_, sig); }
  bool acting() const { return !killed_ && !stopping_ && !collecting_; }

  void write_output(const std::string& text) {
    if (text.empty())
      return;
    log_.write(text.data(), text.size());
    if (options_.echo) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
  }

  /// Reads what mpirun wrote, waiting up to kPollMilliseconds for it or for
  /// a heartbeat (so that a large job's heartbeats never wait long).
  void pump_output() {
    pollfd p[2] = {{pipe_open_ ? out_fd_ : -1, POLLIN, 0},
                   {options_.heartbeats != nullptr ? options_.heartbeats->fd() : -1, POLLIN, 0}};
    if (!pipe_open_ && options_.heartbeats == nullptr)
      return;
    if (::poll(p, 2, kPollMilliseconds) <= 0 || (p[0].revents & (POLLIN | POLLHUP)) == 0)
      return;
    char buffer[65536];
    const ssize_t n = ::read(out_fd_, buffer, sizeof(buffer));
    if (n <= 0) {
      pipe_open_ = false;  // every writer has exited
      return;
    }
    const std::string_view chunk(buffer, static_cast<std::size_t>(n));
    write_output(output_.feed(chunk));
    recent_.append(chunk);
    if (recent_.size() > kRecentOutputBytes)
      recent_.erase(0, recent_.size() - kRecentOutputBytes);
  }

  /// Notices mpirun's exit; then its group may not hold the pipe for long.
  void reap() {
    if (!exited_ && ::waitpid(child_, &status_, WNOHANG) == child_) {
      exited_ = true;
      exit_seen_ = Clock::now();
    }
    if (!exited_ || !pipe_open_)
      return;
    // Processes of the group may still hold the pipe: they must not outlive mpirun.
    kill_group(SIGKILL);
    if (since(exit_seen_) > kPipeDrainSeconds) {
      // Something outside the group holds it (a daemon that detached): stop
      // reading rather than wait for it, and say so.
      pipe_open_ = false;
      write_output("\n[dojo: a process outside the attempt's group kept its output open]\n");
    }
  }

  void tick() {
    if (!options_.on_tick || since(last_tick_) < 1.0)
      return;
    last_tick_ = Clock::now();
    options_.on_tick();
  }

  void receive_heartbeats() {
    beats_.clear();
    options_.heartbeats->receive_waiting(beats_, kHeartbeatsPerRound);
    const Clock::time_point now = Clock::now();
    for (const heartbeat::Heartbeat& beat : beats_) {
      if (!options_.stats->add(beat, now))
        continue;
      if (beat.is_flight()) {
        take_flight(beat);
        continue;
      }
      if (!beat.exited)
        continue;
      if (beat.exit_signal == 0 && (beat.exit_code == kExitOk || beat.exit_code == kExitStopped))
        continue;  // a rank that finished, or stopped cleanly
      if (rank_exits_.empty()) {
        first_exit_ = now;
        first_exit_seen_ = true;
      }
      rank_exits_.push_back(beat);  // each shim reports twice: the ranks are a set later
    }
  }

  /// A rank shim said its rank failed: the attempt ends now, not when mpirun
  /// has torn the other ranks down (about 2 s for Open MPI).
  void check_rank_exits() {
    if (!acting() || rank_exits_.empty() || !options_.act_on_rank_exits)
      return;
    const bool signalled = std::any_of(rank_exits_.begin(), rank_exits_.end(),
                                       [](const auto& e) { return e.exit_signal != 0; });
    if (!signalled && since(first_exit_) < kExitSettleSeconds)
      return;
    ended_on_rank_exit_ = true;
    result_.detected_by = "rank_exit";
    result_.detect_seconds = since(first_exit_);
    end_by_killing(AttemptResult::Outcome::kFailed, "");
  }

  void end_by_killing(AttemptResult::Outcome outcome, std::string reason) {
    result_.outcome = outcome;
    result_.reason = std::move(reason);
    killed_ = true;
    kill_group(SIGKILL);
  }

  /// Ranks that disagree on the collective sequence wait for each other until
  /// the collective's deadline (300 s by default): end the attempt now.
  void check_mismatch() {
    if (!acting())
      return;
    const std::string mismatch =
        options_.stats->collective_mismatch(kMismatchSeconds, Clock::now());
    if (mismatch.empty())
      return;
    result_.detected_by = "heartbeats";
    result_.detect_seconds = kMismatchSeconds;
    end_hang(mismatch);
  }

  /// A hang's end: built-in ranks are asked for their flight recorders
  /// first (the attempt ends when all live ranks answered, or after
  /// kFlightAnswerSeconds); for others the heartbeats give the verdict.
  void end_hang(std::string reason) {
    hang_reason_ = std::move(reason);
    if (options_.flight_request) {
      collecting_ = true;
      flight_asked_ = Clock::now();
      ::kill(child_, SIGUSR2);  // mpirun and srun pass it on; the rank shims too
      return;
    }
    finish_hang(options_.stats->flight_view(Clock::now()));
  }

  void take_flight(const heartbeat::Heartbeat& beat) {
    if (collecting_)
      flight_.take(beat.rank, beat.flight_record, beat.flight_end);
  }

  void check_flight() {
    if (!collecting_ || killed_)
      return;
    const std::size_t quiet = options_.stats->silent(Clock::now()).size();
    const bool all = flight_.answered() + quiet >= static_cast<std::size_t>(options_.ranks);
    if (!all && since(flight_asked_) < kFlightAnswerSeconds)
      return;
    finish_hang(flight_.records());
  }

  void finish_hang(const std::map<int, std::vector<FlightOp>>& records) {
    result_.flight_verdict = flight_verdict(records, options_.ranks);
    write_flight_file(records);
    end_by_killing(AttemptResult::Outcome::kHung,
                   hang_reason_ + "; flight recorder: " + result_.flight_verdict);
  }

  void write_flight_file(const std::map<int, std::vector<FlightOp>>& records) const {
    if (options_.flight_file.empty())
      return;
    try {
      launch::write_flight_file(options_.flight_file, result_.flight_verdict, hang_reason_,
                                options_.flight_request ? "flight recorders" : "heartbeats",
                                options_.ranks, records);
    } catch (const std::exception&) {
      // The verdict is in the message and the events all the same.
    }
  }

  void check_hang() {
    const JobStats& stats = *options_.stats;
    if (!acting() || (options_.watch_from_first_heartbeat && !stats.any_beat()))
      return;
    const Clock::time_point now = Clock::now();
    const std::vector<int> stalled = stats.stalled(options_.hang_timeout_s, now);
    if (stalled.empty())
      return;
    char text[96];
    std::snprintf(text, sizeof(text),
                  "no progress for %.0f s (hang_timeout_s): ", options_.hang_timeout_s);
    // Ranks report once a second, so of ranks stuck by one event some cross
    // the timeout a heartbeat or two after the first: they belong in the report.
    const double slack = std::min(kReportSlackSeconds, options_.hang_timeout_s / 2);
    result_.detected_by = "heartbeats";
    result_.detect_seconds = stats.oldest_progress_age(now);
    const std::string report =
        stats.hang_report(stats.stalled(options_.hang_timeout_s - slack, now), stats.silent(now),
                          result_.failed_ranks);
    end_hang(text + report);
  }

  void check_wall_time() {
    if (acting() && options_.wall_deadline_s > 0 && since(start_) > options_.wall_deadline_s) {
      result_.detected_by = "wall_time";
      end_by_killing(AttemptResult::Outcome::kWallTime, "the job reached its wall-time limit");
    }
  }

  /// A stop request: mpirun forwards SIGUSR1 to the ranks, which save a
  /// checkpoint and exit; after the grace period the group is killed.
  void check_stop() {
    if (acting() && options_.stop_requested != nullptr && options_.stop_requested->load()) {
      stopping_ = true;
      stop_sent_ = Clock::now();
      ::kill(child_, SIGUSR1);
    }
    if (stopping_ && !killed_ && since(stop_sent_) > options_.stop_grace_s) {
      killed_ = true;
      kill_group(SIGKILL);
    }
  }

  AttemptResult result() {
    AttemptResult r = outcome();
    r.cause = cause_of(r);
    if (r.cause == Cause::kKilled) {
      if (!ended_on_rank_exit_)
        r.signal = rank_signal_in(recent_, r.exit_code);
      // The OOM killer's victims die of SIGKILL; its counter says it acted.
      r.oom_killed = (r.signal == SIGKILL || r.signal == 0) && oom_kills_at_start_ >= 0 &&
                     oom_kills() > oom_kills_at_start_;
    }
    return r;
  }

  Cause cause_of(const AttemptResult& r) const {
    switch (r.outcome) {
      case AttemptResult::Outcome::kCompleted:
        return Cause::kCompleted;
      case AttemptResult::Outcome::kHung:
        return Cause::kHang;
      case AttemptResult::Outcome::kStopped:
        return Cause::kStopped;
      case AttemptResult::Outcome::kWallTime:
        return Cause::kWallTime;
      case AttemptResult::Outcome::kFailed:
        break;
    }
    if (!r.lost_nodes.empty())
      return Cause::kNodeLost;
    if (launch_failed_in(recent_, r.exit_code))
      return Cause::kLaunchFailed;
    return r.rank_signalled ? Cause::kKilled : Cause::kUserError;
  }

  /// The failed ranks from their shims' reports: those killed by a signal
  /// when any were (the others are likely their victims), else all.
  void outcome_from_rank_exits(AttemptResult& r, const std::string& program) {
    const bool signalled = std::any_of(rank_exits_.begin(), rank_exits_.end(),
                                       [](const auto& e) { return e.exit_signal != 0; });
    std::set<int> ranks;
    const heartbeat::Heartbeat* first = nullptr;
    for (const heartbeat::Heartbeat& e : rank_exits_) {
      if (signalled && e.exit_signal == 0)
        continue;
      ranks.insert(e.rank);
      first = first != nullptr ? first : &e;
    }
    r.failed_ranks.assign(ranks.begin(), ranks.end());
    r.signal = first->exit_signal;
    r.rank_signalled = signalled;
    r.exit_code = signalled ? 128 + r.signal : first->exit_code;
    r.lost_nodes = lost_nodes_in(recent_, program == "srun");
    const std::string who = describe_ranks(r.failed_ranks, options_.rank_hosts);
    r.reason = signalled ? who + " died of signal " + std::to_string(r.signal)
                         : who + " exited with code " + std::to_string(r.exit_code);
  }

  AttemptResult outcome() {
    AttemptResult& r = result_;
    r.seconds = since(start_);
    r.first_step_seconds = options_.stats != nullptr ? options_.stats->first_step_seconds() : -1;
    r.exit_code = WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
    const std::string program =
        std::filesystem::path(options_.argv.front()).filename() == "srun" ? "srun" : "mpirun";
    if (ended_on_rank_exit_) {
      outcome_from_rank_exits(r, program);
      if (!r.lost_nodes.empty())
        r.reason = lost_node_reason(r, program);
      return r;
    }
    if (collecting_ && !killed_) {  // mpirun ended while the ranks were asked
      result_.flight_verdict = flight_verdict(flight_.records(), options_.ranks);
      r.outcome = AttemptResult::Outcome::kHung;
      r.reason = hang_reason_ + "; flight recorder: " + result_.flight_verdict;
    }
    if (r.outcome == AttemptResult::Outcome::kHung ||
        r.outcome == AttemptResult::Outcome::kWallTime)
      return r;
    if (stopping_) {
      r.outcome = AttemptResult::Outcome::kStopped;
      r.detected_by = "stop";
      r.stop_seconds = since(stop_sent_);
      r.reason = "stopped on request";
      return r;
    }
    if (r.exit_code == kExitOk) {
      r.outcome = AttemptResult::Outcome::kCompleted;
      r.reason = "every rank completed";
      return r;
    }
    if (r.exit_code == kExitStopped) {
      // The ranks saved a checkpoint and stopped on a signal of their own
      // (a scheduler's, an admin's): a clean stop, not a failure to retry.
      r.outcome = AttemptResult::Outcome::kStopped;
      r.detected_by = program;
      r.reason = "the ranks stopped on their own after saving a checkpoint (exit 3)";
      return r;
    }
    r.outcome = AttemptResult::Outcome::kFailed;
    r.detected_by = program;
    if (first_exit_seen_)  // a rank's report that was not acted on
      r.detect_seconds = std::chrono::duration<double>(exit_seen_ - first_exit_).count();
    r.failed_ranks = failed_ranks_in(recent_, program == "srun");
    r.lost_nodes = lost_nodes_in(recent_, program == "srun");
    r.rank_signalled = rank_signal_in(recent_, r.exit_code) != 0;
    if (r.failed_ranks.empty() && options_.stats != nullptr) {
      // mpirun did not say who failed (a lost node often kills it outright):
      // the ranks that went silent before it did.
      r.failed_ranks = options_.stats->silent(Clock::now());
    }
    const std::string ranks = describe_ranks(r.failed_ranks, options_.rank_hosts);
    r.reason = r.lost_nodes.empty() ? program + " exited with code " + std::to_string(r.exit_code) +
                                          (ranks.empty() ? "" : " (" + ranks + " failed)")
                                    : lost_node_reason(r, program);
    return r;
  }

  static std::string lost_node_reason(const AttemptResult& r, const std::string& program) {
    std::string lost;
    for (const std::string& node : r.lost_nodes)
      lost += (lost.empty() ? "" : ", ") + node;
    return "node " + lost + " was lost: its Open MPI daemon or its Slurm step went away (" +
           program + " exited with code " + std::to_string(r.exit_code) + ")";
  }

  const AttemptOptions& options_;
  const Clock::time_point start_;
  CappedLog log_;
  RankOutput output_;
  std::vector<heartbeat::Heartbeat> beats_;       ///< the latest round's
  std::vector<heartbeat::Heartbeat> rank_exits_;  ///< failed ranks, as their shims reported
  Clock::time_point first_exit_;
  bool first_exit_seen_ = false;
  bool collecting_ = false;  ///< waiting for the ranks' flight recorders
  Clock::time_point flight_asked_;
  std::string hang_reason_;
  FlightCollector flight_;
  bool ended_on_rank_exit_ = false;
  pid_t child_ = -1;
  int out_fd_ = -1;
  std::string recent_;  ///< the latest output, to find failed ranks in
  AttemptResult result_;
  int status_ = 0;
  bool exited_ = false;
  bool pipe_open_ = true;
  bool stopping_ = false;
  bool killed_ = false;
  Clock::time_point stop_sent_;
  Clock::time_point last_tick_;
  Clock::time_point exit_seen_;
  long oom_kills_at_start_;
};

}  // namespace

const char* to_string(AttemptResult::Outcome outcome) {
  switch (outcome) {
    case AttemptResult::Outcome::kCompleted:
      return "completed";
    case AttemptResult::Outcome::kFailed:
      return "failed";
    case AttemptResult::Outcome::kHung:
      return "hung";
    case AttemptResult::Outcome::kStopped:
      return "stopped";
    case AttemptResult::Outcome::kWallTime:
      return "wall-time";
  }
  return "?";
}

AttemptResult run_attempt(const AttemptOptions& options) {
  if (options.argv.empty())
    throw LaunchError("nothing to run");
  Attempt attempt(options);
  return attempt.run();
}

}  // namespace dojo::launch
