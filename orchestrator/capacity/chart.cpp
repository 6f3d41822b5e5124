#include "orchestrator/capacity/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "common/xml.h"

namespace dojo::capacity {
namespace {

using config::Date;

constexpr double kWidth = 960, kHeight = 540;
constexpr double kLeft = 90, kRight = 30, kTop = 60, kBottom = 70;

std::string fmt(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", v);
  return text;
}

// A round step for about `ticks` gridlines up to `top`.
double nice_step(double top, int ticks) {
  const double raw = top / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (raw <= m * magnitude)
      return m * magnitude;
  }
  return 10 * magnitude;
}

}  // namespace

std::string chart_svg(const config::CapacityConfig& capacity, const Report& report) {
  // The span: from the first pool (or milestone) to past the plan's end and the forecast.
  std::int64_t first = report.as_of.days(), last = report.as_of.days();
  for (const config::Pool& p : capacity.pools)
    first = std::min(first, p.online.days());
  for (const config::Milestone& m : capacity.plan.milestones) {
    first = std::min(first, m.date.days());
    last = std::max(last, m.date.days());
  }
  if (report.forecast_date)
    last = std::max(last, report.forecast_date->days());
  first -= 30;
  last += 30;
  double top = std::max({report.plan_final_h100e, report.installed_h100e, 1.0});
  for (std::int64_t d = first; d <= last; d += 7)
    top = std::max(top, installed_h100e(capacity, Date::from_days(d)));
  const double step = nice_step(top * 1.05, 6);
  top = std::ceil(top * 1.05 / step) * step;

  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto x = [&](std::int64_t day) {
    return kLeft + plot_w * static_cast<double>(day - first) / static_cast<double>(last - first);
  };
  auto y = [&](double v) { return kTop + plot_h * (1.0 - v / top); };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" viewBox=\"0 0 " << kWidth << " " << kHeight
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kLeft << "\" y=\"28\" font-size=\"18\" font-weight=\"bold\">"
      << xml_escape(capacity.name) << ": H100-equivalents against the plan</text>\n"
      << "<text x=\"" << kLeft << "\" y=\"46\" fill=\"#555\">as of " << report.as_of.str() << ": "
      << fmt(report.online_h100e) << " online, plan " << fmt(report.plan_target_h100e) << " ("
      << fmt(report.progress_ratio * 100) << "%)</text>\n";
  // Gridlines and the value axis.
  for (double v = 0; v <= top + 1e-9; v += step) {
    svg << "<line x1=\"" << kLeft << "\" x2=\"" << kWidth - kRight << "\" y1=\"" << fmt(y(v))
        << "\" y2=\"" << fmt(y(v)) << "\" stroke=\"#e5e5e5\"/>\n<text x=\"" << kLeft - 8
        << "\" y=\"" << fmt(y(v) + 4) << "\" text-anchor=\"end\">" << static_cast<long long>(v)
        << "</text>\n";
  }
  // Quarter ticks on the time axis.
  Date d = Date::from_days(first);
  d = Date{d.year, ((d.month - 1) / 3) * 3 + 1, 1};
  // Every quarter gets a gridline; labels thin to years when quarters would crowd.
  const bool years_only = (last - first) * 70.0 / 91.0 > plot_w;
  while (d.days() <= last) {
    if (d.days() >= first) {
      svg << "<line x1=\"" << fmt(x(d.days())) << "\" x2=\"" << fmt(x(d.days())) << "\" y1=\""
          << kTop << "\" y2=\"" << kHeight - kBottom << "\" stroke=\"#f0f0f0\"/>\n";
      if (!years_only || d.month == 1) {
        svg << "<text x=\"" << fmt(x(d.days())) << "\" y=\"" << kHeight - kBottom + 18
            << "\" text-anchor=\"middle\">" << d.year;
        if (!years_only)
          svg << " Q" << (d.month - 1) / 3 + 1;
        svg << "</text>\n";
      }
    }
    d = d.month == 10 ? Date{d.year + 1, 1, 1} : Date{d.year, d.month + 3, 1};
  }
  svg << "<text x=\"20\" y=\"" << kTop + plot_h / 2 << "\" transform=\"rotate(-90 20 "
      << kTop + plot_h / 2 << ")\" text-anchor=\"middle\">H100e</text>\n";

  // History: installed and online, weekly points up to as_of.
  auto series = [&](bool online_only, const char* color, const char* dash) {
    svg << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2.5\"" << dash
        << " points=\"";
    for (std::int64_t day = first; day <= report.as_of.days();
         day = std::min(day + 3, report.as_of.days() + (day == report.as_of.days()))) {
      const Date at = Date::from_days(day);
      const double v = online_only ? online_h100e(capacity, at) : installed_h100e(capacity, at);
      svg << fmt(x(day)) << "," << fmt(y(v)) << " ";
      if (day == report.as_of.days())
        break;
    }
    svg << "\"/>\n";
  };
  series(false, "#9db4d6", "");
  series(true, "#1f5fb4", "");
  // The plan through its milestones, labelled.
  if (!capacity.plan.milestones.empty()) {
    svg << "<polyline fill=\"none\" stroke=\"#d97b00\" stroke-width=\"2\" points=\"";
    for (std::int64_t day = capacity.plan.milestones.front().date.days();
         day <= capacity.plan.milestones.back().date.days(); day += 3) {
      svg << fmt(x(day)) << "," << fmt(y(plan_target(capacity.plan, Date::from_days(day)))) << " ";
    }
    const config::Milestone& end = capacity.plan.milestones.back();
    svg << fmt(x(end.date.days())) << "," << fmt(y(end.h100e)) << "\"/>\n";
    for (const config::Milestone& m : capacity.plan.milestones) {
      svg << "<circle cx=\"" << fmt(x(m.date.days())) << "\" cy=\"" << fmt(y(m.h100e))
          << "\" r=\"4\" fill=\"#d97b00\"/>\n"
          << "<text x=\"" << fmt(x(m.date.days()) - 6) << "\" y=\"" << fmt(y(m.h100e) - 8)
          << "\" text-anchor=\"end\" fill=\"#a05a00\">" << static_cast<long long>(m.h100e) << " by "
          << m.date.str() << "</text>\n";
    }
  }
  // The forecast at the last 90 days' rate.
  if (report.forecast_date && *report.forecast_date > report.as_of) {
    svg << "<line x1=\"" << fmt(x(report.as_of.days())) << "\" y1=\"" << fmt(y(report.online_h100e))
        << "\" x2=\"" << fmt(x(report.forecast_date->days())) << "\" y2=\""
        << fmt(y(report.plan_final_h100e))
        << "\" stroke=\"#1f5fb4\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n<text x=\""
        << fmt(x(report.forecast_date->days()) + 4) << "\" y=\""
        << fmt(y(report.plan_final_h100e) + 22)
        << "\" text-anchor=\"end\" fill=\"#1f5fb4\">forecast: "
        << static_cast<long long>(report.plan_final_h100e) << " by " << report.forecast_date->str()
        << "</text>\n";
  }
  // As of.
  svg << "<line x1=\"" << fmt(x(report.as_of.days())) << "\" x2=\"" << fmt(x(report.as_of.days()))
      << "\" y1=\"" << kTop << "\" y2=\"" << kHeight - kBottom
      << "\" stroke=\"#444\" stroke-dasharray=\"2 3\"/>\n<text x=\""
      << fmt(x(report.as_of.days()) + 4) << "\" y=\"" << kTop + 12 << "\" fill=\"#444\">as of "
      << report.as_of.str() << "</text>\n";
  // Legend.
  const double lx = kLeft + 10, ly = kHeight - 22;
  const std::pair<const char*, const char*> legend[] = {
      {"#1f5fb4", "online"},
      {"#9db4d6", "installed"},
      {"#d97b00", "plan"},
      {"#1f5fb4", "forecast (last 90 days' rate)"}};
  double at = lx;
  for (const auto& [color, label] : legend) {
    svg << "<line x1=\"" << at << "\" x2=\"" << at + 24 << "\" y1=\"" << ly << "\" y2=\"" << ly
        << "\" stroke=\"" << color << "\" stroke-width=\"3\""
        << (std::string(label).rfind("forecast", 0) == 0 ? " stroke-dasharray=\"6 4\"" : "")
        << "/>\n<text x=\"" << at + 30 << "\" y=\"" << ly + 4 << "\">" << label << "</text>\n";
    at += 40 + 7.0 * std::string(label).size();
  }
  svg << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << plot_w << "\" height=\""
      << plot_h << "\" fill=\"none\" stroke=\"#888\"/>\n</svg>\n";
  return svg.str();
}

}  // namespace dojo::capacity
