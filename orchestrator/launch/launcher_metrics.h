#pragma once
// The launcher's supervision metrics, and the Prometheus file_sd targets
// through which Prometheus finds a running job without a config change.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace dojo::launch {

class LauncherMetrics {
 public:
  LauncherMetrics(const std::string& job, int ranks, double h100e);
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  /// One of placing, running, restarting, completed, failed, stopped.
  void state(const std::string& state);
  void attempt(int attempt) { attempt_->Set(attempt); }
  void restarted() { restarts_->Increment(); }
  /// Seconds since the rank with the oldest progress last made some.
  void heartbeat_age(double seconds) { heartbeat_age_->Set(seconds); }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::pair<std::string, prometheus::Gauge*>> states_;
  prometheus::Gauge* attempt_;
  prometheus::Counter* restarts_;
  prometheus::Gauge* heartbeat_age_;
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
