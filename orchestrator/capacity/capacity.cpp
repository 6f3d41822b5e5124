#include "orchestrator/capacity/capacity.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/error.h"

namespace dojo::capacity {
namespace {

using config::Date;

bool in_service(const config::Pool& pool, const Date& date) {
  return pool.online <= date && (!pool.retire || *pool.retire > date);
}

double pool_h100e(const config::CapacityConfig& capacity, const config::Pool& pool) {
  return static_cast<double>(pool.count) * h100e_factor(capacity, pool.accelerator);
}

Date quarter_end(const Date& d) {
  const int month = ((d.month - 1) / 3 + 1) * 3;
  Date next{month == 12 ? d.year + 1 : d.year, month == 12 ? 1 : month + 1, 1};
  return Date::from_days(next.days() - 1);
}

/// How far online is from `target` and when it gets there: now, by the
/// inventory's dated changes after as_of (committed deliveries), or at
/// `rate` H100e a day; within the forecast horizon only.
struct Reach {
  std::optional<Date> date;
  std::string by;
};

Reach committed_reach(const config::CapacityConfig& capacity, const std::vector<Date>& changes,
                      const Report& r, double target) {
  if (r.online_h100e >= target)
    return {r.as_of, "online"};
  for (const Date& d : changes) {
    if (d <= r.as_of)
      continue;
    if (d.days() - r.as_of.days() > kForecastHorizonDays)
      break;
    if (online_h100e(capacity, d) - r.out_of_service_h100e >= target)
      return {d, "committed deliveries"};
  }
  return {};
}

Reach reach(const config::CapacityConfig& capacity, const std::vector<Date>& changes,
            const Report& r, double target, double rate) {
  Reach by_inventory = committed_reach(capacity, changes, r, target);
  if (by_inventory.date)
    return by_inventory;
  if (rate > 0) {
    const double days = std::ceil((target - r.online_h100e) / rate);
    if (days <= static_cast<double>(kForecastHorizonDays))
      return {Date::from_days(r.as_of.days() + static_cast<std::int64_t>(days)), "90-day rate"};
  }
  return {};
}

void plan_figures(const config::CapacityConfig& capacity, const std::vector<Date>& changes,
                  double rate, Report& r) {
  const auto& milestones = capacity.plan.milestones;
  if (milestones.empty())
    return;
  r.plan_start = milestones.front().date;
  r.plan_final_h100e = milestones.back().h100e;
  r.plan_final_date = milestones.back().date;
  r.plan_target_h100e = plan_target(capacity.plan, r.as_of);
  if (r.plan_target_h100e) {
    r.progress_ratio = r.online_h100e / *r.plan_target_h100e;
    r.gap_h100e = *r.plan_target_h100e - r.online_h100e;
  }
  for (const config::Milestone& m : milestones) {
    if (m.date <= r.as_of) {
      r.last_milestone = m;
      r.milestone_shortfall_h100e = std::max(0.0, m.h100e - r.online_h100e);
      continue;
    }
    r.next_milestone = m;
    r.required_per_day_h100e = std::max(0.0, m.h100e - r.online_h100e) /
                               static_cast<double>(m.date.days() - r.as_of.days());
    const Reach expected = reach(capacity, changes, r, m.h100e, rate);
    r.milestone_expected = expected.date;
    r.milestone_expected_by = expected.by;
    if (expected.date)
      r.milestone_slip_days = static_cast<double>(expected.date->days() - m.date.days());
    break;
  }
  if (r.online_h100e >= r.plan_final_h100e) {
    // Already there: the first day the inventory reached the final target.
    r.final_reached_date = r.as_of;
    for (const Date& d : changes) {
      if (d <= r.as_of && online_h100e(capacity, d) >= r.plan_final_h100e) {
        r.final_reached_date = d;
        break;
      }
    }
  } else if (rate > 0) {
    const double days = std::ceil((r.plan_final_h100e - r.online_h100e) / rate);
    if (days <= static_cast<double>(kForecastHorizonDays))
      r.forecast_date = Date::from_days(r.as_of.days() + static_cast<std::int64_t>(days));
  }
  r.committed_final_date = committed_reach(capacity, changes, r, r.plan_final_h100e).date;
}

/// Spend over the periods ended by as_of, over the H100e installed in them;
/// overlapping periods count their H100e once.
void spend_figures(const config::CapacityConfig& capacity, Report& r) {
  std::vector<std::pair<Date, Date>> periods;
  double spend = 0;
  for (const config::Spend& s : capacity.spend) {
    if (s.to > r.as_of)
      continue;
    spend += s.usd;
    periods.emplace_back(s.from, s.to);
  }
  if (periods.empty())
    return;
  std::sort(periods.begin(), periods.end());
  std::vector<std::pair<Date, Date>> merged;
  for (const auto& period : periods) {
    if (!merged.empty() && period.first.days() <= merged.back().second.days() + 1) {
      merged.back().second = std::max(merged.back().second, period.second);
    } else {
      merged.push_back(period);
    }
  }
  double added = 0;
  for (const auto& [from, to] : merged)
    added +=
        installed_h100e(capacity, to) - installed_h100e(capacity, Date::from_days(from.days() - 1));
  r.spend_usd = spend;
  if (added > 0)
    r.usd_per_h100e = spend / added;
}

/// When a pool not online on `as_of` next counts online (in service and up),
/// within the forecast horizon.
std::optional<Date> next_up(const config::Pool& p, const Date& as_of) {
  auto online_on = [&p](const Date& d) {
    return in_service(p, d) && p.state_at(d) == config::NodeState::kUp;
  };
  if (online_on(as_of))
    return std::nullopt;
  std::vector<Date> candidates = {p.online};
  for (const config::StateChange& change : p.states)
    candidates.push_back(change.since);
  std::sort(candidates.begin(), candidates.end());
  for (const Date& d : candidates) {
    if (d > as_of && d.days() - as_of.days() <= kForecastHorizonDays && online_on(d))
      return d;
  }
  return std::nullopt;
}

void inventory_figures(const config::CapacityConfig& capacity, Report& r) {
  for (const config::Pool& p : capacity.pools) {
    const double h = pool_h100e(capacity, p);
    if (const std::optional<Date> up = next_up(p, r.as_of)) {
      r.deliveries.push_back({p.name, *up, h, p.planned, p.online});
      r.committed_h100e += h;
    }
    if (p.online > r.as_of)
      continue;
    if (!in_service(p, r.as_of)) {
      r.not_online.push_back({p.name, "retired", h, *p.retire, ""});
      continue;
    }
    const config::NodeState state = p.state_at(r.as_of);
    ClusterCapacity& c = r.clusters[p.cluster];
    c.installed_h100e += h;
    if (state == config::NodeState::kUp) {
      c.online_h100e += h;
      if (p.planned)
        r.planned_online_h100e += h;
    } else {
      r.not_online.push_back({p.name, config::to_string(state), h, p.state_since(r.as_of), ""});
    }
  }
  std::stable_sort(r.deliveries.begin(), r.deliveries.end(),
                   [](const Delivery& a, const Delivery& b) { return a.date < b.date; });
}

}  // namespace

double h100e_factor(const config::CapacityConfig& capacity, const std::string& accelerator) {
  const config::Accelerator* a = capacity.catalog.find(accelerator);
  if (a == nullptr)
    throw Error("unknown accelerator \"" + accelerator + "\"");
  return a->h100e();
}

double installed_h100e(const config::CapacityConfig& capacity, const Date& date) {
  double total = 0;
  for (const config::Pool& p : capacity.pools) {
    if (in_service(p, date))
      total += pool_h100e(capacity, p);
  }
  return total;
}

double online_h100e(const config::CapacityConfig& capacity, const Date& date) {
  double total = 0;
  for (const config::Pool& p : capacity.pools) {
    if (in_service(p, date) && p.state_at(date) == config::NodeState::kUp)
      total += pool_h100e(capacity, p);
  }
  return total;
}

std::optional<double> plan_target(const config::PlanConfig& plan, const Date& date) {
  const auto& m = plan.milestones;
  if (m.empty() || date < m.front().date)
    return std::nullopt;
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

std::vector<Date> change_dates(const config::CapacityConfig& capacity) {
  std::set<Date> dates;
  for (const config::Pool& p : capacity.pools) {
    dates.insert(p.online);
    if (p.retire)
      dates.insert(*p.retire);
    for (const config::StateChange& change : p.states)
      dates.insert(change.since);
  }
  return {dates.begin(), dates.end()};
}

bool describes_now(const Date& as_of) {
  return as_of == Date::today();
}

Report report(const config::CapacityConfig& capacity, const Date& as_of,
              const std::optional<Live>& live) {
  Report r;
  r.as_of = as_of;
  r.live = live.has_value();
  r.installed_h100e = installed_h100e(capacity, as_of);
  r.online_h100e = online_h100e(capacity, as_of);
  if (live) {
    r.out_of_service = live->out_of_service;
    for (const OutOfService& o : live->out_of_service) {
      r.out_of_service_h100e += o.h100e;
      r.not_online.push_back({o.host, "blacklisted", o.h100e, as_of, o.cause + ": " + o.reason});
    }
    r.online_h100e = std::max(0.0, r.online_h100e - r.out_of_service_h100e);
    r.allocated_h100e = live->allocated_h100e;
    if (!r.allocated_h100e)
      r.allocated_note = "no ledger read";
  } else {
    r.allocated_note = "the ledger describes today, not " + as_of.str();
  }
  if (r.allocated_h100e && r.online_h100e > 0)
    r.utilisation_ratio = *r.allocated_h100e / r.online_h100e;

  const double online_90 = online_h100e(capacity, Date::from_days(as_of.days() - 90));
  if (online_90 > 0)
    r.growth_90d_ratio = r.online_h100e / online_90 - 1.0;
  // This quarter so far (its end, or as_of if earlier) against the last quarter's end.
  const Date this_end = quarter_end(as_of);
  const Date last_end = quarter_end(Date::from_days(this_end.days() - 95));
  const double at_last_end = online_h100e(capacity, last_end);
  if (at_last_end > 0) {
    r.growth_qoq_ratio =
        online_h100e(capacity, as_of < this_end ? as_of : this_end) / at_last_end - 1.0;
  }
  const std::vector<Date> changes = change_dates(capacity);
  plan_figures(capacity, changes, (r.online_h100e - online_90) / 90.0, r);
  spend_figures(capacity, r);
  inventory_figures(capacity, r);
  if (capacity.vehicle_fleet) {
    const config::VehicleFleet& f = *capacity.vehicle_fleet;
    r.fleet_power_watts = static_cast<double>(f.vehicles) * f.inference_kw_per_vehicle * 1000.0;
    r.fleet_idle_hours_per_week = 168.0 - 7.0 * f.driving_hours_per_day;
    r.fleet_energy_wh_per_week = *r.fleet_power_watts * *r.fleet_idle_hours_per_week;
    if (f.h100e_per_vehicle)
      r.fleet_h100e = static_cast<double>(f.vehicles) * *f.h100e_per_vehicle;
  }
  return r;
}

}  // namespace dojo::capacity
