#include "orchestrator/capacity/backfill.h"

#include <prometheus/metric_family.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <vector>

#include "common/error.h"
#include "orchestrator/capacity/collector.h"

namespace dojo::capacity {
namespace {

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string label_set(const prometheus::ClientMetric& metric) {
  if (metric.label.empty())
    return {};
  std::string out = "{";
  for (std::size_t i = 0; i < metric.label.size(); ++i) {
    out +=
        (i ? "," : "") + metric.label[i].name + "=\"" + escape_label(metric.label[i].value) + "\"";
  }
  return out + "}";
}

std::string number(double v) {
  char text[40];
  std::snprintf(text, sizeof(text), "%.17g", v);
  return text;
}

struct Family {
  std::string help;
  // label set -> (unix seconds, value), in time order as the days are walked
  std::map<std::string, std::vector<std::pair<std::int64_t, double>>> series;
};

}  // namespace

config::Date first_online(const config::CapacityConfig& capacity) {
  if (capacity.pools.empty())
    throw Error(capacity.source.string() + ": no pools, so no timeline to backfill");
  config::Date first = capacity.pools.front().online;
  for (const config::Pool& p : capacity.pools)
    first = std::min(first, p.online);
  return first;
}

std::string openmetrics_backfill(const config::CapacityConfig& capacity, const config::Date& from,
                                 const config::Date& to, int step_days) {
  if (step_days < 1)
    throw Error("backfill step must be at least one day, got " + std::to_string(step_days));
  if (to < from)
    throw Error("backfill range is empty: " + from.str() + " is after " + to.str());
  // Families in the order the exporter serves them; allocated has no history.
  std::vector<std::string> order;
  std::map<std::string, Family> families;
  // Every step_days from `from`, and always `to` itself, however the step falls.
  std::vector<std::int64_t> days;
  for (std::int64_t day = from.days(); day < to.days(); day += step_days)
    days.push_back(day);
  days.push_back(to.days());
  for (const std::int64_t day : days) {
    const config::Date at = config::Date::from_days(day);
    const Collector collector(capacity, at, {});
    for (const prometheus::MetricFamily& f : collector.Collect()) {
      auto [it, fresh] = families.try_emplace(f.name, Family{f.help, {}});
      if (fresh)
        order.push_back(f.name);
      for (const prometheus::ClientMetric& m : f.metric)
        it->second.series[label_set(m)].emplace_back(day * 86400, m.gauge.value);
    }
  }
  std::ostringstream out;
  for (const std::string& name : order) {
    const Family& f = families.at(name);
    out << "# HELP " << name << " " << f.help << "\n# TYPE " << name << " gauge\n";
    for (const auto& [labels, points] : f.series)
      for (const auto& [seconds, value] : points)
        out << name << labels << " " << number(value) << " " << seconds << "\n";
  }
  out << "# EOF\n";
  return out.str();
}

}  // namespace dojo::capacity
