#include "orchestrator/launch/launcher_metrics.h"

#include "common/atomic_file.h"

namespace dojo::launch {

LauncherMetrics::LauncherMetrics(const std::string& job, int ranks, double h100e)
    : registry_(std::make_shared<prometheus::Registry>()) {
  const prometheus::Labels labels{{"job_name", job}};
  auto& state_family = prometheus::BuildGauge()
                           .Name("dojo_launcher_job_state")
                           .Help("1 for the job's current supervision state, 0 for the others.")
                           .Register(*registry_);
  for (const char* s : {"placing", "running", "restarting", "completed", "failed", "stopped"}) {
    states_.emplace_back(s, &state_family.Add({{"job_name", job}, {"state", s}}));
  }
  attempt_ = &prometheus::BuildGauge()
                  .Name("dojo_launcher_attempt")
                  .Help("The job's current attempt (0 for the first).")
                  .Register(*registry_)
                  .Add(labels);
  restarts_ = &prometheus::BuildCounter()
                   .Name("dojo_launcher_restarts_total")
                   .Help("Restarts of the job after a failed or hung attempt.")
                   .Register(*registry_)
                   .Add(labels);
  prometheus::BuildGauge()
      .Name("dojo_launcher_ranks")
      .Help("Ranks the job runs on.")
      .Register(*registry_)
      .Add(labels)
      .Set(ranks);
  prometheus::BuildGauge()
      .Name("dojo_launcher_allocated_h100e")
      .Help("H100-equivalents booked for the job.")
      .Register(*registry_)
      .Add(labels)
      .Set(h100e);
  heartbeat_age_ = &prometheus::BuildGauge()
                        .Name("dojo_launcher_heartbeat_age_seconds")
                        .Help("Seconds since the slowest rank last reported progress.")
                        .Register(*registry_)
                        .Add(labels);
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add(labels);
  };
  step_ = gauge("dojo_launcher_step", "Rank 0's last finished step, from its heartbeats.");
  step_seconds_ =
      gauge("dojo_launcher_step_seconds", "Step time of the median rank over the sliding window.");
  compute_seconds_ =
      gauge("dojo_launcher_compute_seconds", "Step time outside collectives of the median rank.");
  communication_ratio_ = gauge("dojo_launcher_communication_ratio",
                               "Share of the median rank's step spent inside collectives.");
  samples_per_second_ =
      gauge("dojo_launcher_samples_per_second", "Samples per second of all ranks together.");
  loss_ = gauge("dojo_launcher_loss", "Rank 0's last loss.");
  slowest_rank_ = gauge("dojo_launcher_slowest_rank",
                        "The rank with the largest compute time per step over the window.");
  straggler_ratio_ = gauge("dojo_launcher_straggler_ratio",
                           "The slowest rank's compute time per step over the median rank's.");
  ranks_measured_ = gauge("dojo_launcher_ranks_measured",
                          "Ranks whose heartbeats carried step figures over the window.");
  stragglers_ = &prometheus::BuildCounter()
                     .Name("dojo_launcher_stragglers_total")
                     .Help("Ranks reported as stragglers (once an attempt each).")
                     .Register(*registry_)
                     .Add(labels);
  goodput_ratio_ = gauge("dojo_job_goodput_ratio",
                         "Productive training time over the job's wall time so far, over all its "
                         "attempts and requeues (docs/RELIABILITY.md, goodput).");
  auto& badput_family = prometheus::BuildCounter()
                            .Name("dojo_job_badput_seconds_total")
                            .Help(
                                "Seconds of the job's wall time that trained nothing kept, by "
                                "cause (startup, restore, checkpoint, lost_work, detection, "
                                "backoff, stopped, requeued, shutdown).")
                            .Register(*registry_);
  for (Badput b : kAllBadput)
    badput_[b] = {&badput_family.Add({{"job_name", job}, {"cause", to_string(b)}}), 0.0};
  if (ranks <= kPerRankSeriesLimit) {
    auto& step_family = prometheus::BuildGauge()
                            .Name("dojo_launcher_rank_step_seconds")
                            .Help("Each rank's step time over the sliding window.")
                            .Register(*registry_);
    auto& compute_family = prometheus::BuildGauge()
                               .Name("dojo_launcher_rank_compute_seconds")
                               .Help("Each rank's step time outside collectives.")
                               .Register(*registry_);
    for (int r = 0; r < ranks; ++r) {
      const prometheus::Labels rank{{"job_name", job}, {"rank", std::to_string(r)}};
      rank_step_seconds_.push_back(&step_family.Add(rank));
      rank_compute_seconds_.push_back(&compute_family.Add(rank));
    }
  }
  auto& causes = prometheus::BuildCounter()
                     .Name("dojo_launcher_attempts_total")
                     .Help("Attempts of the job that ended, by cause.")
                     .Register(*registry_);
  for (Cause c : kAllCauses)
    attempts_by_cause_.emplace_back(to_string(c),
                                    &causes.Add({{"job_name", job}, {"cause", to_string(c)}}));
  state("placing");
}

void LauncherMetrics::attempt_ended(const std::string& cause) {
  for (const auto& [name, counter] : attempts_by_cause_) {
    if (name == cause)
      counter->Increment();
  }
}

void LauncherMetrics::goodput(const GoodputTotals& totals) {
  goodput_ratio_->Set(totals.ratio());
  for (auto& [cause, counter] : badput_) {
    const auto it = totals.badput_seconds.find(cause);
    const double now = it == totals.badput_seconds.end() ? 0.0 : it->second;
    if (now > counter.second) {
      counter.first->Increment(now - counter.second);
      counter.second = now;
    }
  }
}

void LauncherMetrics::figures(const JobFigures& f) {
  step_->Set(static_cast<double>(f.step));
  step_seconds_->Set(f.step_seconds);
  compute_seconds_->Set(f.compute_seconds);
  communication_ratio_->Set(f.communication_ratio);
  samples_per_second_->Set(f.samples_per_second);
  loss_->Set(f.loss);
  slowest_rank_->Set(f.slowest_rank);
  straggler_ratio_->Set(f.straggler_ratio);
  ranks_measured_->Set(f.ranks_measured);
  for (std::size_t r = 0; r < rank_step_seconds_.size() && r < f.rank_step_seconds.size(); ++r) {
    rank_step_seconds_[r]->Set(f.rank_step_seconds[r]);
    rank_compute_seconds_[r]->Set(f.rank_compute_seconds[r]);
  }
}

void LauncherMetrics::state(const std::string& state) {
  for (const auto& [name, gauge] : states_)
    gauge->Set(name == state ? 1 : 0);
}

FileSdTargets::FileSdTargets(std::filesystem::path path, std::string job)
    : path_(std::move(path)), job_(std::move(job)) {
  std::filesystem::create_directories(path_.parent_path());
}

FileSdTargets::~FileSdTargets() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

void FileSdTargets::set(const std::string& role, const std::string& target) {
  for (auto& [r, t] : targets_) {
    if (r == role) {
      t = target;
      write();
      return;
    }
  }
  targets_.emplace_back(role, target);
  write();
}

void FileSdTargets::write() const {
  // Job and role names are label-safe identifiers: no escaping needed.
  std::string json = "[";
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    json += std::string(i == 0 ? "" : ",") + "\n  {\"targets\": [\"" + targets_[i].second +
            "\"], \"labels\": {\"job_name\": \"" + job_ + "\", \"dojo_role\": \"" +
            targets_[i].first + "\"}}";
  }
  write_file_atomically(path_.string(), json + "\n]\n");
}

}  // namespace dojo::launch
