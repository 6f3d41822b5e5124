#include "orchestrator/capacity/collector.h"

#include <map>

#include <prometheus/metric_family.h>

#include <string>

#include <utility>
#include "common/error.h"

namespace dojo::capacity {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

using Labels = std::vector<std::pair<std::string, std::string>>;

// A new gauge family at the end of `out`; the reference lasts until the next.
MetricFamily& family(std::vector<MetricFamily>& out, std::string name, std::string help) {
  out.push_back(MetricFamily{std::move(name), std::move(help), MetricType::Gauge, {}});
  return out.back();
}

void sample(MetricFamily& f, double value, const Labels& labels = {}) {
  ClientMetric m;
  for (const auto& [name, label_value] : labels)
    m.label.push_back(ClientMetric::Label{name, label_value});
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

void optional_gauge(std::vector<MetricFamily>& out, const char* name, const char* help,
                    const std::optional<double>& value) {
  if (value)
    sample(family(out, name, help), *value);
}

double unix_seconds(const config::Date& date) {
  return static_cast<double>(date.days()) * 86400.0;
}

}  // namespace

Collector::Collector(config::CapacityConfig capacity, std::optional<config::Date> fixed_as_of,
                     std::function<std::optional<double>()> allocated)
    : capacity_(std::move(capacity)), fixed_as_of_(fixed_as_of), allocated_(std::move(allocated)) {}

void Collector::add_nodes(const config::ClusterConfig& cluster) {
  for (const config::ClusterNode& node : cluster.nodes) {
    double factor = 0;
    try {
      factor = h100e_factor(capacity_, node.accelerator);
    } catch (const Error& e) {
      throw Error(cluster.source.string() + ": node \"" + node.host + "\": " + e.what());
    }
    nodes_.push_back({cluster.name, node.host, node.accelerator, config::to_string(node.state),
                      factor * node.slots});
  }
}

std::string Collector::version(const std::vector<std::filesystem::path>& state_files) const {
  std::string v = (fixed_as_of_ ? *fixed_as_of_ : config::Date::today()).str();
  for (const std::filesystem::path& file : state_files) {
    std::error_code ec;
    if (file.empty() || !std::filesystem::exists(file, ec)) {
      v += " -";
      continue;
    }
    const auto size = std::filesystem::file_size(file, ec);
    const auto time = std::filesystem::last_write_time(file, ec);
    v += " " + std::to_string(size) + " " + std::to_string(time.time_since_epoch().count());
  }
  return v;
}

Report Collector::current() const {
  const config::Date as_of = fixed_as_of_ ? *fixed_as_of_ : config::Date::today();
  // The ledger and the blacklist describe today: no other date gets them.
  std::optional<Live> live;
  if (describes_now(as_of)) {
    live = Live{allocated_ ? allocated_() : std::nullopt,
                out_of_service_ ? out_of_service_() : std::vector<OutOfService>{}};
  }
  return report(capacity_, as_of, live);
}

std::vector<MetricFamily> Collector::Collect() const {
  const Report r = current();
  const config::Date& as_of = r.as_of;
  std::vector<MetricFamily> out;
  inventory_series(r, as_of, out);
  plan_series(r, out);
  other_series(r, as_of, out);
  return out;
}

void Collector::inventory_series(const Report& r, const config::Date& as_of,
                                 std::vector<MetricFamily>& out) const {
  // family() hands out a reference into `out`: fill each before the next.
  auto& installed =
      family(out, "dojo_capacity_installed_h100e",
             "H100-equivalents installed (online by now and not retired), by cluster");
  for (const auto& [cluster, c] : r.clusters)
    sample(installed, c.installed_h100e, {{"cluster", cluster}});
  auto& online =
      family(out, "dojo_capacity_online_h100e", "H100-equivalents installed and up, by cluster");
  for (const auto& [cluster, c] : r.clusters)
    sample(online, c.online_h100e, {{"cluster", cluster}});
  auto& pool = family(out, "dojo_capacity_pool_h100e",
                      "H100-equivalents of each installed pool, with its accelerator and state");
  for (const config::Pool& p : capacity_.pools) {
    if (as_of < p.online || (p.retire && !(as_of < *p.retire)))
      continue;
    sample(pool, static_cast<double>(p.count) * h100e_factor(capacity_, p.accelerator),
           {{"cluster", p.cluster},
            {"pool", p.name},
            {"accelerator", p.accelerator},
            {"state", config::to_string(p.state_at(as_of))}});
  }
  if (!nodes_.empty()) {
    auto& node = family(out, "dojo_capacity_node_h100e",
                        "H100-equivalents of each node of the cluster inventory, with its state");
    for (const NodeSeries& n : nodes_) {
      sample(node, n.h100e,
             {{"cluster", n.cluster},
              {"node", n.node},
              {"accelerator", n.accelerator},
              {"state", n.state}});
    }
  }
  sample(family(out, "dojo_capacity_fleet_online_h100e",
                "H100-equivalents online in the whole fleet: installed and up, less the nodes "
                "the launchers blacklisted (the by-cluster series count inventory state only)"),
         r.online_h100e);
  sample(family(out, "dojo_capacity_planned_online_h100e",
                "The part of the fleet's online H100-equivalents that comes from pools the "
                "timeline marks as planned deliveries rather than stated ones"),
         r.planned_online_h100e);
  auto& not_online = family(out, "dojo_capacity_not_online_h100e",
                            "H100-equivalents not online and why: a pool drained, down or "
                            "retired, or a node the launchers blacklisted (pool is its host)");
  for (const NotOnline& n : r.not_online)
    sample(not_online, n.h100e, {{"pool", n.pool}, {"state", n.state}});
  if (r.live) {
    std::map<std::string, double> by_cause = {{"hang", 0}, {"killed", 0}, {"node_lost", 0}};
    for (const OutOfService& o : r.out_of_service)
      by_cause[o.cause] += o.h100e;
    auto& blacklisted_family =
        family(out, "dojo_capacity_out_of_service_h100e",
               "H100-equivalents of nodes the launchers blacklisted (dojo nodes), by the cause "
               "that implicated them; not counted online");
    for (const auto& [cause, h100e] : by_cause)
      sample(blacklisted_family, h100e, {{"cause", cause}});
  }
  if (r.allocated_h100e) {
    sample(family(out, "dojo_capacity_allocated_h100e",
                  "H100-equivalents booked by running jobs (the launcher's ledger)"),
           *r.allocated_h100e);
  }
  optional_gauge(out, "dojo_capacity_utilisation_ratio", "Allocated over online H100e",
                 r.utilisation_ratio);
}

void Collector::plan_series(const Report& r, std::vector<MetricFamily>& out) const {
  optional_gauge(out, "dojo_capacity_plan_target_h100e",
                 "The plan's H100e target on the as-of date (absent before the plan starts)",
                 r.plan_target_h100e);
  sample(family(out, "dojo_capacity_plan_final_h100e", "The plan's final H100e target"),
         r.plan_final_h100e);
  sample(family(out, "dojo_capacity_plan_final_timestamp_seconds",
                "Date of the plan's final milestone, Unix seconds"),
         unix_seconds(r.plan_final_date));
  optional_gauge(out, "dojo_capacity_progress_ratio", "Online H100e over the plan's target",
                 r.progress_ratio);
  optional_gauge(out, "dojo_capacity_gap_h100e",
                 "Plan target minus online H100e; positive means behind plan", r.gap_h100e);
  if (r.next_milestone) {
    sample(family(out, "dojo_capacity_next_milestone_h100e", "The next milestone's H100e target"),
           r.next_milestone->h100e);
    sample(family(out, "dojo_capacity_next_milestone_timestamp_seconds",
                  "Date of the next milestone, Unix seconds"),
           unix_seconds(r.next_milestone->date));
  }
  optional_gauge(out, "dojo_capacity_required_per_day_h100e",
                 "H100e a day needed to meet the next milestone", r.required_per_day_h100e);
  optional_gauge(out, "dojo_capacity_milestone_slip_seconds",
                 "How late the next milestone is expected (negative: early), by committed "
                 "deliveries else the last 90 days' rate; absent when not reached within the "
                 "forecast horizon",
                 r.milestone_slip_days ? std::optional<double>(*r.milestone_slip_days * 86400.0)
                                       : std::nullopt);
  optional_gauge(out, "dojo_capacity_milestone_shortfall_h100e",
                 "H100e online still lacks to meet the last milestone already due (0: met)",
                 r.milestone_shortfall_h100e);
  if (r.forecast_date) {
    sample(family(out, "dojo_capacity_forecast_timestamp_seconds",
                  "When the final target is reached at the last 90 days' rate, Unix seconds; "
                  "absent once reached or beyond ten years"),
           unix_seconds(*r.forecast_date));
  }
  if (r.final_reached_date) {
    sample(family(out, "dojo_capacity_final_reached_timestamp_seconds",
                  "The first day online reached the final target, Unix seconds"),
           unix_seconds(*r.final_reached_date));
  }
  sample(family(out, "dojo_capacity_committed_h100e",
                "H100-equivalents of pools dated after the as-of date that arrive up "
                "(committed deliveries)"),
         r.committed_h100e);
  if (r.committed_final_date) {
    sample(family(out, "dojo_capacity_committed_forecast_timestamp_seconds",
                  "When committed deliveries reach the final target, Unix seconds"),
           unix_seconds(*r.committed_final_date));
  }
}

void Collector::other_series(const Report& r, const config::Date& as_of,
                             std::vector<MetricFamily>& out) const {
  optional_gauge(out, "dojo_capacity_growth_90d_ratio",
                 "Online H100e growth over the last 90 days (1.3 is +130%)", r.growth_90d_ratio);
  optional_gauge(out, "dojo_capacity_growth_qoq_ratio", "Online H100e growth quarter over quarter",
                 r.growth_qoq_ratio);
  optional_gauge(out, "dojo_capacity_spend_per_h100e_dollars",
                 "Infrastructure spend over the H100e installed in its periods", r.usd_per_h100e);
  optional_gauge(out, "dojo_capacity_fleet_power_watts",
                 "Inference power of the vehicle fleet's computers, usable while the vehicles "
                 "are parked",
                 r.fleet_power_watts);
  if (r.fleet_idle_hours_per_week) {
    sample(family(out, "dojo_capacity_fleet_idle_seconds_per_week",
                  "Time a week a vehicle is parked (base unit: seconds)"),
           *r.fleet_idle_hours_per_week * 3600.0);
  }
  optional_gauge(out, "dojo_capacity_fleet_h100e",
                 "H100-equivalents of the vehicle fleet's inference computers", r.fleet_h100e);
  sample(family(out, "dojo_capacity_as_of_timestamp_seconds",
                "The date these figures are for, Unix seconds"),
         unix_seconds(as_of));
}

}  // namespace dojo::capacity
