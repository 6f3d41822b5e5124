#pragma once
// What the launcher learns about a job from its ranks' heartbeats, the same
// way for a built-in workload, a PyTorch script or any other program: which
// ranks make progress, which went silent or hang in which collective, each
// rank's step time over a sliding window, throughput, loss, and stragglers.

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/heartbeat/heartbeat.h"
#include "orchestrator/launch/flight_verdict.h"

namespace dojo::launch {

/// When a rank is a straggler: its compute time per step (the step less the
/// time inside collectives, over the sliding window) stays above `ratio`
/// times the ranks' median for `steps` steps.
struct StragglerPolicy {
  double ratio = 1.5;
  int steps = 20;
};

/// The job's figures over the sliding window (NaN where nothing was sent).
struct JobFigures {
  int ranks_measured = 0;  ///< ranks that sent step figures over the window
  std::int64_t step = -1;  ///< rank 0's last finished step
  double step_seconds = std::numeric_limits<double>::quiet_NaN();     ///< median rank
  double compute_seconds = std::numeric_limits<double>::quiet_NaN();  ///< median rank
  double communication_ratio = std::numeric_limits<double>::quiet_NaN();
  double samples_per_second = 0;                           ///< all ranks together
  double loss = std::numeric_limits<double>::quiet_NaN();  ///< rank 0's last
  int slowest_rank = -1;                                   ///< the largest compute time per step
  double straggler_ratio = std::numeric_limits<double>::quiet_NaN();  ///< its over the median
  std::vector<double> rank_step_seconds;     ///< per rank; NaN: not measured
  std::vector<double> rank_compute_seconds;  ///< per rank; NaN: not measured
};

struct StragglerReport {
  int rank = 0;
  std::string host;
  std::int64_t step = 0;
  double compute_seconds = 0;         ///< its, per step
  double median_compute_seconds = 0;  ///< the ranks'
  double ratio = 0;
  /// "rank 2 on node-3: 0.061 s of compute a step, 5.1x the median 0.012 s, for 20 steps (step
  /// 140)"
  std::string describe(int steps) const;
};

class JobStats {
 public:
  using Clock = std::chrono::steady_clock;

  JobStats(std::string job, int attempt, std::vector<std::string> rank_hosts,
           StragglerPolicy policy, Clock::time_point start);

  /// Takes one heartbeat; false when it is another job's or attempt's, or
  /// names a rank the job does not have. A dojo-exit line marks its rank as
  /// no longer running.
  bool add(const heartbeat::Heartbeat& beat, Clock::time_point now);

  int ranks() const { return static_cast<int>(ranks_.size()); }
  int attempt() const { return attempt_; }
  /// Whether any rank has sent a heartbeat this attempt.
  bool any_beat() const { return any_beat_; }
  /// Seconds from the start to the first heartbeat that showed a step; -1 before.
  double first_step_seconds() const { return first_step_seconds_; }
  /// Rank 0's step before its first progress this attempt (where it resumed
  /// from; -1 for a fresh start), and its last finished step: -1 unknown.
  std::int64_t resumed_from_step() const { return resumed_from_; }
  std::int64_t last_step() const { return ranks_.empty() ? -1 : ranks_.front().step; }
  /// Rank 0's seconds saving checkpoints this attempt, as it reported them.
  double checkpoint_seconds() const { return checkpoint_seconds_; }
  /// Rank 0's checkpoint saves seen this attempt (each growth of its total).
  int checkpoints() const { return checkpoints_; }
  /// Seconds since rank 0's last step, less the checkpoint saves it reported
  /// since (evaluation, the final save aside, exit); 0 before its first step.
  double seconds_after_last_step(Clock::time_point now) const;
  /// Seconds since the slowest rank (of those still running) last made progress.
  double oldest_progress_age(Clock::time_point now) const;
  /// Running ranks without progress for longer than `timeout_s`.
  std::vector<int> stalled(double timeout_s, Clock::time_point now) const;
  /// Running ranks gone silent while others still beat: a dead node, a cut
  /// link, a stopped process.
  std::vector<int> silent(Clock::time_point now) const;

  /// The hang report: who is to blame (silent ranks, else ranks outside the
  /// collective the others wait in, else all stalled ones) in `blamed`, and
  /// one line naming each with its host, last step and collective.
  std::string hang_report(const std::vector<int>& stalled, const std::vector<int>& silent,
                          std::vector<int>& blamed) const;
  /// "rank 1 on node-2 (step 5, in all_reduce #12)"
  std::string describe(int rank) const;

  /// Two running ranks inside collectives of the same sequence number but of
  /// different operations (one in barrier #78, another in all_reduce #78):
  /// they can never meet. Once seen for `persist_s`, the line naming both
  /// ("collective mismatch: rank 0 on n1 in barrier #78, rank 1 on n2 in
  /// all_reduce #78"); else "".
  std::string collective_mismatch(double persist_s, Clock::time_point now);
  /// What the heartbeats say of each rank's collectives, for a flight
  /// verdict when ranks keep no flight recorder (command jobs): the one it
  /// is in, else the number it reached. Silent ranks are left out.
  std::map<int, std::vector<FlightOp>> flight_view(Clock::time_point now) const;

  JobFigures figures() const;
  /// Ranks that just became stragglers under the policy; each is reported
  /// once an attempt. Call about once a second.
  std::vector<StragglerReport> new_stragglers();

 private:
  /// One heartbeat's running totals, for the sliding window.
  struct Sample {
    std::int64_t step = 0;
    double step_seconds = 0;
    double comm_seconds = 0;
    std::int64_t samples = 0;
  };
  /// The last kWindow samples that showed a new step.
  static constexpr std::size_t kWindow = 8;

  struct Rank {
    Clock::time_point last_beat;
    Clock::time_point last_progress;
    bool beat = false;
    bool done = false;
    std::int64_t step = -1;
    std::uint64_t sequence = 0;
    double loss = std::numeric_limits<double>::quiet_NaN();
    std::string collective;
    std::uint64_t collective_sequence = 0;  ///< the sequence its latest beat named with it
    Sample window[kWindow];
    std::size_t samples = 0;        ///< in the window so far (at most kWindow)
    std::size_t newest = 0;         ///< index of the newest
    std::int64_t above_since = -1;  ///< the step from which it was a straggler
    bool reported = false;
  };

  /// Per step over the window: step time, compute time; false when the
  /// window spans no step.
  bool per_step(const Rank& r, double& step_seconds, double& compute_seconds,
                double& samples_per_second) const;

  std::string job_;
  int attempt_;
  std::vector<std::string> hosts_;
  StragglerPolicy policy_;
  Clock::time_point start_;
  std::vector<Rank> ranks_;
  bool any_beat_ = false;
  double first_step_seconds_ = -1;
  std::int64_t resumed_from_ = -1;
  bool resumed_known_ = false;
  double checkpoint_seconds_ = 0;
  int checkpoints_ = 0;
  std::string mismatch_;  ///< the mismatch seen, and since when
  Clock::time_point mismatch_since_{};
  Clock::time_point last_step_at_{};
  double checkpoint_seconds_at_last_step_ = 0;
};

}  // namespace dojo::launch
