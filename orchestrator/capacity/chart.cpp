#include "orchestrator/capacity/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <utility>
#include <vector>

#include "common/xml.h"

namespace dojo::capacity {
namespace {

using config::Date;

constexpr double kWidth = 960, kHeight = 540;
constexpr double kLeft = 90, kRight = 30, kTop = 64, kBottom = 84;
constexpr double kCharWidth = 6.2;  ///< about one character at font-size 12
constexpr std::int64_t kHistoryBeforePlanDays = 270;
constexpr std::int64_t kForecastShownDays = 730;

const char* const kOnline = "#1f5fb4";
const char* const kInstalled = "#9db4d6";
const char* const kPlan = "#d97b00";
const char* const kCommitted = "#2a8c4a";
const char* const kForecast = "#6a3d9a";

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

Date quarter_start(const Date& d) {
  return Date{d.year, ((d.month - 1) / 3) * 3 + 1, 1};
}

/// The days to evaluate a step function on in [from, to]: its change dates
/// when they are few, else evenly spaced days; at most kChartMaxPoints.
std::vector<std::int64_t> sample_days(const std::vector<Date>& changes, std::int64_t from,
                                      std::int64_t to) {
  std::vector<std::int64_t> days;
  for (const Date& d : changes) {
    if (d.days() > from && d.days() <= to)
      days.push_back(d.days());
  }
  if (days.size() * 2 + 2 > kChartMaxPoints) {
    days.clear();
    const std::size_t n = kChartMaxPoints - 2;
    for (std::size_t i = 1; i <= n; ++i)
      days.push_back(from + static_cast<std::int64_t>(static_cast<double>(to - from) * i / n));
  }
  return days;
}

struct LegendEntry {
  const char* color;
  std::string label;
  bool dashed;
};

/// One chart: its time and value frame, and the SVG it draws in order.
class Chart {
 public:
  Chart(const config::CapacityConfig& capacity, const Report& report)
      : capacity_(capacity), report_(report), changes_(change_dates(capacity)) {
    frame();
  }

  std::string draw() {
    header();
    value_axis();
    time_axis();
    steps(false, kInstalled, "installed", report_.as_of.days(), 0, false);
    steps(true, kOnline, "online", report_.as_of.days(), report_.out_of_service_h100e, false);
    committed();
    plan();
    forecast();
    as_of_marker();
    legend();
    svg_ << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << plot_w_ << "\" height=\""
         << plot_h_ << "\" fill=\"none\" stroke=\"#888\"/>\n</svg>\n";
    return svg_.str();
  }

 private:
  // The span: a few quarters before the plan starts (or before as_of) to past
  // the plan's end and the forecasts, two years beyond at most; the value
  // axis to a round step above everything drawn.
  void frame() {
    const auto& milestones = capacity_.plan.milestones;
    std::int64_t focus = report_.as_of.days();
    if (!milestones.empty())
      focus = std::min(focus, milestones.front().date.days());
    std::int64_t first_pool = focus;
    for (const config::Pool& p : capacity_.pools)
      first_pool = std::min(first_pool, p.online.days());
    first_ = quarter_start(Date::from_days(focus - kHistoryBeforePlanDays)).days();
    first_ = std::max(first_, quarter_start(Date::from_days(first_pool)).days());
    last_ = report_.as_of.days();
    if (!milestones.empty())
      last_ = std::max(last_, milestones.back().date.days());
    const std::int64_t limit = last_ + kForecastShownDays;
    for (const auto& d : {report_.forecast_date, report_.committed_final_date}) {
      if (d)
        last_ = std::max(last_, std::min(d->days(), limit));
    }
    last_ += 45;
    top_ = std::max({report_.plan_final_h100e, report_.installed_h100e, 1.0});
    for (const config::Milestone& m : milestones)
      top_ = std::max(top_, m.h100e);
    for (std::int64_t d : sample_days(changes_, first_, last_))
      top_ = std::max(top_, installed_h100e(capacity_, Date::from_days(d)));
    step_ = nice_step(top_ * 1.05, 6);
    top_ = std::ceil(top_ * 1.05 / step_) * step_;
  }

  double x(std::int64_t day) const {
    const std::int64_t clamped = std::clamp(day, first_, last_);
    return kLeft +
           plot_w_ * static_cast<double>(clamped - first_) / static_cast<double>(last_ - first_);
  }
  double y(double v) const { return kTop + plot_h_ * (1.0 - std::clamp(v, 0.0, top_) / top_); }

  /// A label with a white halo, so lines under it do not cut through it.
  void label(double at_x, double at_y, const std::string& text, const char* anchor,
             const char* color, const char* extra = "") {
    svg_ << "<text x=\"" << fmt(at_x) << "\" y=\"" << fmt(at_y) << "\" text-anchor=\"" << anchor
         << "\" fill=\"" << color << "\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\""
         << extra << ">" << xml_escape(text) << "</text>\n";
  }

  void header() {
    svg_ << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\""
         << kHeight << "\" viewBox=\"0 0 " << kWidth << " " << kHeight
         << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
         << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
         << "<text x=\"" << kLeft << "\" y=\"28\" font-size=\"18\" font-weight=\"bold\">"
         << xml_escape(capacity_.name) << ": H100-equivalents against the plan</text>\n";
    std::string line =
        "as of " + report_.as_of.str() + ": " + thousands(report_.online_h100e) + " H100e online, ";
    if (report_.plan_target_h100e) {
      char ratio[32];
      std::snprintf(ratio, sizeof(ratio), "%.1f%%", report_.progress_ratio.value_or(0) * 100);
      line += "plan " + thousands(*report_.plan_target_h100e) + " H100e (" + ratio + ")";
    } else {
      line += "no plan target yet (the plan starts " +
              report_.plan_start.value_or(report_.plan_final_date).str() + ")";
    }
    if (report_.milestone_slip_days && *report_.milestone_slip_days > 0) {
      line += "; next milestone " + std::to_string(std::lround(*report_.milestone_slip_days)) +
              " days late";
    }
    svg_ << "<text x=\"" << kLeft << "\" y=\"48\" fill=\"#555\">" << xml_escape(line)
         << "</text>\n";
  }

  /// A value-axis label: "85,000", or "1,200M" when millions would crowd the margin.
  std::string tick(double v) const {
    if (top_ < 1e7)
      return thousands(v);
    const double millions = v / 1e6;
    return thousands(millions, millions == std::floor(millions) ? 0 : 1) + "M";
  }

  // Gridlines and the value axis, in H100e with thousands separators.
  void value_axis() {
    for (double v = 0; v <= top_ + step_ * 1e-9; v += step_) {
      svg_ << "<line x1=\"" << kLeft << "\" x2=\"" << kWidth - kRight << "\" y1=\"" << fmt(y(v))
           << "\" y2=\"" << fmt(y(v)) << "\" stroke=\"#e5e5e5\"/>\n<text x=\"" << kLeft - 8
           << "\" y=\"" << fmt(y(v) + 4) << "\" text-anchor=\"end\">" << tick(v) << "</text>\n";
    }
    svg_ << "<text x=\"22\" y=\"" << kTop + plot_h_ / 2 << "\" transform=\"rotate(-90 22 "
         << kTop + plot_h_ / 2 << ")\" text-anchor=\"middle\">H100-equivalents (H100e)</text>\n";
  }

  // A gridline every quarter labelled "Q1 2024" when quarters have room,
  // else every 2, 4, 8, 20, ... quarters (years when 4 or more): at most
  // about one tick per 48 pixels, however long the span.
  void time_axis() {
    const double quarter_px = plot_w_ * 91.3 / static_cast<double>(last_ - first_);
    std::int64_t step = 1;
    for (std::int64_t s : {1, 2, 4, 8, 20, 40, 80, 200, 400, 800, 2000, 4000, 8000, 40000}) {
      step = s;
      if (static_cast<double>(s) * quarter_px >= 48)
        break;
    }
    const Date first = Date::from_days(first_);
    std::int64_t index = first.year * 4LL + (first.month - 1) / 3;  // quarters since year 0
    index = (index + step - 1) / step * step;
    for (;; index += step) {
      const Date d{static_cast<int>(index / 4), static_cast<int>(index % 4) * 3 + 1, 1};
      if (d.days() > last_)
        break;
      if (d.days() < first_)
        continue;
      svg_ << "<line x1=\"" << fmt(x(d.days())) << "\" x2=\"" << fmt(x(d.days())) << "\" y1=\""
           << kTop << "\" y2=\"" << kHeight - kBottom << "\" stroke=\"#f0f0f0\"/>\n";
      const std::string text =
          step < 4 ? "Q" + std::to_string(index % 4 + 1) + " " + std::to_string(d.year)
                   : std::to_string(d.year);
      // A quarter's label sits in the middle of its quarter.
      const double at = step == 1 ? x(d.days()) + quarter_px / 2 : x(d.days());
      if (at + kCharWidth * static_cast<double>(text.size()) / 2 <= kWidth - kRight + 4) {
        svg_ << "<text x=\"" << fmt(at) << "\" y=\"" << kHeight - kBottom + 18
             << "\" text-anchor=\"middle\">" << text << "</text>\n";
      }
    }
  }

  // A step line of installed or online H100e from `from` (or the frame's
  // start) to `to`, less `offset` (blacklisted nodes, today only).
  void steps(bool online, const char* color, const char* name, std::int64_t to, double offset,
             bool dashed, std::int64_t from = -1) {
    if (from < 0)
      from = first_;
    if (to < from)
      return;
    auto value = [&](std::int64_t day) {
      const Date at = Date::from_days(day);
      const double v = online ? online_h100e(capacity_, at) : installed_h100e(capacity_, at);
      return std::max(0.0, v - offset);
    };
    svg_ << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2.5\""
         << (dashed ? " stroke-dasharray=\"6 4\"" : "") << " points=\"";
    double last = value(from);
    svg_ << fmt(x(from)) << "," << fmt(y(last));
    for (std::int64_t day : sample_days(changes_, from, to)) {
      const double v = value(day);
      svg_ << " " << fmt(x(day)) << "," << fmt(y(last)) << " " << fmt(x(day)) << "," << fmt(y(v));
      last = v;
    }
    svg_ << " " << fmt(x(to)) << "," << fmt(y(last)) << "\"/>\n";
    legend_.push_back({color, name, dashed});
  }

  // Online after as_of as the inventory's dated deliveries make it.
  void committed() {
    bool any = false;
    for (const Delivery& d : report_.deliveries)
      any = any || d.date.days() <= last_;
    if (!any)
      return;
    std::string name = "committed deliveries";
    if (report_.committed_final_date)
      name +=
          ": " + thousands(report_.plan_final_h100e) + " by " + report_.committed_final_date->str();
    steps(true, kCommitted, "", last_, report_.out_of_service_h100e, true, report_.as_of.days());
    legend_.back().label = name;
  }

  /// The milestones to label: all when few, else the first, the last and
  /// evenly spaced ones.
  std::vector<std::size_t> labelled_milestones() const {
    const std::size_t n = capacity_.plan.milestones.size();
    std::vector<std::size_t> chosen;
    for (std::size_t i = 0; i < kChartMaxLabels && i < n; ++i) {
      chosen.push_back(n <= kChartMaxLabels
                           ? i
                           : static_cast<std::size_t>(
                                 std::llround(static_cast<double>(i) * static_cast<double>(n - 1) /
                                              static_cast<double>(kChartMaxLabels - 1))));
    }
    return chosen;
  }

  // The plan from its first milestone (no target before), labelled.
  void plan() {
    const auto& milestones = capacity_.plan.milestones;
    if (milestones.empty())
      return;
    const std::int64_t start = milestones.front().date.days(), end = milestones.back().date.days();
    svg_ << "<polyline fill=\"none\" stroke=\"" << kPlan << "\" stroke-width=\"2\" points=\"";
    const bool curved = capacity_.plan.interpolation == config::Interpolation::kCompound;
    std::vector<std::int64_t> days;
    if (!curved && milestones.size() <= kChartMaxPoints) {
      for (const config::Milestone& m : milestones)
        days.push_back(m.date.days());
    } else {
      for (std::size_t i = 0; i < kChartMaxPoints; ++i)
        days.push_back(start + (end - start) * static_cast<std::int64_t>(i) /
                                   static_cast<std::int64_t>(kChartMaxPoints - 1));
    }
    for (std::int64_t day : days) {
      svg_ << fmt(x(day)) << ","
           << fmt(y(plan_target(capacity_.plan, Date::from_days(day)).value_or(0))) << " ";
    }
    svg_ << fmt(x(last_)) << "," << fmt(y(milestones.back().h100e)) << "\"/>\n";
    for (std::size_t i : labelled_milestones()) {
      const config::Milestone& m = milestones[i];
      const double px = x(m.date.days()), py = y(m.h100e);
      svg_ << "<circle cx=\"" << fmt(px) << "\" cy=\"" << fmt(py) << "\" r=\"4\" fill=\"" << kPlan
           << "\"/>\n";
      const std::string text = thousands(m.h100e) + " by " + m.date.str();
      const double width = kCharWidth * static_cast<double>(text.size());
      const bool left = px - 6 - width >= kLeft + 4;
      const bool right = px + 6 + width <= kWidth - kRight;
      const double ly = py - 8 < kTop + 12 ? py + 18 : py - 8;
      if (left)
        label(px - 6, ly, text, "end", "#a05a00");
      else if (right)
        label(px + 6, ly, text, "start", "#a05a00");
      else
        label(std::clamp(px, kLeft + width / 2, kWidth - kRight - width / 2), ly, text, "middle",
              "#a05a00");
    }
    legend_.push_back({kPlan, "plan", false});
  }

  // The final target at the last 90 days' rate, up to the frame's end.
  void forecast() {
    if (!report_.forecast_date || !(*report_.forecast_date > report_.as_of))
      return;
    const std::int64_t from = report_.as_of.days(), to = report_.forecast_date->days();
    const std::int64_t end = std::min(to, last_);
    const double at_end = report_.online_h100e + (report_.plan_final_h100e - report_.online_h100e) *
                                                     static_cast<double>(end - from) /
                                                     static_cast<double>(to - from);
    svg_ << "<line x1=\"" << fmt(x(from)) << "\" y1=\"" << fmt(y(report_.online_h100e))
         << "\" x2=\"" << fmt(x(end)) << "\" y2=\"" << fmt(y(at_end)) << "\" stroke=\"" << kForecast
         << "\" stroke-width=\"2\" stroke-dasharray=\"2 3\"/>\n";
    legend_.push_back({kForecast,
                       "90-day rate: " + thousands(report_.plan_final_h100e) + " by " +
                           report_.forecast_date->str() + (to > last_ ? " (off the chart)" : ""),
                       true});
  }

  void as_of_marker() {
    const double at = x(report_.as_of.days());
    svg_ << "<line x1=\"" << fmt(at) << "\" x2=\"" << fmt(at) << "\" y1=\"" << kTop << "\" y2=\""
         << kHeight - kBottom << "\" stroke=\"#444\" stroke-dasharray=\"2 3\"/>\n";
    const std::string text = "as of " + report_.as_of.str();
    const bool fits = at + 4 + kCharWidth * static_cast<double>(text.size()) <= kWidth - kRight;
    label(fits ? at + 4 : at - 4, kTop + 14, text, fits ? "start" : "end", "#444");
  }

  // Exactly what was drawn, wrapped onto a second row when it does not fit.
  void legend() {
    double at = kLeft + 10, row = kHeight - 40;
    for (const LegendEntry& e : legend_) {
      const double width = 40 + kCharWidth * static_cast<double>(e.label.size());
      if (at + width > kWidth - kRight && at > kLeft + 10) {
        at = kLeft + 10;
        row += 20;
      }
      svg_ << "<line x1=\"" << at << "\" x2=\"" << at + 24 << "\" y1=\"" << row << "\" y2=\"" << row
           << "\" stroke=\"" << e.color << "\" stroke-width=\"3\""
           << (e.dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>\n<text x=\"" << at + 30
           << "\" y=\"" << row + 4 << "\">" << xml_escape(e.label) << "</text>\n";
      at += width;
    }
  }

  const config::CapacityConfig& capacity_;
  const Report& report_;
  const std::vector<Date> changes_;
  const double plot_w_ = kWidth - kLeft - kRight;
  const double plot_h_ = kHeight - kTop - kBottom;
  std::int64_t first_ = 0, last_ = 0;  ///< days shown
  double top_ = 1, step_ = 1;          ///< value axis
  std::vector<LegendEntry> legend_;
  std::ostringstream svg_;
};

}  // namespace

std::string chart_svg(const config::CapacityConfig& capacity, const Report& report) {
  Chart chart(capacity, report);
  return chart.draw();
}

}  // namespace dojo::capacity
