#include "orchestrator/launch/goodput.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace dojo::launch {
namespace {

using json = nlohmann::json;

json finite_or_null(double value) {
  return std::isfinite(value) ? json(value) : json(nullptr);
}

/// Seconds per step of an attempt: as measured, else its stepping time over
/// its steps.
double seconds_per_step(const AttemptRecord& a, double stepping) {
  if (std::isfinite(a.step_seconds) && a.step_seconds > 0)
    return a.step_seconds;
  const std::int64_t steps = a.last_step - std::max<std::int64_t>(a.resumed_from, 0);
  return steps > 0 ? stepping / static_cast<double>(steps) : 0.0;
}

/// Takes up to `want` seconds out of `left`; returns what it took.
double take(double& left, double want) {
  const double got = std::clamp(want, 0.0, std::max(0.0, left));
  left -= got;
  return got;
}

}  // namespace

const char* to_string(Badput badput) {
  switch (badput) {
    case Badput::kStartup:
      return "startup";
    case Badput::kRestore:
      return "restore";
    case Badput::kCheckpoint:
      return "checkpoint";
    case Badput::kLostWork:
      return "lost_work";
    case Badput::kDetection:
      return "detection";
    case Badput::kBackoff:
      return "backoff";
    case Badput::kStopped:
      return "stopped";
    case Badput::kRequeued:
      return "requeued";
    case Badput::kShutdown:
      return "shutdown";
  }
  return "?";
}

double GoodputTotals::ratio() const {
  return total_seconds > 0 ? productive_seconds / total_seconds
                           : std::numeric_limits<double>::quiet_NaN();
}

GoodputTotals GoodputLedger::totals(const AttemptRecord* running) const {
  GoodputTotals t;
  for (Badput b : kAllBadput)
    t.badput_seconds[b] = 0;
  t.badput_seconds[Badput::kStartup] = setup_seconds_;
  t.badput_seconds[Badput::kBackoff] = backoff_seconds_;
  t.badput_seconds[Badput::kRequeued] = requeued_seconds_;
  std::vector<AttemptRecord> all = attempts_;
  if (running != nullptr)
    all.push_back(*running);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const AttemptRecord& a = all[i];
    const bool ended = running == nullptr || i + 1 < all.size();
    double left = a.seconds;
    const bool stepped = a.first_step_seconds >= 0;
    const Badput start = a.resumed_from > 0 ? Badput::kRestore : Badput::kStartup;
    t.badput_seconds[start] += take(left, stepped ? a.first_step_seconds : a.seconds);
    const double stepping = left;
    if (ended && a.cause != "completed")
      t.badput_seconds[Badput::kDetection] += take(left, a.detect_seconds);
    t.badput_seconds[Badput::kStopped] += take(left, a.stop_seconds);
    t.badput_seconds[Badput::kCheckpoint] += take(left, a.checkpoint_seconds);
    if (a.cause == "completed")
      t.badput_seconds[Badput::kShutdown] += take(left, a.tail_seconds);
    // Work past the point a later attempt resumed from was done twice.
    if (i + 1 < all.size() && all[i + 1].resumed_from >= 0 && a.last_step >= 0) {
      const std::int64_t lost = std::max<std::int64_t>(0, a.last_step - all[i + 1].resumed_from);
      t.lost_steps += lost;
      t.badput_seconds[Badput::kLostWork] +=
          take(left, static_cast<double>(lost) * seconds_per_step(a, stepping));
    }
    t.productive_seconds += left;
  }
  t.total_seconds = t.productive_seconds;
  for (const auto& [cause, seconds] : t.badput_seconds)
    t.total_seconds += seconds;
  return t;
}

json GoodputLedger::to_json() const {
  json attempts = json::array();
  for (const AttemptRecord& a : attempts_) {
    attempts.push_back({{"attempt", a.attempt},
                        {"cause", a.cause},
                        {"seconds", a.seconds},
                        {"first_step_seconds", a.first_step_seconds},
                        {"resumed_from", a.resumed_from},
                        {"last_step", a.last_step},
                        {"step_seconds", finite_or_null(a.step_seconds)},
                        {"checkpoint_seconds", a.checkpoint_seconds},
                        {"checkpoints", a.checkpoints},
                        {"detect_seconds", a.detect_seconds},
                        {"stop_seconds", a.stop_seconds},
                        {"tail_seconds", a.tail_seconds}});
  }
  return {{"version", 1},
          {"setup_seconds", setup_seconds_},
          {"backoff_seconds", backoff_seconds_},
          {"requeued_seconds", requeued_seconds_},
          {"attempts", attempts}};
}

GoodputLedger GoodputLedger::from_json(const json& doc) {
  GoodputLedger ledger;
  try {
    if (doc.at("version").get<int>() != 1)
      throw Error("goodput ledger version " + doc.at("version").dump() + " is not 1");
    ledger.setup_seconds_ = doc.at("setup_seconds").get<double>();
    ledger.backoff_seconds_ = doc.at("backoff_seconds").get<double>();
    ledger.requeued_seconds_ = doc.at("requeued_seconds").get<double>();
    for (const json& a : doc.at("attempts")) {
      AttemptRecord r;
      r.attempt = a.at("attempt").get<int>();
      r.cause = a.at("cause").get<std::string>();
      r.seconds = a.at("seconds").get<double>();
      r.first_step_seconds = a.at("first_step_seconds").get<double>();
      r.resumed_from = a.at("resumed_from").get<std::int64_t>();
      r.last_step = a.at("last_step").get<std::int64_t>();
      if (!a.at("step_seconds").is_null())
        r.step_seconds = a.at("step_seconds").get<double>();
      r.checkpoint_seconds = a.at("checkpoint_seconds").get<double>();
      r.checkpoints = a.value("checkpoints", 0);
      r.detect_seconds = a.at("detect_seconds").get<double>();
      r.stop_seconds = a.at("stop_seconds").get<double>();
      r.tail_seconds = a.value("tail_seconds", 0.0);
      ledger.attempts_.push_back(r);
    }
  } catch (const json::exception& e) {
    throw Error(std::string("not a goodput ledger: ") + e.what());
  }
  return ledger;
}

json goodput_json(const GoodputLedger& ledger) {
  const GoodputTotals t = ledger.totals();
  json badput = json::object();
  for (const auto& [cause, seconds] : t.badput_seconds)
    badput[to_string(cause)] = seconds;
  return {{"ratio", finite_or_null(t.ratio())},
          {"total_seconds", t.total_seconds},
          {"productive_seconds", t.productive_seconds},
          {"badput_seconds", badput},
          {"lost_steps", t.lost_steps},
          {"attempts", ledger.attempts().size()},
          {"measured_by",
           "launcher: attempt times, detection and backoff; rank 0's heartbeats: "
           "first step, resume point, step time and checkpoint saves"}};
}

MeasuredCosts measured_costs(const GoodputLedger& ledger) {
  MeasuredCosts m;
  double saving = 0;
  const std::vector<AttemptRecord>& attempts = ledger.attempts();
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    m.saves += attempts[i].checkpoints;
    saving += attempts[i].checkpoint_seconds;
    if (i > 0 && attempts[i - 1].cause != "completed" && attempts[i - 1].cause != "stopped")
      ++m.restarts;
  }
  if (m.saves > 0)
    m.save_seconds = saving / m.saves;
  if (m.restarts > 0) {
    const GoodputTotals t = ledger.totals();
    m.restart_seconds =
        (t.badput_seconds.at(Badput::kDetection) + t.badput_seconds.at(Badput::kBackoff) +
         t.badput_seconds.at(Badput::kRestore)) /
        m.restarts;
  }
  return m;
}

}  // namespace dojo::launch
