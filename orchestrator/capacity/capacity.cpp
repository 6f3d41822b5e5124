#include "orchestrator/capacity/capacity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"

namespace dojo::capacity {
namespace {

using config::Date;

bool in_service(const config::Pool& pool, const Date& date) {
  return pool.online <= date && (!pool.retire || *pool.retire > date);
}

Date quarter_end(const Date& d) {
  const int month = ((d.month - 1) / 3 + 1) * 3;
  Date next{month == 12 ? d.year + 1 : d.year, month == 12 ? 1 : month + 1, 1};
  return Date::from_days(next.days() - 1);
}

using Json = nlohmann::ordered_json;

/// A figure, or null when it is unknown or not finite (JSON has no NaN).
Json number(std::optional<double> value) {
  return value && std::isfinite(*value) ? Json(*value) : Json();
}

Json date_json(const std::optional<Date>& d) {
  return d ? Json(d->str()) : Json();
}

}  // namespace

double h100e_factor(const config::CapacityConfig& capacity, const std::string& accelerator) {
  const config::Accelerator* a = capacity.catalog.find(accelerator);
  if (a == nullptr)
    throw Error("unknown accelerator \"" + accelerator + "\"");
  if (capacity.basis == config::H100eBasis::kMeasured) {
    if (!a->measured_h100e)
      throw Error("accelerator \"" + accelerator + "\" has no measured H100e figure");
    return *a->measured_h100e;
  }
  return a->bf16_tflops / config::kH100Bf16Tflops;
}

double installed_h100e(const config::CapacityConfig& capacity, const Date& date) {
  double total = 0;
  for (const config::Pool& p : capacity.pools) {
    if (in_service(p, date))
      total += static_cast<double>(p.count) * h100e_factor(capacity, p.accelerator);
  }
  return total;
}

double online_h100e(const config::CapacityConfig& capacity, const Date& date) {
  double total = 0;
  for (const config::Pool& p : capacity.pools) {
    if (in_service(p, date) && p.state == config::NodeState::kUp) {
      total += static_cast<double>(p.count) * h100e_factor(capacity, p.accelerator);
    }
  }
  return total;
}

double plan_target(const config::PlanConfig& plan, const Date& date) {
  const auto& m = plan.milestones;
  if (m.empty())
    return 0;
  if (date <= m.front().date)
    return m.front().h100e;
  if (date >= m.back().date)
    return m.back().h100e;
  for (std::size_t i = 1; i < m.size(); ++i) {
    if (date > m[i].date)
      continue;
    const double t = static_cast<double>(date.days() - m[i - 1].date.days()) /
                     static_cast<double>(m[i].date.days() - m[i - 1].date.days());
    const double a = m[i - 1].h100e, b = m[i].h100e;
    return plan.interpolation == config::Interpolation::kCompound ? a * std::pow(b / a, t)
                                                                  : a + (b - a) * t;
  }
  return m.back().h100e;
}

Report report(const config::CapacityConfig& capacity, const Date& as_of,
              std::optional<double> allocated_h100e,
              const std::vector<OutOfService>& out_of_service) {
  Report r;
  r.as_of = as_of;
  r.installed_h100e = installed_h100e(capacity, as_of);
  r.online_h100e = online_h100e(capacity, as_of);
  r.out_of_service = out_of_service;
  for (const OutOfService& o : out_of_service)
    r.out_of_service_h100e += o.h100e;
  r.online_h100e = std::max(0.0, r.online_h100e - r.out_of_service_h100e);
  r.allocated_known = allocated_h100e.has_value();
  r.allocated_h100e = allocated_h100e.value_or(0);
  if (r.allocated_known && r.online_h100e > 0)
    r.utilisation_ratio = r.allocated_h100e / r.online_h100e;
  r.plan_target_h100e = plan_target(capacity.plan, as_of);
  if (!capacity.plan.milestones.empty()) {
    r.plan_final_h100e = capacity.plan.milestones.back().h100e;
    r.plan_final_date = capacity.plan.milestones.back().date;
  }
  r.progress_ratio = r.plan_target_h100e > 0 ? r.online_h100e / r.plan_target_h100e : 0;
  r.gap_h100e = r.plan_target_h100e - r.online_h100e;

  const Date before_90 = Date::from_days(as_of.days() - 90);
  const double online_90 = online_h100e(capacity, before_90);
  if (online_90 > 0)
    r.growth_90d_ratio = r.online_h100e / online_90 - 1.0;
  // This quarter so far (its end, or as_of if earlier) against the last quarter's end.
  const Date this_end = quarter_end(as_of);
  const Date last_end = Date::from_days(quarter_end(Date::from_days(this_end.days() - 95)).days());
  const double at_last_end = online_h100e(capacity, last_end);
  if (at_last_end > 0) {
    r.qoq_growth_ratio =
        online_h100e(capacity, as_of < this_end ? as_of : this_end) / at_last_end - 1.0;
  }
  for (const config::Milestone& m : capacity.plan.milestones) {
    if (m.date <= as_of)
      continue;
    r.next_milestone = m.date;
    r.required_per_day_h100e =
        std::max(0.0, m.h100e - r.online_h100e) / static_cast<double>(m.date.days() - as_of.days());
    break;
  }
  const double rate = (r.online_h100e - online_90) / 90.0;
  if (r.online_h100e >= r.plan_final_h100e && r.plan_final_h100e > 0) {
    // Already there: the first day the final target was reached.
    for (std::int64_t d = as_of.days() - 3650; d <= as_of.days(); ++d) {
      if (online_h100e(capacity, Date::from_days(d)) >= r.plan_final_h100e) {
        r.forecast_date = Date::from_days(d);
        break;
      }
    }
  } else if (rate > 0) {
    r.forecast_date = Date::from_days(
        as_of.days() +
        static_cast<std::int64_t>(std::ceil((r.plan_final_h100e - r.online_h100e) / rate)));
  }
  double spend = 0, added = 0;
  bool any = false;
  for (const config::Spend& s : capacity.spend) {
    if (s.to > as_of)
      continue;
    any = true;
    spend += s.usd;
    added +=
        online_h100e(capacity, s.to) - online_h100e(capacity, Date::from_days(s.from.days() - 1));
  }
  if (any) {
    r.spend_usd = spend;
    if (added > 0)
      r.usd_per_h100e = spend / added;
  }
  if (capacity.vehicle_fleet) {
    const config::VehicleFleet& f = *capacity.vehicle_fleet;
    r.fleet_power_watts = static_cast<double>(f.vehicles) * f.inference_kw_per_vehicle * 1000.0;
    r.fleet_idle_hours_per_week = 168.0 - 7.0 * f.driving_hours_per_day;
    r.fleet_energy_wh_per_week = *r.fleet_power_watts * *r.fleet_idle_hours_per_week;
    if (f.h100e_per_vehicle)
      r.fleet_h100e = static_cast<double>(f.vehicles) * *f.h100e_per_vehicle;
  }
  for (const config::Pool& p : capacity.pools) {
    if (!in_service(p, as_of))
      continue;
    const double h = static_cast<double>(p.count) * h100e_factor(capacity, p.accelerator);
    ClusterCapacity& c = r.clusters[p.cluster];
    c.installed_h100e += h;
    if (p.state == config::NodeState::kUp)
      c.online_h100e += h;
  }
  return r;
}

std::string to_json(const Report& r) {
  Json out_of_service = Json::array();
  for (const OutOfService& o : r.out_of_service) {
    out_of_service.push_back(
        {{"host", o.host}, {"h100e", number(o.h100e)}, {"cause", o.cause}, {"reason", o.reason}});
  }
  Json clusters = Json::object();
  for (const auto& [name, c] : r.clusters) {
    clusters[name] = {{"installed_h100e", number(c.installed_h100e)},
                      {"online_h100e", number(c.online_h100e)}};
  }
  const Json report = {{"as_of", r.as_of.str()},
                       {"installed_h100e", number(r.installed_h100e)},
                       {"online_h100e", number(r.online_h100e)},
                       {"allocated_h100e", number(r.allocated_h100e)},
                       {"allocated_known", r.allocated_known},
                       {"out_of_service_h100e", number(r.out_of_service_h100e)},
                       {"out_of_service", out_of_service},
                       {"utilisation_ratio", number(r.utilisation_ratio)},
                       {"plan_target_h100e", number(r.plan_target_h100e)},
                       {"plan_final_h100e", number(r.plan_final_h100e)},
                       {"plan_final_date", r.plan_final_date.str()},
                       {"progress_ratio", number(r.progress_ratio)},
                       {"gap_h100e", number(r.gap_h100e)},
                       {"growth_90d_ratio", number(r.growth_90d_ratio)},
                       {"qoq_growth_ratio", number(r.qoq_growth_ratio)},
                       {"next_milestone", date_json(r.next_milestone)},
                       {"required_per_day_h100e", number(r.required_per_day_h100e)},
                       {"forecast_date", date_json(r.forecast_date)},
                       {"spend_usd", number(r.spend_usd)},
                       {"usd_per_h100e", number(r.usd_per_h100e)},
                       {"fleet_power_watts", number(r.fleet_power_watts)},
                       {"fleet_idle_hours_per_week", number(r.fleet_idle_hours_per_week)},
                       {"fleet_energy_wh_per_week", number(r.fleet_energy_wh_per_week)},
                       {"fleet_h100e", number(r.fleet_h100e)},
                       {"clusters", clusters}};
  return report.dump(2) + "\n";
}

namespace {

/// "gpu-3 (hang), gpu-9 (node_lost)"
std::string out_of_service_text(const Report& r) {
  std::string text;
  for (const OutOfService& o : r.out_of_service)
    text += (text.empty() ? "" : ", ") + o.host + " (" + o.cause + ")";
  return text;
}

}  // namespace

std::string to_table(const Report& r) {
  auto fixed = [](std::optional<double> v, const char* format) {
    if (!v)
      return std::string("n/a");
    char text[64];
    std::snprintf(text, sizeof(text), format, *v);
    return std::string(text);
  };
  std::ostringstream out;
  out << "capacity as of " << r.as_of.str() << "\n"
      << "  installed          " << fixed(r.installed_h100e, "%10.0f H100e") << "\n"
      << "  online             " << fixed(r.online_h100e, "%10.0f H100e")
      << (r.out_of_service.empty() ? std::string()
                                   : "   (" + fixed(r.out_of_service_h100e, "%.1f") +
                                         " H100e blacklisted: " + out_of_service_text(r) + ")")
      << "\n"
      << "  allocated          "
      << (r.allocated_known ? fixed(r.allocated_h100e, "%10.1f H100e")
                            : std::string("   unknown (no ledger read)"))
      << "\n  utilisation        "
      << fixed(
             r.utilisation_ratio ? std::optional<double>(*r.utilisation_ratio * 100) : std::nullopt,
             "%10.1f %%")
      << "\n  plan target        " << fixed(r.plan_target_h100e, "%10.0f H100e") << "   (final "
      << fixed(r.plan_final_h100e, "%.0f") << " by " << r.plan_final_date.str() << ")\n"
      << "  progress           " << fixed(r.progress_ratio * 100, "%10.1f %%") << "   gap "
      << fixed(r.gap_h100e, "%.0f H100e") << (r.gap_h100e > 0 ? " behind" : " ahead") << "\n"
      << "  growth, 90 days    "
      << fixed(r.growth_90d_ratio ? std::optional<double>(*r.growth_90d_ratio * 100) : std::nullopt,
               "%+10.1f %%")
      << "\n  growth, quarter    "
      << fixed(r.qoq_growth_ratio ? std::optional<double>(*r.qoq_growth_ratio * 100) : std::nullopt,
               "%+10.1f %%")
      << "\n  needed per day     " << fixed(r.required_per_day_h100e, "%10.1f H100e")
      << (r.next_milestone ? "   (to " + r.next_milestone->str() + ")" : std::string()) << "\n"
      << "  forecast final     "
      << (r.forecast_date ? "   " + r.forecast_date->str() : std::string("   n/a")) << "\n"
      << "  spend per H100e    " << fixed(r.usd_per_h100e, "%10.0f USD") << "\n";
  if (r.fleet_power_watts) {
    out << "  vehicle fleet      " << fixed(*r.fleet_power_watts / 1e9, "%10.1f GW") << ", "
        << fixed(r.fleet_idle_hours_per_week, "%.0f h") << " idle a week\n";
  }
  return out.str();
}

}  // namespace dojo::capacity
