#include "orchestrator/launch/job_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace dojo::launch {
namespace {

using Clock = JobStats::Clock;

/// A rank is silent when its last heartbeat is this old...
constexpr double kSilentAfterSeconds = 3.0;
/// ...and this much older than the freshest rank's.
constexpr double kSilentMarginSeconds = 2.0;
/// A hang report names this many ranks and counts the rest.
constexpr std::size_t kRanksNamed = 8;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

/// The median of `values` (the lower one of an even count, so that of two
/// ranks the faster is the yardstick); NaN for none.
double lower_median(std::vector<double> values) {
  if (values.empty())
    return std::numeric_limits<double>::quiet_NaN();
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>((values.size() - 1) / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

}  // namespace

std::string StragglerReport::describe(int steps) const {
  char text[256];
  std::snprintf(text, sizeof(text),
                "rank %d on %s: %.3g s of compute a step, %.2gx the median %.3g s, for %d steps "
                "(step %lld)",
                rank, host.c_str(), compute_seconds, ratio, median_compute_seconds, steps,
                static_cast<long long>(step));
  return text;
}

JobStats::JobStats(std::string job, int attempt, std::vector<std::string> rank_hosts,
                   StragglerPolicy policy, Clock::time_point start)
    : job_(std::move(job)),
      attempt_(attempt),
      hosts_(std::move(rank_hosts)),
      policy_(policy),
      start_(start),
      ranks_(hosts_.size()) {
  for (Rank& r : ranks_)
    r.last_beat = r.last_progress = start;
}

bool JobStats::add(const heartbeat::Heartbeat& beat, Clock::time_point now) {
  if (beat.attempt != attempt_ || beat.rank < 0 || beat.rank >= ranks() || beat.job != job_)
    return false;
  Rank& r = ranks_[static_cast<std::size_t>(beat.rank)];
  if (beat.is_flight())
    return true;  // the supervisor reads flight records itself
  if (beat.exited) {
    r.done = true;
    return true;
  }
  any_beat_ = true;
  r.last_beat = now;
  r.done = beat.done;
  r.collective = beat.collective;
  r.collective_sequence = beat.sequence;
  if (!std::isnan(beat.loss))
    r.loss = beat.loss;
  const bool stepped = beat.step > r.step;
  if (beat.rank == 0) {
    if (beat.checkpoint_seconds > checkpoint_seconds_) {
      checkpoint_seconds_ = beat.checkpoint_seconds;
      ++checkpoints_;
    }
    if (stepped && r.beat && !resumed_known_) {
      resumed_from_ = beat.step - 1;  // the step before its first one here
      resumed_known_ = true;
    }
    if (stepped) {
      last_step_at_ = now;
      checkpoint_seconds_at_last_step_ = checkpoint_seconds_;
    }
  }
  if (stepped || beat.sequence > r.sequence || !r.beat) {
    if (stepped && r.beat && first_step_seconds_ < 0)
      first_step_seconds_ = seconds_between(start_, now);
    r.last_progress = now;
  }
  r.beat = true;
  r.sequence = std::max(r.sequence, beat.sequence);
  if (!stepped)
    return true;
  r.step = beat.step;
  r.newest = r.samples == 0 ? 0 : (r.newest + 1) % kWindow;
  r.window[r.newest] = {beat.step, beat.step_seconds, beat.comm_seconds, beat.samples};
  r.samples = std::min(kWindow, r.samples + 1);
  return true;
}

std::string JobStats::collective_mismatch(double persist_s, Clock::time_point now) {
  std::map<std::uint64_t, int> first_in;  // sequence -> the first rank seen in it
  std::string found;
  for (int i = 0; i < ranks() && found.empty(); ++i) {
    const Rank& r = ranks_[static_cast<std::size_t>(i)];
    if (r.done || r.collective.empty())
      continue;
    const auto [it, fresh] = first_in.emplace(r.collective_sequence, i);
    const Rank& other = ranks_[static_cast<std::size_t>(it->second)];
    if (!fresh && other.collective != r.collective) {
      const std::string seq = " #" + std::to_string(r.collective_sequence);
      found = "collective mismatch: rank " + std::to_string(it->second) + " on " +
              hosts_[static_cast<std::size_t>(it->second)] + " in " + other.collective + seq +
              ", rank " + std::to_string(i) + " on " + hosts_[static_cast<std::size_t>(i)] +
              " in " + r.collective + seq + ": the ranks disagree on the collective sequence";
    }
  }
  if (found != mismatch_) {
    mismatch_ = found;
    mismatch_since_ = now;
  }
  return !mismatch_.empty() && seconds_between(mismatch_since_, now) >= persist_s ? mismatch_ : "";
}

std::map<int, std::vector<FlightOp>> JobStats::flight_view(Clock::time_point now) const {
  std::map<int, std::vector<FlightOp>> view;
  const std::vector<int> quiet = silent(now);
  for (int i = 0; i < ranks(); ++i) {
    const Rank& r = ranks_[static_cast<std::size_t>(i)];
    if (!r.beat || std::find(quiet.begin(), quiet.end(), i) != quiet.end())
      continue;
    FlightOp op;
    if (!r.collective.empty()) {
      op.seq = r.collective_sequence;
      op.op = r.collective;
      op.started_ago = seconds_between(r.last_progress, now);
    } else {
      op.seq = r.sequence;
      op.op = "collective";
      op.state = "completed";
    }
    view[i].push_back(op);
  }
  return view;
}

double JobStats::seconds_after_last_step(Clock::time_point now) const {
  if (last_step_at_ == Clock::time_point{})
    return 0.0;
  const double after = seconds_between(last_step_at_, now);
  return std::max(0.0, after - (checkpoint_seconds_ - checkpoint_seconds_at_last_step_));
}

double JobStats::oldest_progress_age(Clock::time_point now) const {
  double age = 0;
  for (const Rank& r : ranks_) {
    if (!r.done)
      age = std::max(age, seconds_between(r.last_progress, now));
  }
  return age;
}

std::vector<int> JobStats::stalled(double timeout_s, Clock::time_point now) const {
  std::vector<int> found;
  for (int i = 0; i < ranks(); ++i) {
    const Rank& r = ranks_[static_cast<std::size_t>(i)];
    if (!r.done && seconds_between(r.last_progress, now) > timeout_s)
      found.push_back(i);
  }
  return found;
}

std::vector<int> JobStats::silent(Clock::time_point now) const {
  double freshest = 1e300;
  for (const Rank& r : ranks_) {
    if (!r.done)
      freshest = std::min(freshest, seconds_between(r.last_beat, now));
  }
  std::vector<int> found;
  for (int i = 0; i < ranks(); ++i) {
    const Rank& r = ranks_[static_cast<std::size_t>(i)];
    const double age = seconds_between(r.last_beat, now);
    if (!r.done && age > kSilentAfterSeconds && age > freshest + kSilentMarginSeconds)
      found.push_back(i);
  }
  return found;
}

std::string JobStats::describe(int rank) const {
  const auto i = static_cast<std::size_t>(rank);
  std::string text =
      "rank " + std::to_string(rank) + " on " + (i < hosts_.size() ? hosts_[i] : "?");
  const Rank& r = ranks_.at(i);
  if (!r.beat)
    return text + " (no heartbeat yet)";
  text += " (step " + std::to_string(r.step);
  if (r.collective.empty())
    return text + ", not in a collective)";
  return text + ", in " + r.collective + " #" + std::to_string(r.sequence) + ")";
}

std::string JobStats::hang_report(const std::vector<int>& stalled, const std::vector<int>& silent,
                                  std::vector<int>& blamed) const {
  std::vector<int> outside;
  bool some_inside = false;
  for (int i : stalled) {
    if (ranks_[static_cast<std::size_t>(i)].collective.empty())
      outside.push_back(i);
    else
      some_inside = true;
  }
  if (!silent.empty())
    blamed = silent;
  else if (!outside.empty() && some_inside)
    blamed = outside;  // they hold up the ranks that wait in a collective
  else
    blamed = stalled;
  std::string named;
  for (std::size_t k = 0; k < blamed.size() && k < kRanksNamed; ++k)
    named += (k == 0 ? "" : ", ") + describe(blamed[k]);
  if (blamed.size() > kRanksNamed)
    named += " and " + std::to_string(blamed.size() - kRanksNamed) + " more";
  // Where the other running ranks are: most often waiting for the blamed.
  std::vector<bool> is_blamed(ranks_.size(), false);
  for (int b : blamed)
    is_blamed[static_cast<std::size_t>(b)] = true;
  std::map<std::string, int> waiting;
  for (std::size_t i = 0; i < ranks_.size(); ++i) {
    const Rank& r = ranks_[i];
    if (!is_blamed[i] && !r.done && r.beat && !r.collective.empty())
      ++waiting[r.collective];
  }
  std::string others;
  for (const auto& [collective, n] : waiting)
    others += "; " + std::to_string(n) + (n == 1 ? " other rank waits" : " other ranks wait") +
              " in " + collective;
  if (!silent.empty())
    return named + " stopped sending heartbeats" + others;
  if (blamed.size() != stalled.size())
    return named + others;
  return "from " + named + others;
}

bool JobStats::per_step(const Rank& r, double& step_seconds, double& compute_seconds,
                        double& samples_per_second) const {
  if (r.samples < 2)
    return false;
  const Sample& newest = r.window[r.newest];
  const Sample& oldest = r.window[(r.newest + kWindow - (r.samples - 1)) % kWindow];
  const double steps = static_cast<double>(newest.step - oldest.step);
  const double seconds = newest.step_seconds - oldest.step_seconds;
  if (steps <= 0 || seconds <= 0)
    return false;
  const double comm = std::clamp(newest.comm_seconds - oldest.comm_seconds, 0.0, seconds);
  step_seconds = seconds / steps;
  compute_seconds = (seconds - comm) / steps;
  samples_per_second = static_cast<double>(newest.samples - oldest.samples) / seconds;
  return true;
}

JobFigures JobStats::figures() const {
  JobFigures f;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  f.rank_step_seconds.assign(ranks_.size(), nan);
  f.rank_compute_seconds.assign(ranks_.size(), nan);
  std::vector<double> steps, computes, comm_ratios;
  double slowest = -1;
  for (std::size_t i = 0; i < ranks_.size(); ++i) {
    double step = 0, compute = 0, rate = 0;
    if (!per_step(ranks_[i], step, compute, rate))
      continue;
    f.rank_step_seconds[i] = step;
    f.rank_compute_seconds[i] = compute;
    steps.push_back(step);
    computes.push_back(compute);
    comm_ratios.push_back(1.0 - compute / step);
    f.samples_per_second += rate;
    if (compute > slowest) {
      slowest = compute;
      f.slowest_rank = static_cast<int>(i);
    }
  }
  f.ranks_measured = static_cast<int>(steps.size());
  if (!ranks_.empty()) {
    f.step = ranks_.front().step;
    f.loss = ranks_.front().loss;
  }
  f.step_seconds = lower_median(steps);
  f.compute_seconds = lower_median(computes);
  f.communication_ratio = lower_median(comm_ratios);
  if (f.compute_seconds > 0)
    f.straggler_ratio = slowest / f.compute_seconds;
  return f;
}

std::vector<StragglerReport> JobStats::new_stragglers() {
  const JobFigures f = figures();
  std::vector<StragglerReport> found;
  if (f.ranks_measured < 2 || !(f.compute_seconds > 0))
    return found;
  for (std::size_t i = 0; i < ranks_.size(); ++i) {
    Rank& r = ranks_[i];
    const double compute = f.rank_compute_seconds[i];
    if (!(compute > policy_.ratio * f.compute_seconds)) {
      r.above_since = -1;
      continue;
    }
    if (r.above_since < 0)
      r.above_since = r.window[(r.newest + kWindow - (r.samples - 1)) % kWindow].step;
    if (r.reported || r.step - r.above_since < policy_.steps)
      continue;
    r.reported = true;
    found.push_back({static_cast<int>(i), i < hosts_.size() ? hosts_[i] : "?", r.step, compute,
                     f.compute_seconds, compute / f.compute_seconds});
  }
  return found;
}

}  // namespace dojo::launch
