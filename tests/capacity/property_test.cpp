// Properties of the capacity report and chart on random valid timelines:
// online never exceeds installed, ratios stay finite, no forecast lies
// before the as-of date, and the chart stays small whatever the input.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "orchestrator/capacity/capacity.h"
#include "orchestrator/capacity/chart.h"
#include "tests/capacity/timelines.h"

using namespace dojo;
using config::Date;

namespace {

constexpr std::size_t kChartMaxBytes = 128 * 1024;

class Random {
 public:
  explicit Random(unsigned seed) : engine_(seed) {}
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(engine_);
  }
  Date date(const char* from, const char* to) {
    return Date::from_days(between(test::d(from).days(), test::d(to).days()));
  }
  bool chance(int percent) { return between(1, 100) <= percent; }

 private:
  std::mt19937_64 engine_;
};

config::NodeState any_state(Random& random) {
  return static_cast<config::NodeState>(random.between(0, 2));
}

/// A valid timeline: what the loader would accept.
config::CapacityConfig random_timeline(Random& random) {
  config::CapacityConfig c =
      test::one_pool_timeline(random.between(1, 100000), random.date("1990-01-01", "2030-01-01"));
  c.catalog.accelerators[0].h100e_declared = static_cast<double>(random.between(1, 4000)) / 1000;
  const auto pools = random.between(0, 30);
  for (std::int64_t i = 0; i < pools; ++i) {
    config::Pool p = test::pool("p" + std::to_string(i), random.between(1, 1000000),
                                random.date("1990-01-01", "2040-01-01"));
    if (random.chance(30))
      p.retire = Date::from_days(p.online.days() + random.between(1, 5000));
    Date since = p.online;
    for (auto n = random.between(0, 3); n > 0; --n) {
      p.states.push_back({since, any_state(random)});
      since = Date::from_days(since.days() + random.between(1, 400));
    }
    p.planned = random.chance(40);
    c.pools.push_back(p);
  }
  c.plan.interpolation =
      random.chance(50) ? config::Interpolation::kLinear : config::Interpolation::kCompound;
  c.plan.milestones.clear();
  Date at = random.date("1990-01-01", "2035-01-01");
  for (auto n = random.between(1, random.chance(10) ? 2000 : 5); n > 0; --n) {
    c.plan.milestones.push_back({at, static_cast<double>(random.between(1, 2000000))});
    at = Date::from_days(at.days() + random.between(1, 800));
  }
  for (auto n = random.between(0, 3); n > 0; --n) {
    const Date from = random.date("2000-01-01", "2035-01-01");
    c.spend.push_back({from, Date::from_days(from.days() + random.between(0, 400)),
                       static_cast<double>(random.between(0, 1000000000)), "x"});
  }
  return c;
}

void check_finite(const std::optional<double>& value, const char* name) {
  if (value)
    CHECK_MESSAGE(std::isfinite(*value), name);
}

}  // namespace

TEST_CASE("random timelines: online <= installed, finite ratios, no forecast in the past") {
  Random random(20241231);
  for (int trial = 0; trial < 300; ++trial) {
    const config::CapacityConfig c = random_timeline(random);
    const Date as_of = random.date("1985-01-01", "2045-01-01");
    std::optional<capacity::Live> live;
    if (random.chance(30))
      live = capacity::Live{static_cast<double>(random.between(0, 100000)), {}};
    const capacity::Report r = capacity::report(c, as_of, live);
    CAPTURE(trial);
    CAPTURE(as_of.str());
    CHECK(r.online_h100e <= r.installed_h100e + 1e-6);
    CHECK(r.online_h100e >= 0);
    for (const auto& [name, cluster] : r.clusters)
      CHECK(cluster.online_h100e <= cluster.installed_h100e + 1e-6);
    check_finite(r.progress_ratio, "progress");
    check_finite(r.utilisation_ratio, "utilisation");
    check_finite(r.gap_h100e, "gap");
    check_finite(r.growth_90d_ratio, "growth 90d");
    check_finite(r.growth_qoq_ratio, "growth qoq");
    check_finite(r.usd_per_h100e, "usd per H100e");
    check_finite(r.milestone_slip_days, "slip");
    if (r.forecast_date) {
      CHECK(*r.forecast_date >= as_of);
      CHECK(r.forecast_date->days() - as_of.days() <= capacity::kForecastHorizonDays);
    }
    if (r.milestone_expected)
      CHECK(*r.milestone_expected >= as_of);
    if (r.committed_final_date)
      CHECK(*r.committed_final_date >= as_of);
    if (r.final_reached_date)
      CHECK(*r.final_reached_date <= as_of);
    const bool target_before_plan =
        r.plan_target_h100e.has_value() && as_of < c.plan.milestones.front().date;
    CHECK_FALSE(target_before_plan);
    // The JSON parses back: no NaN or infinity leaked into it.
    CHECK(nlohmann::json::parse(capacity::to_json(r)).is_object());
  }
}

TEST_CASE("random timelines: the chart stays small, fast and on the canvas") {
  Random random(7);
  for (int trial = 0; trial < 120; ++trial) {
    const config::CapacityConfig c = random_timeline(random);
    const Date as_of = random.date("1985-01-01", "2045-01-01");
    const capacity::Report r = capacity::report(c, as_of, std::nullopt);
    const auto start = std::chrono::steady_clock::now();
    const std::string svg = capacity::chart_svg(c, r);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CAPTURE(trial);
    CHECK(svg.size() < kChartMaxBytes);
    // Generous: a large chart took 27 s before; a bounded one takes milliseconds.
    CHECK(seconds < 5.0);
    CHECK(svg.find("nan") == std::string::npos);
    CHECK(svg.find("inf") == std::string::npos);
  }
}
