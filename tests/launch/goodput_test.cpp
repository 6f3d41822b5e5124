// Goodput accounting: each second of a job's wall time is productive or
// badput of exactly one cause, across attempts and requeues.
#include <doctest/doctest.h>

#include <cmath>

#include "common/error.h"
#include "orchestrator/launch/goodput.h"

using namespace dojo::launch;

namespace {

AttemptRecord attempt(int n, const char* cause, double seconds, double first_step,
                      std::int64_t resumed_from, std::int64_t last_step, double step_seconds) {
  AttemptRecord a;
  a.attempt = n;
  a.cause = cause;
  a.seconds = seconds;
  a.first_step_seconds = first_step;
  a.resumed_from = resumed_from;
  a.last_step = last_step;
  a.step_seconds = step_seconds;
  return a;
}

double sum(const GoodputTotals& t) {
  double s = t.productive_seconds;
  for (const auto& [cause, seconds] : t.badput_seconds)
    s += seconds;
  return s;
}

}  // namespace

TEST_CASE("a killed attempt's work past the next one's resume point is lost work") {
  GoodputLedger ledger;
  ledger.add_setup(0.5);
  AttemptRecord first = attempt(0, "killed", 10.0, 1.0, 0, 130, 0.05);
  first.checkpoint_seconds = 0.4;
  ledger.add_attempt(first);
  ledger.add_backoff(2.0);
  AttemptRecord second = attempt(1, "completed", 20.0, 1.5, 100, 400, 0.05);
  second.checkpoint_seconds = 0.6;
  second.tail_seconds = 0.5;  // the final evaluation
  ledger.add_attempt(second);
  const GoodputTotals t = ledger.totals();
  CHECK(t.badput_seconds.at(Badput::kStartup) == doctest::Approx(1.5));  // setup + first start
  CHECK(t.badput_seconds.at(Badput::kRestore) == doctest::Approx(1.5));
  CHECK(t.badput_seconds.at(Badput::kBackoff) == doctest::Approx(2.0));
  CHECK(t.badput_seconds.at(Badput::kCheckpoint) == doctest::Approx(1.0));
  CHECK(t.lost_steps == 30);
  CHECK(t.badput_seconds.at(Badput::kLostWork) == doctest::Approx(1.5));  // 30 x 0.05 s
  CHECK(t.total_seconds == doctest::Approx(32.5));
  CHECK(sum(t) == doctest::Approx(t.total_seconds));
  CHECK(t.badput_seconds.at(Badput::kShutdown) == doctest::Approx(0.5));
  CHECK(t.productive_seconds == doctest::Approx(32.5 - 1.5 - 1.5 - 2.0 - 1.0 - 1.5 - 0.5));
  CHECK(t.ratio() == doctest::Approx(t.productive_seconds / 32.5));
}

TEST_CASE("a hang's time without progress is detection, a stop's wait is stopped") {
  GoodputLedger ledger;
  AttemptRecord hung = attempt(0, "hang", 30.0, 1.0, 0, 50, 0.1);
  hung.detect_seconds = 20.0;
  ledger.add_attempt(hung);
  AttemptRecord stopped = attempt(1, "stopped", 10.0, 1.0, 50, 120, 0.1);
  stopped.stop_seconds = 2.0;
  ledger.add_attempt(stopped);
  const GoodputTotals t = ledger.totals();
  CHECK(t.badput_seconds.at(Badput::kDetection) == doctest::Approx(20.0));
  CHECK(t.badput_seconds.at(Badput::kStopped) == doctest::Approx(2.0));
  CHECK(t.lost_steps == 0);  // resumed where it stopped
  CHECK(t.productive_seconds == doctest::Approx(40.0 - 1.0 - 1.0 - 20.0 - 2.0));
}

TEST_CASE("no cause takes more than the attempt had, and an attempt without a step is start-up") {
  GoodputLedger ledger;
  ledger.add_attempt(attempt(0, "launch_failed", 3.0, -1, -1, -1, NAN));
  AttemptRecord silly = attempt(1, "hang", 5.0, 1.0, 0, 10, NAN);
  silly.detect_seconds = 100.0;  // more than the attempt lasted
  ledger.add_attempt(silly);
  const GoodputTotals t = ledger.totals();
  CHECK(t.badput_seconds.at(Badput::kStartup) == doctest::Approx(4.0));
  CHECK(t.badput_seconds.at(Badput::kDetection) == doctest::Approx(4.0));
  CHECK(t.productive_seconds == doctest::Approx(0.0));
  CHECK(t.total_seconds == doctest::Approx(8.0));
  CHECK(std::isnan(GoodputLedger().totals().ratio()));
}

TEST_CASE("the running attempt counts as far as it got, and the ledger survives a requeue") {
  GoodputLedger ledger;
  ledger.add_attempt(attempt(0, "killed", 10.0, 1.0, 0, 130, 0.05));
  ledger.add_requeue_wait(60.0);
  const AttemptRecord running = attempt(1, "running", 4.0, 1.0, 100, 150, 0.05);
  const GoodputTotals live = ledger.totals(&running);
  CHECK(live.lost_steps == 30);
  CHECK(live.badput_seconds.at(Badput::kRequeued) == doctest::Approx(60.0));
  CHECK(live.total_seconds == doctest::Approx(74.0));
  const GoodputLedger back = GoodputLedger::from_json(ledger.to_json());
  CHECK(back.attempts().size() == 1);
  CHECK(back.totals().total_seconds == doctest::Approx(ledger.totals().total_seconds));
  CHECK(back.attempts()[0].last_step == 130);
  CHECK_THROWS_WITH_AS(GoodputLedger::from_json(nlohmann::json::object()),
                       doctest::Contains("not a goodput ledger"), dojo::Error);
  nlohmann::json future = ledger.to_json();
  future["version"] = 2;
  CHECK_THROWS_WITH_AS(GoodputLedger::from_json(future), "goodput ledger version 2 is not 1",
                       dojo::Error);
}
