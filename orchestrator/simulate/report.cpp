#include "orchestrator/simulate/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "common/error.h"
#include "common/xml.h"

namespace dojo::simulate {
namespace {

std::string num(double v, const char* format = "%.6g") {
  char text[64];
  std::snprintf(text, sizeof(text), format, v);
  return text;
}

std::string size_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (bytes >= 1024 && u < 3) {
    bytes /= 1024;
    ++u;
  }
  return num(bytes, bytes >= 100 || u == 0 ? "%.0f" : "%.3g") + " " + units[u];
}

std::string ms(double seconds) {
  return num(seconds * 1e3, "%.3f");
}

}  // namespace

std::vector<double> sweep_sizes() {
  std::vector<double> sizes;
  for (double s = 4096; s <= 1024.0 * 1024 * 1024; s *= 4)
    sizes.push_back(s);
  return sizes;
}

void write_table(std::ostream& out, const PlanInputs& in,
                 const std::vector<ScaleEstimate>& scales) {
  out << "job " << in.job << " (" << in.model.name << ", "
      << num(in.model.parameters() / 1e6, "%.1f") << " M parameters, "
      << num(in.model.flop_per_sample / 1e9, "%.4g") << " GFLOP/sample, "
      << num(in.per_device_batch, "%g") << " samples/device) on cluster " << in.cluster << ": "
      << in.accelerator << " (" << num(in.h100e_per_device, "%.4g") << " H100e, "
      << in.devices_per_node << " per node), MFU " << num(in.mfu, "%.2f") << ", step overhead "
      << num(in.step_overhead_s * 1e3, "%g") << " ms (" << in.step_overhead_source << "), buckets "
      << size_text(in.bucket_bytes) << " of " << in.element_bytes << "-byte gradients\n";
  char line[512];
  std::snprintf(line, sizeof(line), "%10s %8s %6s %10s %11s %10s %10s %8s %9s %9s %9s %8s\n",
                "H100e", "devices", "nodes", "compute_ms", "overhead_ms", "step_ms", "exposed_ms",
                "scaling", "fail/day", "ckpt_s", "ckpt_steps", "goodput");
  out << line;
  for (const ScaleEstimate& s : scales) {
    std::snprintf(line, sizeof(line),
                  "%10.1f %8ld %6ld %10.3f %11.3f %10.3f %10.3f %8.3f %9.2f %9.0f %9.0f %8.3f\n",
                  s.h100e, s.devices, s.nodes, s.step.compute_s * 1e3, s.step.overhead_s * 1e3,
                  s.step.step_s * 1e3, s.step.exposed_comm_s * 1e3, s.scaling_efficiency,
                  s.interruptions_per_day, s.checkpoint_interval_s, s.checkpoint_interval_steps,
                  s.goodput);
    out << line;
  }
  for (const ScaleEstimate& s : scales) {
    out << "\nat " << s.devices << " devices (" << num(s.h100e, "%.6g") << " H100e): buckets";
    for (const BucketSize& b : s.bucket_sizes) {
      out << "  " << b.count << " x " << size_text(b.bytes) << " -> " << b.choice.name() << " "
          << ms(b.choice.seconds) << " ms";
    }
    out << "\n  algorithm by message size:";
    for (double bytes : sweep_sizes()) {
      out << "  " << size_text(bytes) << " "
          << to_string(choose_algorithm(topology_of(in, s.devices), bytes).algorithm);
    }
    out << "\n";
  }
  out << "\nsave " << num(in.save_seconds, "%g") << " s, restart " << num(in.restart_seconds, "%g")
      << " s, device MTBF " << num(in.device_mtbf_hours, "%.0f") << " h\n";
}

namespace {

using Json = nlohmann::ordered_json;

/// A figure, or null when it is not finite (JSON has no NaN or infinity).
Json figure(double v) {
  return std::isfinite(v) ? Json(v) : Json();
}

Json scale_json(const PlanInputs& in, const ScaleEstimate& s) {
  const Topology topology = topology_of(in, s.devices);
  Json buckets = Json::array();
  for (const BucketSize& bucket : s.bucket_sizes) {
    buckets.push_back({{"bytes", figure(bucket.bytes)},
                       {"count", bucket.count},
                       {"algorithm", to_string(bucket.choice.algorithm)},
                       {"protocol", to_string(bucket.choice.protocol)},
                       {"seconds", figure(bucket.choice.seconds)}});
  }
  Json by_size = Json::array();
  for (double bytes : sweep_sizes()) {
    const AlgorithmChoice c = choose_algorithm(topology, bytes);
    Json row = {{"bytes", figure(bytes)},
                {"algorithm", to_string(c.algorithm)},
                {"protocol", to_string(c.protocol)}};
    for (std::size_t a = 0; a < kAlgorithms.size(); ++a)
      row[std::string(to_string(kAlgorithms[a])) + "_seconds"] = figure(c.by_algorithm[a]);
    by_size.push_back(row);
  }
  return {{"job", in.job},
          {"cluster", in.cluster},
          {"accelerator", in.accelerator},
          {"model", in.model.name},
          {"h100e", figure(s.h100e)},
          {"devices", s.devices},
          {"nodes", s.nodes},
          {"devices_per_node", in.devices_per_node},
          {"per_device_batch", figure(in.per_device_batch)},
          {"mfu", figure(in.mfu)},
          {"compute_seconds", figure(s.step.compute_s)},
          {"step_overhead_seconds", figure(s.step.overhead_s)},
          {"step_overhead_source", in.step_overhead_source},
          {"step_seconds", figure(s.step.step_s)},
          {"exposed_communication_seconds", figure(s.step.exposed_comm_s)},
          {"communication_seconds", figure(s.step.comm_s)},
          {"samples_per_second", figure(s.samples_per_s)},
          {"scaling_efficiency", figure(s.scaling_efficiency)},
          {"buckets", buckets},
          {"algorithm_by_size", by_size},
          {"device_mtbf_hours", figure(in.device_mtbf_hours)},
          {"job_mtbf_seconds", figure(s.job_mtbf_s)},
          {"interruptions_per_day", figure(s.interruptions_per_day)},
          {"save_seconds", figure(in.save_seconds)},
          {"restart_seconds", figure(in.restart_seconds)},
          {"checkpoint_interval_seconds", figure(s.checkpoint_interval_s)},
          {"checkpoint_interval_steps", figure(s.checkpoint_interval_steps)},
          {"goodput", figure(s.goodput)}};
}

}  // namespace

void write_json(std::ostream& out, const PlanInputs& in, const std::vector<ScaleEstimate>& scales) {
  Json all = Json::array();
  for (const ScaleEstimate& s : scales)
    all.push_back(scale_json(in, s));
  out << all.dump(1) << "\n";
}

void write_csv(std::ostream& out, const PlanInputs& in, const std::vector<ScaleEstimate>& scales) {
  out << "h100e,devices,nodes,compute_seconds,step_overhead_seconds,step_seconds,"
         "exposed_communication_seconds,"
         "samples_per_second,scaling_efficiency,bucket_algorithms,interruptions_per_day,"
         "checkpoint_interval_seconds,checkpoint_interval_steps,goodput\n";
  for (const ScaleEstimate& s : scales) {
    std::string algorithms;
    for (const BucketSize& b : s.bucket_sizes) {
      algorithms += (algorithms.empty() ? "" : " ") + num(b.bytes, "%.0f") + ":" + b.choice.name();
    }
    out << num(s.h100e) << ',' << s.devices << ',' << s.nodes << ',' << num(s.step.compute_s) << ','
        << num(s.step.overhead_s) << ',' << num(s.step.step_s) << ',' << num(s.step.exposed_comm_s)
        << ',' << num(s.samples_per_s) << ',' << num(s.scaling_efficiency) << ',' << algorithms
        << ',' << num(s.interruptions_per_day) << ',' << num(s.checkpoint_interval_s) << ','
        << num(s.checkpoint_interval_steps) << ',' << num(s.goodput) << '\n';
  }
  (void)in;
}

std::string chart_svg(const PlanInputs& in, double from, double to, int points) {
  if (!(from > 0) || !(to > from) || points < 2)
    throw UsageError("the chart needs 0 < --from < --to, got " + num(from) + " and " + num(to));
  constexpr double kWidth = 960, kHeight = 540, kLeft = 80, kRight = 170, kTop = 60, kBottom = 70;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const double lo = std::log10(from), hi = std::log10(to);
  const auto x_of = [&](double h) { return kLeft + (std::log10(h) - lo) / (hi - lo) * plot_w; };
  const auto y_of = [&](double v) { return kTop + (1.0 - std::clamp(v, 0.0, 1.0)) * plot_h; };

  std::vector<ScaleEstimate> estimates;
  for (int i = 0; i < points; ++i) {
    const double h = std::pow(10.0, lo + (hi - lo) * i / (points - 1));
    estimates.push_back(simulate_scale(in, devices_for_h100e(in, h)));
  }
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" viewBox=\"0 0 " << kWidth << ' ' << kHeight << "\" font-family=\"sans-serif\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kLeft << "\" y=\"30\" font-size=\"18\">" << xml_escape(in.job) << " ("
      << xml_escape(in.model.name) << ") on " << xml_escape(in.accelerator)
      << ": scaling efficiency and goodput against H100e (simulated)</text>\n"
      << "<text x=\"" << kLeft << "\" y=\"48\" font-size=\"12\" fill=\"#555\">"
      << "dojo simulate; MFU " << num(in.mfu, "%.2f") << ", " << num(in.per_device_batch, "%g")
      << " samples/device, save " << num(in.save_seconds, "%g") << " s, restart "
      << num(in.restart_seconds, "%g") << " s, device MTBF " << num(in.device_mtbf_hours, "%.0f")
      << " h</text>\n";
  for (int t = 0; t <= 10; ++t) {
    const double v = t / 10.0, y = y_of(v);
    svg << "<line x1=\"" << kLeft << "\" y1=\"" << y << "\" x2=\"" << kLeft + plot_w << "\" y2=\""
        << y << "\" stroke=\"#ddd\"/>\n<text x=\"" << kLeft - 8 << "\" y=\"" << y + 4
        << "\" font-size=\"12\" text-anchor=\"end\">" << num(v, "%.1f") << "</text>\n";
  }
  for (double decade = std::pow(10.0, std::ceil(lo)); decade <= to * 1.0001; decade *= 10) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double h = decade * m;
      if (h < from || h > to)
        continue;
      const double x = x_of(h);
      svg << "<line x1=\"" << x << "\" y1=\"" << kTop << "\" x2=\"" << x << "\" y2=\""
          << kTop + plot_h << "\" stroke=\"#eee\"/>\n<text x=\"" << x << "\" y=\""
          << kTop + plot_h + 18 << "\" font-size=\"12\" text-anchor=\"middle\">" << num(h, "%.0f")
          << "</text>\n";
    }
  }
  svg << "<text x=\"" << kLeft + plot_w / 2 << "\" y=\"" << kHeight - 20
      << "\" font-size=\"13\" text-anchor=\"middle\">H100-equivalents (log scale)</text>\n"
      << "<text x=\"20\" y=\"" << kTop + plot_h / 2
      << "\" font-size=\"13\" transform=\"rotate(-90 20 " << kTop + plot_h / 2
      << ")\" text-anchor=\"middle\">ratio</text>\n";
  for (double mark : {35000.0, 85000.0}) {
    if (mark < from || mark > to)
      continue;
    const double x = x_of(mark);
    svg << "<line x1=\"" << x << "\" y1=\"" << kTop << "\" x2=\"" << x << "\" y2=\""
        << kTop + plot_h << "\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n<text x=\"" << x + 4
        << "\" y=\"" << kTop + 14 << "\" font-size=\"12\" fill=\"#555\">" << num(mark, "%.0f")
        << " H100e</text>\n";
  }
  const auto series = [&](const char* colour, const char* label, int row, auto value) {
    svg << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2.5\" points=\"";
    for (const ScaleEstimate& s : estimates)
      svg << num(x_of(s.h100e), "%.1f") << ',' << num(y_of(value(s)), "%.1f") << ' ';
    svg << "\"/>\n";
    const double ly = kTop + 20 + row * 22;
    svg << "<line x1=\"" << kLeft + plot_w + 15 << "\" y1=\"" << ly << "\" x2=\""
        << kLeft + plot_w + 40 << "\" y2=\"" << ly << "\" stroke=\"" << colour
        << "\" stroke-width=\"2.5\"/>\n<text x=\"" << kLeft + plot_w + 45 << "\" y=\"" << ly + 4
        << "\" font-size=\"12\">" << label << "</text>\n";
  };
  series("#1f77b4", "scaling efficiency", 0,
         [](const ScaleEstimate& s) { return s.scaling_efficiency; });
  series("#d62728", "goodput", 1, [](const ScaleEstimate& s) { return s.goodput; });
  series("#2ca02c", "product", 2,
         [](const ScaleEstimate& s) { return s.scaling_efficiency * s.goodput; });
  svg << "</svg>\n";
  return svg.str();
}

void write_calibration_yaml(std::ostream& out, const Calibration& c, const std::string& source) {
  out << "# dojo simulate calibrate " << source << ": " << c.points << " all-reduce timings at ";
  for (std::size_t i = 0; i < c.ranks.size(); ++i)
    out << (i ? ", " : "") << c.ranks[i];
  out << " ranks; model error median " << num(c.median_relative_error * 100, "%.1f") << "%, max "
      << num(c.max_relative_error * 100, "%.1f") << "%\n"
      << "network:\n"
      << "  base_latency_us: " << num(c.base_latency_us, "%.3f") << "\n"
      << "  intra_node:\n"
      << "    latency_us: " << num(c.latency_us, "%.3f") << "\n"
      << "    bandwidth_gb_per_s: " << num(c.bandwidth_gb_per_s, "%.4g") << "\n";
}

void write_calibration_json(std::ostream& out, const Calibration& c) {
  const Json calibration = {{"base_latency_us", figure(c.base_latency_us)},
                            {"latency_us", figure(c.latency_us)},
                            {"bandwidth_gb_per_s", figure(c.bandwidth_gb_per_s)},
                            {"points", c.points},
                            {"ranks", c.ranks},
                            {"median_relative_error", figure(c.median_relative_error)},
                            {"max_relative_error", figure(c.max_relative_error)}};
  out << calibration.dump() << "\n";
}

}  // namespace dojo::simulate
