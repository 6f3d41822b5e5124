// The capacity tracker on the shipped seed and on hand-computed cases.
#include <doctest/doctest.h>

#include <cmath>

#include "orchestrator/capacity/capacity.h"
#include "orchestrator/config/loader.h"
#include "tests/capacity/timelines.h"
#include "tests/support.h"

using namespace dojo;
using config::Date;
using test::d;
using test::seed;

TEST_CASE("blacklisted nodes are not counted online, and the report says which and why") {
  const auto c = seed();
  const capacity::Report plain = capacity::report(c, d("2024-06-30"), capacity::Live{1000.0, {}});
  const capacity::Report r =
      capacity::report(c, d("2024-06-30"),
                       capacity::Live{1000.0, {{"gpu-7", 16.0, "hang", "no progress for 120 s"}}});
  CHECK(r.online_h100e == doctest::Approx(plain.online_h100e - 16.0));
  CHECK(r.out_of_service_h100e == 16.0);
  CHECK(*r.utilisation_ratio == doctest::Approx(1000.0 / r.online_h100e));
  CHECK(capacity::to_table(r).find("H100e blacklisted: gpu-7 (hang))") != std::string::npos);
  CHECK(capacity::to_table(r).find("gpu-7                blacklisted") != std::string::npos);
  CHECK(capacity::to_json(r).find("\"reason\": \"no progress for 120 s\"") != std::string::npos);
  CHECK(capacity::to_table(plain).find("blacklisted") == std::string::npos);
}

TEST_CASE("the seed reaches 35,000 H100e at the end of Q1 2024 after more than 130% growth") {
  const auto c = seed();
  CHECK(capacity::online_h100e(c, d("2023-12-31")) <= 15200);
  const capacity::Report r = capacity::report(c, d("2024-03-31"), capacity::Live{1000.0, {}});
  CHECK(r.online_h100e == doctest::Approx(35000).epsilon(0.001));
  CHECK(r.online_h100e >= 35000);             // the Q1 milestone is met
  CHECK(r.installed_h100e > r.online_h100e);  // a pool is down
  CHECK(*r.growth_qoq_ratio > 1.3);
  CHECK(*r.growth_90d_ratio > 1.3);
  CHECK(*r.plan_target_h100e == 35000);
  CHECK(r.plan_final_h100e == 85000);
  CHECK(*r.progress_ratio == doctest::Approx(r.online_h100e / 35000));
  CHECK(*r.gap_h100e == doctest::Approx(35000 - r.online_h100e));
  CHECK(*r.milestone_shortfall_h100e == 0);
  // The linear plan from 2024-03-31 to 2024-12-31 needs about 182 H100e a day.
  CHECK(*r.required_per_day_h100e == doctest::Approx((85000 - r.online_h100e) / 275));
  CHECK(*r.usd_per_h100e == doctest::Approx(1.0e9 / (r.installed_h100e - capacity::installed_h100e(
                                                                             c, d("2023-12-31")))));
  CHECK(*r.utilisation_ratio == doctest::Approx(1000 / r.online_h100e));
  CHECK(*r.fleet_power_watts == doctest::Approx(100e9));
  CHECK(*r.fleet_idle_hours_per_week == 119);
  CHECK(r.planned_online_h100e == 0);  // everything online then is stated
}

TEST_CASE("the seed's planned deliveries are where the 85,000 comes from, on time") {
  const auto c = seed();
  const capacity::Report r = capacity::report(c, d("2024-04-01"), std::nullopt);
  REQUIRE(r.next_milestone.has_value());
  CHECK(r.next_milestone->h100e == 85000);
  double planned = 0;
  for (const capacity::Delivery& delivery : r.deliveries) {
    CAPTURE(delivery.pool);
    // Every new pool after the stated history is planned; the repaired one returns.
    CHECK(delivery.planned == (delivery.pool != "a100-2021-repair"));
    if (delivery.planned)
      planned += delivery.h100e;
  }
  CHECK(planned > 85000 - r.online_h100e);
  REQUIRE(r.committed_final_date.has_value());
  CHECK(*r.committed_final_date <= d("2024-12-31"));
  CHECK(r.milestone_expected_by == "committed deliveries");
  CHECK(*r.milestone_slip_days <= 0);
  const capacity::Report end = capacity::report(c, d("2024-12-31"), std::nullopt);
  CHECK(end.online_h100e >= 85000);
  CHECK(end.planned_online_h100e > 50000 - 1);
  CHECK(*end.milestone_shortfall_h100e == 0);
  CHECK(capacity::to_table(end).find("of it planned") != std::string::npos);
}

TEST_CASE("pools count from their online date until they retire; states carry their dates") {
  const auto c = seed();
  const double a100_2021 = 5760 * 312 / 989.4;
  CHECK(capacity::installed_h100e(c, d("2024-09-30")) -
            capacity::installed_h100e(c, d("2024-10-01")) ==
        doctest::Approx(a100_2021));
  // The repair pool was up until 2024-02-12, down until 2024-05-20, then up.
  const double repair = 256 * 312 / 989.4;
  CHECK(capacity::online_h100e(c, d("2024-02-11")) - capacity::online_h100e(c, d("2024-02-12")) ==
        doctest::Approx(repair));
  CHECK(capacity::online_h100e(c, d("2022-01-01")) ==
        doctest::Approx(capacity::installed_h100e(c, d("2022-01-01"))));
  CHECK(capacity::online_h100e(c, d("2024-05-20")) - capacity::online_h100e(c, d("2024-05-19")) ==
        doctest::Approx(repair));
  // The B200 pool of 2024-12-15 burns in drained for a week: installed, not online.
  const double b200 = 5000 * 2250 / 989.4;
  CHECK(capacity::installed_h100e(c, d("2024-12-15")) -
            capacity::installed_h100e(c, d("2024-12-14")) ==
        doctest::Approx(b200));
  CHECK(capacity::online_h100e(c, d("2024-12-15")) ==
        doctest::Approx(capacity::online_h100e(c, d("2024-12-14"))));
  CHECK(capacity::online_h100e(c, d("2024-12-22")) - capacity::online_h100e(c, d("2024-12-21")) ==
        doctest::Approx(b200));
  const capacity::Report r = capacity::report(c, d("2024-12-16"), std::nullopt);
  REQUIRE(r.not_online.size() == 2);
  CHECK(r.not_online[0].pool == "a100-2021");
  CHECK(r.not_online[0].state == "retired");
  CHECK(r.not_online[1].pool == "b200-2024-12");
  CHECK(r.not_online[1].state == "drained");
  CHECK(r.not_online[1].since == d("2024-12-15"));
  CHECK(capacity::h100e_factor(c, "dojo-tile") == doctest::Approx(9050 / 989.4));
}

TEST_CASE("the tracker counts by the catalog's declared factor, as placement does") {
  auto c = test::one_pool_timeline(/*count=*/100, d("2024-01-01"));
  c.catalog.accelerators[0].h100e_declared = 0.5;  // an A100 declared at 0.5
  CHECK(capacity::h100e_factor(c, "gpu") == 0.5);
  CHECK(capacity::online_h100e(c, d("2024-06-01")) == doctest::Approx(50));
  CHECK(capacity::h100e_factor(c, "gpu") == c.catalog.accelerators[0].h100e());
}

TEST_CASE("there is no plan target before the first milestone") {
  config::PlanConfig plan;
  plan.milestones = {{d("2024-01-01"), 100}, {d("2024-01-11"), 400}};
  CHECK_FALSE(capacity::plan_target(plan, d("2023-06-01")).has_value());
  CHECK(*capacity::plan_target(plan, d("2024-01-01")) == 100);
  CHECK(*capacity::plan_target(plan, d("2024-01-06")) == doctest::Approx(250));
  CHECK(*capacity::plan_target(plan, d("2025-01-01")) == 400);
  plan.interpolation = config::Interpolation::kCompound;
  CHECK(*capacity::plan_target(plan, d("2024-01-06")) == doctest::Approx(200));  // 100 * 4^0.5
  // One milestone: the plan starts on its date, not before.
  config::PlanConfig one;
  one.milestones = {{d("2024-12-31"), 85000}};
  CHECK_FALSE(capacity::plan_target(one, d("2024-06-01")).has_value());
  CHECK(*capacity::plan_target(one, d("2024-12-31")) == 85000);

  const capacity::Report mid_2023 = capacity::report(seed(), d("2023-06-30"), std::nullopt);
  CHECK_FALSE(mid_2023.plan_target_h100e.has_value());
  CHECK_FALSE(mid_2023.progress_ratio.has_value());
  CHECK_FALSE(mid_2023.gap_h100e.has_value());
  const std::string table = capacity::to_table(mid_2023);
  CHECK(table.find("none: the plan starts 2024-03-31") != std::string::npos);
  CHECK(table.find("behind") == std::string::npos);
  CHECK(capacity::to_json(mid_2023).find("\"progress_ratio\": null") != std::string::npos);
}

TEST_CASE("a forecast beyond ten years is not at the current rate, never a date") {
  // 1,000 H100e, growing by one H100e over the last 90 days, a plan of 10^9.
  auto c = test::one_pool_timeline(1000, d("2020-01-01"));
  c.pools.push_back(test::pool("trickle", 1, d("2024-05-01")));
  c.plan.milestones = {{d("2024-01-01"), 1000}, {d("2024-12-31"), 1e9}};
  const capacity::Report r = capacity::report(c, d("2024-06-30"), std::nullopt);
  CHECK_FALSE(r.forecast_date.has_value());
  CHECK_FALSE(r.milestone_expected.has_value());
  CHECK_FALSE(r.milestone_slip_days.has_value());
  CHECK(capacity::to_table(r).find("not at the current rate") != std::string::npos);
  CHECK(capacity::to_json(r).find("\"forecast_date\": null") != std::string::npos);
}

TEST_CASE("the forecast follows the last 90 days or names the day the target was reached") {
  auto c = test::one_pool_timeline(1000, d("2020-01-01"));
  c.pools.push_back(test::pool("more", 900, d("2024-05-01")));
  c.plan.milestones = {{d("2024-01-01"), 1000}, {d("2024-12-31"), 3000}};
  const capacity::Report r = capacity::report(c, d("2024-06-30"), std::nullopt);
  REQUIRE(r.forecast_date.has_value());
  CHECK(r.forecast_date->days() - d("2024-06-30").days() ==
        static_cast<long>(std::ceil((3000 - 1900) / (900 / 90.0))));
  CHECK(r.milestone_expected_by == "90-day rate");
  CHECK(*r.milestone_slip_days ==
        doctest::Approx(r.forecast_date->days() - d("2024-12-31").days()));
  CHECK_FALSE(r.final_reached_date.has_value());
  c.pools.push_back(test::pool("last", 1200, d("2024-08-01")));
  const capacity::Report done = capacity::report(c, d("2024-09-30"), std::nullopt);
  CHECK(*done.final_reached_date == d("2024-08-01"));
  CHECK_FALSE(done.forecast_date.has_value());
  CHECK(capacity::to_table(done).find("reached on 2024-08-01") != std::string::npos);
}

TEST_CASE("a missed milestone leaves a shortfall, and after the plan the table says what is due") {
  auto c = test::one_pool_timeline(1000, d("2024-01-01"));
  c.plan.milestones = {{d("2024-01-01"), 1000}, {d("2024-06-30"), 1500}};
  const capacity::Report r = capacity::report(c, d("2024-09-30"), std::nullopt);
  CHECK(*r.milestone_shortfall_h100e == 500);
  CHECK_FALSE(r.required_per_day_h100e.has_value());
  const std::string table = capacity::to_table(r);
  CHECK(table.find("500 H100e short of the plan's end (2024-06-30), due already") !=
        std::string::npos);
  CHECK(table.find("gap 500 H100e behind") != std::string::npos);
  c.pools.push_back(test::pool("late", 504, d("2024-07-01")));
  const capacity::Report ahead = capacity::report(c, d("2024-09-30"), std::nullopt);
  CHECK(capacity::to_table(ahead).find("gap 4 H100e ahead") != std::string::npos);
  CHECK(capacity::to_table(ahead).find("gap -") == std::string::npos);
}

TEST_CASE("overlapping spend periods count the H100e they added once") {
  auto c = test::one_pool_timeline(1000, d("2023-01-01"));
  c.pools.push_back(test::pool("q1", 10000, d("2024-02-01")));
  c.plan.milestones = {{d("2024-12-31"), 20000}};
  c.spend = {{d("2024-01-01"), d("2024-03-31"), 1e9, "GPUs"},
             {d("2024-01-01"), d("2024-03-31"), 1e9, "buildings"}};
  const capacity::Report r = capacity::report(c, d("2024-06-30"), std::nullopt);
  CHECK(*r.spend_usd == 2e9);
  CHECK(*r.usd_per_h100e == doctest::Approx(200000));
}

TEST_CASE("allocated H100e is unknown, never 0, without a ledger or for another date") {
  const auto c = seed();
  const capacity::Report past = capacity::report(c, d("2021-07-01"), std::nullopt);
  CHECK_FALSE(past.allocated_h100e.has_value());
  CHECK_FALSE(past.utilisation_ratio.has_value());
  const std::string json = capacity::to_json(past);
  CHECK(json.find("\"allocated_h100e\": null") != std::string::npos);
  CHECK(json.find("\"allocated_note\": \"the ledger describes today, not 2021-07-01\"") !=
        std::string::npos);
  const capacity::Report no_ledger = capacity::report(c, d("2024-06-30"), capacity::Live{});
  CHECK(capacity::to_table(no_ledger).find("unknown (no ledger read)") != std::string::npos);
}

TEST_CASE("the JSON report carries every documented key") {
  const std::string json =
      capacity::to_json(capacity::report(seed(), d("2024-06-30"), capacity::Live{12.5, {}}));
  for (const char* key : {"as_of",
                          "installed_h100e",
                          "online_h100e",
                          "planned_online_h100e",
                          "allocated_h100e",
                          "not_online",
                          "plan_target_h100e",
                          "plan_final_h100e",
                          "progress_ratio",
                          "gap_h100e",
                          "growth_90d_ratio",
                          "growth_qoq_ratio",
                          "next_milestone",
                          "required_per_day_h100e",
                          "milestone_expected_date",
                          "milestone_slip_days",
                          "milestone_shortfall_h100e",
                          "forecast_date",
                          "committed_h100e",
                          "committed_final_date",
                          "deliveries",
                          "fleet_power_watts",
                          "fleet_idle_hours_per_week"}) {
    CAPTURE(key);
    CHECK(json.find(std::string("\"") + key + "\": ") != std::string::npos);
  }
  CHECK(json.find("\"as_of\": \"2024-06-30\"") != std::string::npos);
  CHECK(json.find("\"allocated_h100e\": 12.5") != std::string::npos);
  CHECK(json.find("qoq_growth_ratio") == std::string::npos);
}

TEST_CASE("thousands separators") {
  CHECK(capacity::thousands(85000) == "85,000");
  CHECK(capacity::thousands(50003.94, 1) == "50,003.9");
  CHECK(capacity::thousands(999) == "999");
  CHECK(capacity::thousands(-1234567) == "-1,234,567");
  CHECK(capacity::thousands(-0.2) == "0");
}
