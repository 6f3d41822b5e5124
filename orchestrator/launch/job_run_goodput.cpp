// JobRun's goodput accounting: each attempt into the ledger, the ledger into
// goodput.json, the metrics and summary.json, across attempts and requeues.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "orchestrator/launch/job_run.h"

namespace dojo::launch {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

long long unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<json> read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in)
    return std::nullopt;
  json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded())
    return std::nullopt;
  return doc;
}

}  // namespace

void JobRun::load_goodput() {
  const std::filesystem::path path = run_dir_ / "goodput.json";
  if (first_attempt_ == 0)
    return;  // a fresh run
  const std::optional<json> doc = read_json(path);
  if (!doc) {
    err_ << "dojo launch: note: " << path.string()
         << " is missing or unreadable; goodput counts this launch's attempts only\n";
    return;
  }
  try {
    goodput_ = GoodputLedger::from_json(*doc);
  } catch (const Error& e) {
    err_ << "dojo launch: note: " << path.string() << ": " << e.what()
         << "; goodput counts this launch's attempts only\n";
    return;
  }
  // Slurm requeued the job: the time since the last launcher wrote the
  // ledger went by in the queue. (A user's relaunch days later is not the
  // job's time.)
  const char* restarts = std::getenv("SLURM_RESTART_COUNT");
  if (restarts != nullptr && std::atoi(restarts) > 0 && doc->contains("updated_unix_ms")) {
    const double waited =
        static_cast<double>(unix_ms() - doc->at("updated_unix_ms").get<long long>()) / 1000.0;
    if (waited > 0)
      goodput_.add_requeue_wait(waited);
  }
}

AttemptRecord JobRun::attempt_record(int attempt, const AttemptResult* ended) const {
  AttemptRecord r;
  r.attempt = attempt;
  r.seconds = ended != nullptr ? ended->seconds : seconds_between(attempt_start_, Clock::now());
  if (stats_) {
    r.first_step_seconds = stats_->first_step_seconds();
    r.resumed_from = stats_->resumed_from_step();
    r.last_step = stats_->last_step();
    r.checkpoint_seconds = stats_->checkpoint_seconds();
    r.checkpoints = stats_->checkpoints();
    r.tail_seconds = stats_->seconds_after_last_step(Clock::now());
  }
  r.step_seconds = figures_.step_seconds;
  if (ended != nullptr) {
    r.cause = to_string(ended->cause);
    r.detect_seconds = ended->detect_seconds;
    r.stop_seconds = ended->stop_seconds;
  } else {
    r.cause = "running";
  }
  return r;
}

void JobRun::publish_goodput(bool running) {
  if (running && current_attempt_ >= 0) {
    if (metrics_) {
      const AttemptRecord now = attempt_record(current_attempt_, nullptr);
      metrics_->goodput(goodput_.totals(&now));
    }
    return;
  }
  json doc = goodput_.to_json();
  doc["updated_unix_ms"] = unix_ms();
  write_file_atomically((run_dir_ / "goodput.json").string(), doc.dump(2) + "\n");
  if (metrics_)
    metrics_->goodput(goodput_.totals());
}

void JobRun::add_goodput_to_summary() {
  const std::filesystem::path path = run_dir_ / "summary.json";
  std::optional<json> summary = read_json(path);
  if (!summary || !summary->is_object())
    return;  // rank 0 wrote none here (it ran on another node, or failed first)
  (*summary)["goodput"] = goodput_json(goodput_);
  (*summary)["attempts"] = goodput_.attempts().size();  // every launch's, requeues included
  write_file_atomically(path.string(), summary->dump(2) + "\n");
}

}  // namespace dojo::launch
