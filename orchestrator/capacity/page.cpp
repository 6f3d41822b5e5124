#include "orchestrator/capacity/page.h"

#include <cmath>
#include <sstream>

#include "common/xml.h"
#include "orchestrator/capacity/chart.h"
#include "orchestrator/capacity/report_words.h"

namespace dojo::capacity {
namespace {

const char* const kStyle = R"(
body { font-family: sans-serif; margin: 24px auto; max-width: 980px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 28px; }
p.status { font-size: 16px; padding: 8px 12px; border-left: 5px solid #2a8c4a; background: #f3f8f4; }
p.status.late { border-color: #b00020; background: #fbf0f1; }
table { border-collapse: collapse; }
th, td { padding: 3px 12px; border-bottom: 1px solid #e5e5e5; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
footer { margin-top: 28px; color: #666; font-size: 13px; }
)";

/// One row of the figures table: a label and a figure with its JSON key.
void figure(std::ostringstream& html, const char* label, const char* key, const std::string& text) {
  html << "<tr><th>" << label << "</th><td class=\"number\" data-key=\"" << key << "\">"
       << xml_escape(text) << "</td></tr>\n";
}

std::string number(const std::optional<double>& v, int decimals = 0, const char* unit = "") {
  return v && std::isfinite(*v) ? thousands(*v, decimals) + unit : "n/a";
}

void figures(std::ostringstream& html, const Report& r) {
  using words::percent;
  html << "<h2>Figures</h2>\n<table id=\"figures\">\n";
  figure(html, "installed", "installed_h100e", number(r.installed_h100e, 0, " H100e"));
  figure(html, "online", "online_h100e", number(r.online_h100e, 0, " H100e"));
  figure(html, "of it from planned deliveries", "planned_online_h100e",
         number(r.planned_online_h100e, 0, " H100e"));
  figure(html, "allocated", "allocated_h100e",
         r.allocated_h100e ? number(r.allocated_h100e, 1, " H100e")
                           : "unknown (" + r.allocated_note + ")");
  figure(html, "utilisation", "utilisation_ratio", percent(r.utilisation_ratio));
  figure(html, "plan target", "plan_target_h100e",
         r.plan_target_h100e
             ? number(r.plan_target_h100e, 0, " H100e")
             : "none: the plan starts " + r.plan_start.value_or(r.plan_final_date).str());
  figure(html, "progress", "progress_ratio", percent(r.progress_ratio));
  figure(html, "gap (positive: behind)", "gap_h100e", number(r.gap_h100e, 0, " H100e"));
  figure(html, "growth, 90 days", "growth_90d_ratio", percent(r.growth_90d_ratio, "%+.1f %%"));
  figure(html, "growth, quarter", "growth_qoq_ratio", percent(r.growth_qoq_ratio, "%+.1f %%"));
  figure(html, "needed per day", "required_per_day_h100e",
         number(r.required_per_day_h100e, 1, " H100e"));
  figure(html, "committed deliveries to come", "committed_h100e",
         number(r.committed_h100e, 0, " H100e"));
  figure(html, "final target", "plan_final_h100e",
         thousands(r.plan_final_h100e) + " H100e by " + r.plan_final_date.str());
  figure(html, "forecast of the final target", "forecast_date", words::forecast_text(r));
  figure(html, "spend per H100e", "usd_per_h100e", number(r.usd_per_h100e, 0, " USD"));
  html << "</table>\n";
}

void not_online(std::ostringstream& html, const Report& r) {
  html << "<h2>Installed but not online</h2>\n";
  if (r.not_online.empty()) {
    html << "<p id=\"not-online\">Every installed pool is online.</p>\n";
    return;
  }
  html << "<table id=\"not-online\">\n<tr><th>pool or node</th><th>state</th><th>H100e</th>"
          "<th>since</th><th>detail</th></tr>\n";
  for (const NotOnline& n : r.not_online) {
    html << "<tr><td>" << xml_escape(n.pool) << "</td><td>" << n.state
         << "</td><td class=\"number\">" << thousands(n.h100e) << "</td><td>" << n.since.str()
         << "</td><td>" << xml_escape(n.detail) << "</td></tr>\n";
  }
  html << "</table>\n";
}

void deliveries(std::ostringstream& html, const Report& r) {
  html << "<h2>Deliveries after " << r.as_of.str() << "</h2>\n";
  if (r.deliveries.empty()) {
    html << "<p id=\"deliveries\">None in the inventory.</p>\n";
    return;
  }
  html << "<table id=\"deliveries\">\n<tr><th>date</th><th>pool</th><th>H100e</th><th>kind</th>"
          "</tr>\n";
  for (const Delivery& d : r.deliveries) {
    html << "<tr><td>" << d.date.str() << "</td><td>" << xml_escape(d.pool)
         << "</td><td class=\"number\">" << thousands(d.h100e) << "</td><td>"
         << (d.planned ? "planned" : "committed")
         << (d.arrives < d.date ? ", installed " + d.arrives.str() : std::string())
         << "</td></tr>\n";
  }
  html << "</table>\n";
}

}  // namespace

std::string html_page(const config::CapacityConfig& capacity, const Report& r) {
  std::ostringstream html;
  const bool late = (r.milestone_shortfall_h100e && *r.milestone_shortfall_h100e > 0) ||
                    (r.next_milestone && !r.milestone_slip_days) ||
                    (r.milestone_slip_days && *r.milestone_slip_days > 0);
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       << "<title>" << xml_escape(capacity.name) << " capacity as of " << r.as_of.str()
       << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
       << "<h1>" << xml_escape(capacity.name) << ": H100-equivalents against the plan</h1>\n"
       << "<p>as of <span data-key=\"as_of\">" << r.as_of.str() << "</span></p>\n"
       << "<p id=\"slip\" class=\"status" << (late ? " late" : "") << "\">";
  if (r.milestone_shortfall_h100e && *r.milestone_shortfall_h100e > 0) {
    html << "Missed: " << xml_escape(words::h100e(*r.milestone_shortfall_h100e))
         << " short of the milestone of " << r.last_milestone->date.str() << ". ";
  }
  html << "Next milestone: " << xml_escape(words::next_milestone_text(r)) << "</p>\n"
       << "<figure id=\"chart\">\n"
       << chart_svg(capacity, r) << "</figure>\n";
  figures(html, r);
  not_online(html, r);
  deliveries(html, r);
  html << "<footer>The same figures as Prometheus series at <a href=\"metrics\">/metrics</a> and "
          "as JSON at <a href=\"report.json\">/report.json</a>; reload for the latest.</footer>\n"
          "</body>\n</html>\n";
  return html.str();
}

}  // namespace dojo::capacity
