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

/// One chart: its time and value frame, and the SVG it draws in order.
class Chart {
 public:
  Chart(const config::CapacityConfig& capacity, const Report& report)
      : capacity_(capacity), report_(report) {
    frame();
  }

  std::string draw() {
    title();
    value_axis();
    time_axis();
    history(false, "#9db4d6");
    history(true, "#1f5fb4");
    plan();
    forecast();
    as_of_marker();
    legend();
    svg_ << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << plot_w_ << "\" height=\""
         << plot_h_ << "\" fill=\"none\" stroke=\"#888\"/>\n</svg>\n";
    return svg_.str();
  }

 private:
  // The span: from the first pool (or milestone) to past the plan's end and
  // the forecast; the value axis to a round step above everything drawn.
  void frame() {
    first_ = last_ = report_.as_of.days();
    for (const config::Pool& p : capacity_.pools)
      first_ = std::min(first_, p.online.days());
    for (const config::Milestone& m : capacity_.plan.milestones) {
      first_ = std::min(first_, m.date.days());
      last_ = std::max(last_, m.date.days());
    }
    if (report_.forecast_date)
      last_ = std::max(last_, report_.forecast_date->days());
    first_ -= 30;
    last_ += 30;
    top_ = std::max({report_.plan_final_h100e, report_.installed_h100e, 1.0});
    for (std::int64_t d = first_; d <= last_; d += 7)
      top_ = std::max(top_, installed_h100e(capacity_, Date::from_days(d)));
    step_ = nice_step(top_ * 1.05, 6);
    top_ = std::ceil(top_ * 1.05 / step_) * step_;
  }

  double x(std::int64_t day) const {
    return kLeft +
           plot_w_ * static_cast<double>(day - first_) / static_cast<double>(last_ - first_);
  }
  double y(double v) const { return kTop + plot_h_ * (1.0 - v / top_); }

  void title() {
    svg_ << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\""
         << kHeight << "\" viewBox=\"0 0 " << kWidth << " " << kHeight
         << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
         << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
         << "<text x=\"" << kLeft << "\" y=\"28\" font-size=\"18\" font-weight=\"bold\">"
         << xml_escape(capacity_.name) << ": H100-equivalents against the plan</text>\n"
         << "<text x=\"" << kLeft << "\" y=\"46\" fill=\"#555\">as of " << report_.as_of.str()
         << ": " << fmt(report_.online_h100e) << " online, plan " << fmt(report_.plan_target_h100e)
         << " (" << fmt(report_.progress_ratio * 100) << "%)</text>\n";
  }

  // Gridlines and the value axis.
  void value_axis() {
    for (double v = 0; v <= top_ + 1e-9; v += step_) {
      svg_ << "<line x1=\"" << kLeft << "\" x2=\"" << kWidth - kRight << "\" y1=\"" << fmt(y(v))
           << "\" y2=\"" << fmt(y(v)) << "\" stroke=\"#e5e5e5\"/>\n<text x=\"" << kLeft - 8
           << "\" y=\"" << fmt(y(v) + 4) << "\" text-anchor=\"end\">" << static_cast<long long>(v)
           << "</text>\n";
    }
  }

  // Every quarter gets a gridline; labels thin to years when quarters would crowd.
  void time_axis() {
    Date d = Date::from_days(first_);
    d = Date{d.year, ((d.month - 1) / 3) * 3 + 1, 1};
    const bool years_only = (last_ - first_) * 70.0 / 91.0 > plot_w_;
    while (d.days() <= last_) {
      if (d.days() >= first_) {
        svg_ << "<line x1=\"" << fmt(x(d.days())) << "\" x2=\"" << fmt(x(d.days())) << "\" y1=\""
             << kTop << "\" y2=\"" << kHeight - kBottom << "\" stroke=\"#f0f0f0\"/>\n";
        if (!years_only || d.month == 1) {
          svg_ << "<text x=\"" << fmt(x(d.days())) << "\" y=\"" << kHeight - kBottom + 18
               << "\" text-anchor=\"middle\">" << d.year;
          if (!years_only)
            svg_ << " Q" << (d.month - 1) / 3 + 1;
          svg_ << "</text>\n";
        }
      }
      d = d.month == 10 ? Date{d.year + 1, 1, 1} : Date{d.year, d.month + 3, 1};
    }
    svg_ << "<text x=\"20\" y=\"" << kTop + plot_h_ / 2 << "\" transform=\"rotate(-90 20 "
         << kTop + plot_h_ / 2 << ")\" text-anchor=\"middle\">H100e</text>\n";
  }

  // History: installed or online, every third day up to as_of.
  void history(bool online_only, const char* color) {
    svg_ << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2.5\""
         << " points=\"";
    const std::int64_t end = report_.as_of.days();
    for (std::int64_t day = first_; day <= end; day = std::min(day + 3, end + (day == end))) {
      const Date at = Date::from_days(day);
      const double v = online_only ? online_h100e(capacity_, at) : installed_h100e(capacity_, at);
      svg_ << fmt(x(day)) << "," << fmt(y(v)) << " ";
      if (day == end)
        break;
    }
    svg_ << "\"/>\n";
  }

  // The plan through its milestones, labelled.
  void plan() {
    const auto& milestones = capacity_.plan.milestones;
    if (milestones.empty())
      return;
    svg_ << "<polyline fill=\"none\" stroke=\"#d97b00\" stroke-width=\"2\" points=\"";
    for (std::int64_t day = milestones.front().date.days(); day <= milestones.back().date.days();
         day += 3) {
      svg_ << fmt(x(day)) << "," << fmt(y(plan_target(capacity_.plan, Date::from_days(day))))
           << " ";
    }
    const config::Milestone& end = milestones.back();
    svg_ << fmt(x(end.date.days())) << "," << fmt(y(end.h100e)) << "\"/>\n";
    for (const config::Milestone& m : milestones) {
      svg_ << "<circle cx=\"" << fmt(x(m.date.days())) << "\" cy=\"" << fmt(y(m.h100e))
           << "\" r=\"4\" fill=\"#d97b00\"/>\n"
           << "<text x=\"" << fmt(x(m.date.days()) - 6) << "\" y=\"" << fmt(y(m.h100e) - 8)
           << "\" text-anchor=\"end\" fill=\"#a05a00\">" << static_cast<long long>(m.h100e)
           << " by " << m.date.str() << "</text>\n";
    }
  }

  // The forecast at the last 90 days' rate.
  void forecast() {
    if (!report_.forecast_date || !(*report_.forecast_date > report_.as_of))
      return;
    const double end_x = x(report_.forecast_date->days());
    svg_ << "<line x1=\"" << fmt(x(report_.as_of.days())) << "\" y1=\""
         << fmt(y(report_.online_h100e)) << "\" x2=\"" << fmt(end_x) << "\" y2=\""
         << fmt(y(report_.plan_final_h100e))
         << "\" stroke=\"#1f5fb4\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n<text x=\""
         << fmt(end_x + 4) << "\" y=\"" << fmt(y(report_.plan_final_h100e) + 22)
         << "\" text-anchor=\"end\" fill=\"#1f5fb4\">forecast: "
         << static_cast<long long>(report_.plan_final_h100e) << " by "
         << report_.forecast_date->str() << "</text>\n";
  }

  void as_of_marker() {
    const double at = x(report_.as_of.days());
    svg_ << "<line x1=\"" << fmt(at) << "\" x2=\"" << fmt(at) << "\" y1=\"" << kTop << "\" y2=\""
         << kHeight - kBottom << "\" stroke=\"#444\" stroke-dasharray=\"2 3\"/>\n<text x=\""
         << fmt(at + 4) << "\" y=\"" << kTop + 12 << "\" fill=\"#444\">as of "
         << report_.as_of.str() << "</text>\n";
  }

  void legend() {
    const double ly = kHeight - 22;
    const std::pair<const char*, const char*> entries[] = {
        {"#1f5fb4", "online"},
        {"#9db4d6", "installed"},
        {"#d97b00", "plan"},
        {"#1f5fb4", "forecast (last 90 days' rate)"}};
    double at = kLeft + 10;
    for (const auto& [color, label] : entries) {
      svg_ << "<line x1=\"" << at << "\" x2=\"" << at + 24 << "\" y1=\"" << ly << "\" y2=\"" << ly
           << "\" stroke=\"" << color << "\" stroke-width=\"3\""
           << (std::string(label).rfind("forecast", 0) == 0 ? " stroke-dasharray=\"6 4\"" : "")
           << "/>\n<text x=\"" << at + 30 << "\" y=\"" << ly + 4 << "\">" << label << "</text>\n";
      at += 40 + 7.0 * std::string(label).size();
    }
  }

  const config::CapacityConfig& capacity_;
  const Report& report_;
  const double plot_w_ = kWidth - kLeft - kRight;
  const double plot_h_ = kHeight - kTop - kBottom;
  std::int64_t first_ = 0, last_ = 0;  ///< days shown
  double top_ = 1, step_ = 1;          ///< value axis
  std::ostringstream svg_;
};

}  // namespace

std::string chart_svg(const config::CapacityConfig& capacity, const Report& report) {
  Chart chart(capacity, report);
  return chart.draw();
}

}  // namespace dojo::capacity
