#pragma once
// The launcher's supervision metrics, and the Prometheus file_sd targets
// through which Prometheus finds a running job without a config change.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "orchestrator/launch/attempt_cause.h"
#include "orchestrator/launch/goodput.h"
#include "orchestrator/launch/job_stats.h"

namespace dojo::launch {

class LauncherMetrics {
 public:
  LauncherMetrics(const std::string& job, int ranks, double h100e);
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  /// One of placing, running, restarting, completed, failed, stopped.
  void state(const std::string& state);
  void attempt(int attempt) { attempt_->Set(attempt); }
  void restarted() { restarts_->Increment(); }
  /// An attempt ended, for `cause` (attempt_cause.h's words).
  void attempt_ended(const std::string& cause);
  /// Seconds since the rank with the oldest progress last made some.
  void heartbeat_age(double seconds) { heartbeat_age_->Set(seconds); }
  /// The job's figures from its ranks' heartbeats. Per-rank series only for
  /// jobs of up to kPerRankSeriesLimit ranks, so that a fleet-scale job
  /// does not flood Prometheus; the slowest rank is always named.
  void figures(const JobFigures& f);
  void straggler_reported() { stragglers_->Increment(); }
  /// dojo_job_goodput_ratio and dojo_job_badput_seconds_total{cause}: the
  /// counters grow by what each cause's total grew since the last call.
  void goodput(const GoodputTotals& totals);

  static constexpr int kPerRankSeriesLimit = 1024;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::pair<std::string, prometheus::Gauge*>> states_;
  prometheus::Gauge* attempt_;
  prometheus::Counter* restarts_;
  std::vector<std::pair<std::string, prometheus::Counter*>> attempts_by_cause_;
  prometheus::Gauge* heartbeat_age_;
  prometheus::Gauge* step_;
  prometheus::Gauge* step_seconds_;
  prometheus::Gauge* compute_seconds_;
  prometheus::Gauge* communication_ratio_;
  prometheus::Gauge* samples_per_second_;
  prometheus::Gauge* loss_;
  prometheus::Gauge* slowest_rank_;
  prometheus::Gauge* straggler_ratio_;
  prometheus::Gauge* ranks_measured_;
  prometheus::Counter* stragglers_;
  prometheus::Gauge* goodput_ratio_;
  std::map<Badput, std::pair<prometheus::Counter*, double>> badput_;  ///< counter, last total
  std::vector<prometheus::Gauge*> rank_step_seconds_;
  std::vector<prometheus::Gauge*> rank_compute_seconds_;
};

/// A file_sd target file for one job: a JSON list of target groups, written
/// atomically and removed when the object goes away.
class FileSdTargets {
 public:
  FileSdTargets(std::filesystem::path path, std::string job);
  ~FileSdTargets();
  FileSdTargets(const FileSdTargets&) = delete;
  FileSdTargets& operator=(const FileSdTargets&) = delete;

  /// Sets the targets of `role` ("launcher", "job") and rewrites the file.
  void set(const std::string& role, const std::string& target);
  const std::filesystem::path& path() const { return path_; }

 private:
  void write() const;

  std::filesystem::path path_;
  std::string job_;
  std::vector<std::pair<std::string, std::string>> targets_;  // role, host:port
};

}  // namespace dojo::launch
