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
  state("placing");
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
