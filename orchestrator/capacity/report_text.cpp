// The capacity report as JSON and as a table for people.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "orchestrator/capacity/capacity.h"
#include "orchestrator/capacity/report_words.h"

namespace dojo::capacity {
namespace {

using config::Date;
using Json = nlohmann::ordered_json;

/// A figure, or null when it is unknown or not finite (JSON has no NaN).
Json number(std::optional<double> value) {
  return value && std::isfinite(*value) ? Json(*value) : Json();
}

Json date_json(const std::optional<Date>& d) {
  return d ? Json(d->str()) : Json();
}

Json milestone_json(const std::optional<config::Milestone>& m) {
  return m ? Json{{"date", m->date.str()}, {"h100e", m->h100e}} : Json();
}

}  // namespace

namespace words {

std::string h100e(double value) {
  return thousands(value) + " H100e";
}

std::string percent(std::optional<double> ratio, const char* format) {
  if (!ratio || !std::isfinite(*ratio))
    return "n/a";
  char text[48];
  std::snprintf(text, sizeof(text), format, *ratio * 100);
  return text;
}

std::string slip_text(double days) {
  const long n = std::lround(std::fabs(days));
  if (n == 0)
    return "on the day";
  return std::to_string(n) + (n == 1 ? " day " : " days ") + (days > 0 ? "late" : "early");
}

std::string next_milestone_text(const Report& r) {
  if (!r.next_milestone)
    return "none (the plan ended " + r.plan_final_date.str() + ")";
  std::string text = h100e(r.next_milestone->h100e) + " by " + r.next_milestone->date.str();
  if (!r.milestone_expected)
    return text + ": not reached at the current rate";
  if (r.milestone_expected_by == "online")
    return text + ": reached";
  return text + ": expected " + r.milestone_expected->str() + " (" +
         slip_text(*r.milestone_slip_days) + ", by " + r.milestone_expected_by + ")";
}

std::string needed_text(const Report& r) {
  if (r.required_per_day_h100e) {
    return thousands(*r.required_per_day_h100e, 1) + " H100e a day (to " +
           r.next_milestone->date.str() + ")";
  }
  if (r.milestone_shortfall_h100e && *r.milestone_shortfall_h100e > 0) {
    return h100e(*r.milestone_shortfall_h100e) + " short of the plan's end (" +
           r.last_milestone->date.str() + "), due already";
  }
  return "none: the plan is met";
}

std::string forecast_text(const Report& r) {
  std::string text;
  if (r.final_reached_date)
    return "reached on " + r.final_reached_date->str();
  text = r.forecast_date ? r.forecast_date->str() + " at the last 90 days' rate"
                         : "not at the current rate";
  if (r.committed_final_date)
    text += "; " + r.committed_final_date->str() + " by committed deliveries";
  return text;
}

}  // namespace words

std::string thousands(double value, int decimals) {
  if (!std::isfinite(value))
    return "n/a";
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", decimals, std::fabs(value));
  std::string digits = text;
  const std::size_t point = digits.find('.');
  std::string whole = digits.substr(0, point);
  const std::string rest = point == std::string::npos ? "" : digits.substr(point);
  for (int at = static_cast<int>(whole.size()) - 3; at > 0; at -= 3)
    whole.insert(static_cast<std::size_t>(at), ",");
  const bool negative = value < 0 && (whole + rest).find_first_not_of("0.,") != std::string::npos;
  return (negative ? "-" : "") + whole + rest;
}

std::string to_json(const Report& r) {
  Json out_of_service = Json::array();
  for (const OutOfService& o : r.out_of_service) {
    out_of_service.push_back(
        {{"host", o.host}, {"h100e", number(o.h100e)}, {"cause", o.cause}, {"reason", o.reason}});
  }
  Json not_online = Json::array();
  for (const NotOnline& n : r.not_online) {
    not_online.push_back({{"pool", n.pool},
                          {"state", n.state},
                          {"h100e", number(n.h100e)},
                          {"since", n.since.str()},
                          {"detail", n.detail}});
  }
  Json deliveries = Json::array();
  for (const Delivery& d : r.deliveries) {
    deliveries.push_back({{"pool", d.pool},
                          {"date", d.date.str()},
                          {"h100e", number(d.h100e)},
                          {"planned", d.planned},
                          {"arrives", d.arrives.str()}});
  }
  Json clusters = Json::object();
  for (const auto& [name, c] : r.clusters) {
    clusters[name] = {{"installed_h100e", number(c.installed_h100e)},
                      {"online_h100e", number(c.online_h100e)}};
  }
  double not_online_h100e = 0;
  for (const NotOnline& n : r.not_online)
    not_online_h100e += n.state == "retired" ? 0 : n.h100e;
  const Json report = {
      {"as_of", r.as_of.str()},
      {"live", r.live},
      {"installed_h100e", number(r.installed_h100e)},
      {"online_h100e", number(r.online_h100e)},
      {"planned_online_h100e", number(r.planned_online_h100e)},
      {"allocated_h100e", number(r.allocated_h100e)},
      {"allocated_known", r.allocated_h100e.has_value()},
      {"allocated_note", r.allocated_note},
      {"out_of_service_h100e", number(r.out_of_service_h100e)},
      {"out_of_service", out_of_service},
      {"not_online_h100e", number(not_online_h100e)},
      {"not_online", not_online},
      {"utilisation_ratio", number(r.utilisation_ratio)},
      {"plan_start_date", date_json(r.plan_start)},
      {"plan_target_h100e", number(r.plan_target_h100e)},
      {"plan_final_h100e", number(r.plan_final_h100e)},
      {"plan_final_date", r.plan_final_date.str()},
      {"progress_ratio", number(r.progress_ratio)},
      {"gap_h100e", number(r.gap_h100e)},
      {"growth_90d_ratio", number(r.growth_90d_ratio)},
      {"growth_qoq_ratio", number(r.growth_qoq_ratio)},
      {"next_milestone", milestone_json(r.next_milestone)},
      {"required_per_day_h100e", number(r.required_per_day_h100e)},
      {"milestone_expected_date", date_json(r.milestone_expected)},
      {"milestone_expected_by", r.milestone_expected ? Json(r.milestone_expected_by) : Json()},
      {"milestone_slip_days", number(r.milestone_slip_days)},
      {"last_milestone", milestone_json(r.last_milestone)},
      {"milestone_shortfall_h100e", number(r.milestone_shortfall_h100e)},
      {"forecast_date", date_json(r.forecast_date)},
      {"final_reached_date", date_json(r.final_reached_date)},
      {"committed_h100e", number(r.committed_h100e)},
      {"committed_final_date", date_json(r.committed_final_date)},
      {"deliveries", deliveries},
      {"spend_usd", number(r.spend_usd)},
      {"usd_per_h100e", number(r.usd_per_h100e)},
      {"fleet_power_watts", number(r.fleet_power_watts)},
      {"fleet_idle_hours_per_week", number(r.fleet_idle_hours_per_week)},
      {"fleet_energy_wh_per_week", number(r.fleet_energy_wh_per_week)},
      {"fleet_h100e", number(r.fleet_h100e)},
      {"clusters", clusters}};
  return report.dump(2) + "\n";
}

std::string to_table(const Report& r) {
  using namespace words;
  std::ostringstream out;
  auto row = [&out](const char* name, const std::string& value) {
    char label[32];
    std::snprintf(label, sizeof(label), "  %-20s", name);
    out << label << value << "\n";
  };
  out << "capacity as of " << r.as_of.str() << "\n";
  row("installed", h100e(r.installed_h100e));
  std::string online = h100e(r.online_h100e);
  if (!r.out_of_service.empty()) {
    std::string hosts;
    for (const OutOfService& o : r.out_of_service)
      hosts += (hosts.empty() ? "" : ", ") + o.host + " (" + o.cause + ")";
    online += "   (" + thousands(r.out_of_service_h100e, 1) + " H100e blacklisted: " + hosts + ")";
  }
  row("online", online);
  if (r.planned_online_h100e > 0)
    row("  of it planned", h100e(r.planned_online_h100e) + "   (deliveries the plan expects)");
  row("allocated", r.allocated_h100e ? thousands(*r.allocated_h100e, 1) + " H100e"
                                     : "unknown (" + r.allocated_note + ")");
  row("utilisation", percent(r.utilisation_ratio));
  if (r.plan_target_h100e) {
    row("plan target", h100e(*r.plan_target_h100e) + "   (final " + thousands(r.plan_final_h100e) +
                           " by " + r.plan_final_date.str() + ")");
    row("progress", percent(r.progress_ratio) + "   gap " + thousands(std::fabs(*r.gap_h100e)) +
                        " H100e " + (*r.gap_h100e > 0 ? "behind" : "ahead"));
  } else {
    row("plan target", "none: the plan starts " + r.plan_start.value_or(r.plan_final_date).str() +
                           " (final " + thousands(r.plan_final_h100e) + " by " +
                           r.plan_final_date.str() + ")");
  }
  row("growth, 90 days", percent(r.growth_90d_ratio, "%+.1f %%"));
  row("growth, quarter", percent(r.growth_qoq_ratio, "%+.1f %%"));
  row("next milestone", next_milestone_text(r));
  row("needed per day", needed_text(r));
  row("forecast final", forecast_text(r));
  row("spend per H100e", r.usd_per_h100e ? thousands(*r.usd_per_h100e) + " USD" : "n/a");
  if (r.fleet_power_watts) {
    char text[96];
    std::snprintf(text, sizeof(text), "%.1f GW of inference, %.0f h a week parked",
                  *r.fleet_power_watts / 1e9, r.fleet_idle_hours_per_week.value_or(0));
    row("vehicle fleet", text);
  }
  if (!r.not_online.empty()) {
    out << "\nnot online\n";
    for (const NotOnline& n : r.not_online) {
      char text[160];
      std::snprintf(text, sizeof(text), "  %-20s %-12s %14s  since %s", n.pool.c_str(),
                    n.state.c_str(), h100e(n.h100e).c_str(), n.since.str().c_str());
      out << text << (n.detail.empty() ? "" : "  (" + n.detail + ")") << "\n";
    }
  }
  if (!r.deliveries.empty()) {
    out << "\ndeliveries after " << r.as_of.str() << "\n";
    for (const Delivery& d : r.deliveries) {
      char text[160];
      std::snprintf(text, sizeof(text), "  %s  %-20s %14s  %s%s", d.date.str().c_str(),
                    d.pool.c_str(), h100e(d.h100e).c_str(), d.planned ? "planned" : "committed",
                    d.arrives < d.date ? (", installed " + d.arrives.str()).c_str() : "");
      out << text << "\n";
    }
  }
  return out.str();
}

}  // namespace dojo::capacity
