// The capacity exporter's series: bounded labels, allocated only when known.
#include <doctest/doctest.h>

#include <prometheus/metric_family.h>

#include <map>
#include <set>

#include "orchestrator/capacity/collector.h"
#include "orchestrator/config/loader.h"
#include "tests/support.h"

namespace dojo::capacity {
namespace {

config::CapacityConfig seed() {
  return config::load_capacity(test::configs_dir() / "capacity" / "tesla-2024.yaml");
}

const prometheus::MetricFamily* find(const std::vector<prometheus::MetricFamily>& families,
                                     const std::string& name) {
  for (const auto& f : families)
    if (f.name == name)
      return &f;
  return nullptr;
}

TEST_CASE("the exporter serves allocated H100e and utilisation only for today, from a ledger") {
  const auto today = config::Date::today();
  const Collector unknown(seed(), today, [] { return std::nullopt; });
  const auto without = unknown.Collect();
  CHECK(find(without, "dojo_capacity_allocated_h100e") == nullptr);
  CHECK(find(without, "dojo_capacity_utilisation_ratio") == nullptr);

  const Collector known(seed(), today, [] { return std::optional<double>(5000.0); });
  const auto with = known.Collect();
  const auto* allocated = find(with, "dojo_capacity_allocated_h100e");
  REQUIRE(allocated != nullptr);
  CHECK(allocated->metric.at(0).gauge.value == doctest::Approx(5000.0));
  const auto* online = find(with, "dojo_capacity_online_h100e");
  REQUIRE(online != nullptr);
  double online_total = 0;
  for (const auto& m : online->metric)
    online_total += m.gauge.value;
  const auto* utilisation = find(with, "dojo_capacity_utilisation_ratio");
  REQUIRE(utilisation != nullptr);
  CHECK(utilisation->metric.at(0).gauge.value == doctest::Approx(5000.0 / online_total));

  // Today's ledger says nothing about 2021: no allocated, no utilisation.
  const Collector past(seed(), config::Date::parse("2021-07-01"),
                       [] { return std::optional<double>(5000.0); });
  const auto then = past.Collect();
  CHECK(find(then, "dojo_capacity_allocated_h100e") == nullptr);
  CHECK(find(then, "dojo_capacity_utilisation_ratio") == nullptr);
}

TEST_CASE("before the plan starts there is no target, progress or gap series") {
  const Collector early(seed(), config::Date::parse("2023-06-30"), {});
  const auto families = early.Collect();
  CHECK(find(families, "dojo_capacity_plan_target_h100e") == nullptr);
  CHECK(find(families, "dojo_capacity_progress_ratio") == nullptr);
  CHECK(find(families, "dojo_capacity_gap_h100e") == nullptr);
  CHECK(find(families, "dojo_capacity_plan_final_h100e") != nullptr);
  const auto* slip = find(families, "dojo_capacity_milestone_slip_seconds");
  REQUIRE(slip != nullptr);  // the first milestone is ahead, and expected
}

TEST_CASE("pools not online are served by pool and state, with their dated state") {
  const Collector collector(seed(), config::Date::parse("2024-03-31"), {});
  const auto families = collector.Collect();
  const auto* not_online = find(families, "dojo_capacity_not_online_h100e");
  REQUIRE(not_online != nullptr);
  REQUIRE(not_online->metric.size() == 1);
  CHECK(not_online->metric[0].label.at(0).value == "a100-2021-repair");
  CHECK(not_online->metric[0].label.at(1).value == "down");
  // Repaired in May: up again, nothing left out.
  const Collector later(seed(), config::Date::parse("2024-06-30"), {});
  CHECK(find(later.Collect(), "dojo_capacity_not_online_h100e")->metric.empty());
}

TEST_CASE("blacklisted nodes are out of service at the live date: not online, with the cause") {
  Collector live(seed(), std::nullopt, {});
  const double before =
      find(live.Collect(), "dojo_capacity_fleet_online_h100e")->metric.at(0).gauge.value;
  const auto none_yet = live.Collect();
  for (const auto& m : find(none_yet, "dojo_capacity_out_of_service_h100e")->metric)
    CHECK(m.gauge.value == 0);
  live.set_out_of_service([] {
    return std::vector<OutOfService>{{"gpu-7", 8.0, "hang", "no progress"},
                                     {"gpu-9", 4.0, "node_lost", "daemon gone"}};
  });
  const auto with = live.Collect();
  CHECK(find(with, "dojo_capacity_fleet_online_h100e")->metric.at(0).gauge.value ==
        doctest::Approx(before - 12.0));
  const auto* out = find(with, "dojo_capacity_out_of_service_h100e");
  REQUIRE(out != nullptr);
  std::map<std::string, double> by_cause;
  for (const auto& m : out->metric)
    by_cause[m.label.at(0).value] = m.gauge.value;
  CHECK(by_cause ==
        std::map<std::string, double>{{"hang", 8.0}, {"killed", 0.0}, {"node_lost", 4.0}});
  // A report of a fixed date is not today's: the blacklist does not apply.
  Collector fixed(seed(), config::Date::parse("2024-06-30"), {});
  fixed.set_out_of_service([] { return std::vector<OutOfService>{{"gpu-7", 8.0, "hang", ""}}; });
  CHECK(find(fixed.Collect(), "dojo_capacity_out_of_service_h100e") == nullptr);
}

TEST_CASE("the exporter's labels are bounded to cluster, pool, accelerator and state") {
  const Collector collector(seed(), config::Date::parse("2024-06-30"), {});
  const std::set<std::string> allowed = {"cluster", "pool", "accelerator", "state"};
  for (const auto& family : collector.Collect()) {
    CHECK_MESSAGE(family.name.rfind("dojo_capacity_", 0) == 0, family.name);
    for (const auto& metric : family.metric)
      for (const auto& label : metric.label)
        CHECK_MESSAGE(allowed.count(label.name) == 1, family.name << " has label " << label.name);
  }
}

TEST_CASE("the exporter leaves out pools not yet online or already retired") {
  const Collector early(seed(), config::Date::parse("2021-01-01"), {});
  const auto families = early.Collect();
  const auto* pool = find(families, "dojo_capacity_pool_h100e");
  REQUIRE(pool != nullptr);
  CHECK(pool->metric.empty());
}

TEST_CASE("a cluster inventory adds one series per node, slots times the accelerator's factor") {
  Collector collector(seed(), config::Date::parse("2024-06-30"), {});
  const config::ClusterConfig cluster =
      config::load_cluster(test::configs_dir() / "cluster" / "example-h100.yaml");
  collector.add_nodes(cluster);
  const auto families = collector.Collect();
  const auto* nodes = find(families, "dojo_capacity_node_h100e");
  REQUIRE(nodes != nullptr);
  REQUIRE(nodes->metric.size() == cluster.nodes.size());
  for (std::size_t i = 0; i < cluster.nodes.size(); ++i) {
    const auto& m = nodes->metric[i];
    CHECK(m.label.at(1).name == "node");
    CHECK(m.label.at(1).value == cluster.nodes[i].host);
    if (cluster.nodes[i].accelerator == "h100-sxm")
      CHECK(m.gauge.value == doctest::Approx(cluster.nodes[i].slots));
  }
}

}  // namespace
}  // namespace dojo::capacity
