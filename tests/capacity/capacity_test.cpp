// The capacity tracker on the shipped seed and on hand-computed cases.
#include <doctest/doctest.h>

#include <cmath>

#include "orchestrator/capacity/capacity.h"
#include "orchestrator/config/loader.h"
#include "tests/support.h"

using namespace dojo;
using config::Date;

namespace {

config::CapacityConfig seed() {
  return config::load_capacity(test::configs_dir() / "capacity" / "tesla-2024.yaml");
}

Date d(const char* text) {
  return *Date::parse(text);
}

}  // namespace

TEST_CASE("blacklisted nodes are not counted online, and the report says which and why") {
  const auto c = seed();
  const capacity::Report plain = capacity::report(c, d("2024-06-30"), 1000.0);
  const capacity::Report r = capacity::report(c, d("2024-06-30"), 1000.0,
                                              {{"gpu-7", 16.0, "hang", "no progress for 120 s"}});
  CHECK(r.online_h100e == doctest::Approx(plain.online_h100e - 16.0));
  CHECK(r.out_of_service_h100e == 16.0);
  CHECK(*r.utilisation_ratio == doctest::Approx(1000.0 / r.online_h100e));
  CHECK(capacity::to_table(r).find("H100e blacklisted: gpu-7 (hang))") != std::string::npos);
  CHECK(capacity::to_json(r).find("\"reason\": \"no progress for 120 s\"") != std::string::npos);
  CHECK(capacity::to_table(plain).find("blacklisted") == std::string::npos);
}

TEST_CASE("the seed reaches 35,000 H100e at the end of Q1 2024 after more than 130% growth") {
  const auto c = seed();
  CHECK(capacity::online_h100e(c, d("2023-12-31")) <= 15200);
  const capacity::Report r = capacity::report(c, d("2024-03-31"), 1000.0);
  CHECK(r.online_h100e == doctest::Approx(35000).epsilon(0.001));
  CHECK(r.installed_h100e > r.online_h100e);  // a pool is down
  CHECK(*r.qoq_growth_ratio > 1.3);
  CHECK(*r.growth_90d_ratio > 1.3);
  CHECK(r.plan_target_h100e == 35000);
  CHECK(r.plan_final_h100e == 85000);
  CHECK(r.progress_ratio == doctest::Approx(r.online_h100e / 35000));
  CHECK(r.gap_h100e == doctest::Approx(35000 - r.online_h100e));
  // The linear plan from 2024-03-31 to 2024-12-31 needs about 182 H100e a day.
  CHECK(*r.required_per_day_h100e == doctest::Approx((85000 - r.online_h100e) / 275));
  CHECK(*r.usd_per_h100e ==
        doctest::Approx(1.0e9 / (r.online_h100e - capacity::online_h100e(c, d("2023-12-31")))));
  CHECK(*r.utilisation_ratio == doctest::Approx(1000 / r.online_h100e));
  CHECK(*r.fleet_power_watts == doctest::Approx(100e9));
  CHECK(*r.fleet_idle_hours_per_week == 119);
}

TEST_CASE("pools count from their online date until they retire and only up pools are online") {
  const auto c = seed();
  const double a100_2021 = 5760 * 312 / 989.4;
  CHECK(capacity::installed_h100e(c, d("2024-09-30")) -
            capacity::installed_h100e(c, d("2024-10-01")) ==
        doctest::Approx(a100_2021));
  // The B200 pool of 2024-12-15 is drained: installed, not online.
  CHECK(capacity::installed_h100e(c, d("2024-12-15")) -
            capacity::installed_h100e(c, d("2024-12-14")) ==
        doctest::Approx(5000 * 2250 / 989.4));
  CHECK(capacity::online_h100e(c, d("2024-12-15")) ==
        doctest::Approx(capacity::online_h100e(c, d("2024-12-14"))));
  CHECK(capacity::h100e_factor(c, "dojo-tile") == doctest::Approx(9050 / 989.4));
}

TEST_CASE("the plan interpolates linearly or by compound growth between milestones") {
  config::PlanConfig plan;
  plan.milestones = {{d("2024-01-01"), 100}, {d("2024-01-11"), 400}};
  CHECK(capacity::plan_target(plan, d("2023-06-01")) == 100);
  CHECK(capacity::plan_target(plan, d("2024-01-06")) == doctest::Approx(250));
  CHECK(capacity::plan_target(plan, d("2025-01-01")) == 400);
  plan.interpolation = config::Interpolation::kCompound;
  CHECK(capacity::plan_target(plan, d("2024-01-06")) == doctest::Approx(200));  // 100 * 4^0.5
}

TEST_CASE("the forecast follows the last 90 days or names the day the target was reached") {
  const auto c = seed();
  const capacity::Report before = capacity::report(c, d("2024-03-31"), std::nullopt);
  REQUIRE(before.forecast_date.has_value());
  const double rate = (before.online_h100e - capacity::online_h100e(c, d("2024-01-01"))) / 90;
  CHECK(before.forecast_date->days() - d("2024-03-31").days() ==
        static_cast<long>(std::ceil((85000 - before.online_h100e) / rate)));
  CHECK_FALSE(before.allocated_known);
  const capacity::Report json_free = capacity::report(c, d("2026-01-01"), std::nullopt);
  CHECK_FALSE(json_free.next_milestone.has_value());
}

TEST_CASE("the JSON report carries every documented key") {
  const std::string json = capacity::to_json(capacity::report(seed(), d("2024-06-30"), 12.5));
  for (const char* key : {"as_of", "installed_h100e", "online_h100e", "allocated_h100e",
                          "plan_target_h100e", "plan_final_h100e", "progress_ratio", "gap_h100e",
                          "growth_90d_ratio", "required_per_day_h100e", "forecast_date",
                          "fleet_power_watts", "fleet_idle_hours_per_week"}) {
    CAPTURE(key);
    CHECK(json.find(std::string("\"") + key + "\": ") != std::string::npos);
  }
  CHECK(json.find("\"as_of\": \"2024-06-30\"") != std::string::npos);
  CHECK(json.find("\"allocated_h100e\": 12.5") != std::string::npos);
}
