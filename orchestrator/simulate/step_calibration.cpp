#include "orchestrator/simulate/step_calibration.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"
#include "common/numbers.h"

namespace dojo::simulate {
namespace {

constexpr const char* kHeader = "per_device_batch,step_seconds";

double positive_field(const std::string& text, const std::string& where, const char* name) {
  const auto value = parse_finite_double(text);
  if (!value || !(*value > 0))
    throw Error(where + ": " + name + " must be a positive number, got \"" + text + "\"");
  return *value;
}

/// Weighted least squares of y = a + b x with weights w (1 / y^2: relative error).
std::pair<double, double> weighted_line(const std::vector<StepPoint>& points) {
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const StepPoint& p : points) {
    const double w = 1.0 / (p.step_seconds * p.step_seconds);
    sw += w;
    sx += w * p.per_device_batch;
    sy += w * p.step_seconds;
    sxx += w * p.per_device_batch * p.per_device_batch;
    sxy += w * p.per_device_batch * p.step_seconds;
  }
  const double slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
  return {(sy - slope * sx) / sw, slope};
}

}  // namespace

std::vector<StepPoint> read_step_csv(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in)
    throw Error(file.string() + ": cannot read");
  std::vector<StepPoint> points;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    const std::string where = file.string() + ":" + std::to_string(number);
    if (number == 1) {
      if (line != kHeader)
        throw Error(where + ": the header must read " + kHeader + ", got \"" + line + "\"");
      continue;
    }
    if (line.empty())
      continue;
    const std::size_t comma = line.find(',');
    if (comma == std::string::npos || line.find(',', comma + 1) != std::string::npos)
      throw Error(where + ": expected two fields, per_device_batch,step_seconds; got \"" + line +
                  "\"");
    points.push_back({positive_field(line.substr(0, comma), where, "per_device_batch"),
                      positive_field(line.substr(comma + 1), where, "step_seconds"), where});
  }
  if (number == 0)
    throw Error(file.string() + ": empty; the header must read " + kHeader);
  return points;
}

StepPoint step_point_of_run(const std::filesystem::path& run_dir) {
  const std::filesystem::path path = run_dir / "summary.json";
  std::ifstream in(path);
  if (!in)
    throw Error(run_dir.string() + ": no summary.json (a finished dojo worker or launch run)");
  nlohmann::json summary;
  try {
    summary = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": not JSON: " + e.what());
  }
  const auto number = [&](const char* key) {
    const auto it = summary.find(key);
    if (it == summary.end() || !it->is_number() || !(it->get<double>() > 0))
      throw Error(path.string() + ": no positive \"" + key +
                  "\" (a run that measured no step cannot calibrate)");
    return it->get<double>();
  };
  const double global_batch = number("global_batch");
  return {global_batch / number("ranks"), global_batch / number("samples_per_second"),
          run_dir.string()};
}

StepFit fit_step(const std::vector<StepPoint>& points) {
  std::set<double> batches;
  for (const StepPoint& p : points)
    batches.insert(p.per_device_batch);
  if (batches.size() < 2) {
    throw Error("calibrate-step needs step times at two or more per-device batches, got " +
                std::to_string(batches.size()));
  }
  StepFit fit;
  fit.points = static_cast<int>(points.size());
  fit.batches = static_cast<int>(batches.size());
  auto [overhead, slope] = weighted_line(points);
  if (overhead < 0) {
    // Through the origin: slope = sum(w x y) / sum(w x x^2) with w = 1/y^2.
    double num = 0, den = 0;
    for (const StepPoint& p : points) {
      num += p.per_device_batch / p.step_seconds;
      den += p.per_device_batch * p.per_device_batch / (p.step_seconds * p.step_seconds);
    }
    overhead = 0;
    slope = num / den;
  }
  if (!(slope > 0)) {
    throw Error(
        "the step times do not grow with the per-device batch, so no per-sample cost can be "
        "fitted (are the runs of the same job and machine?)");
  }
  fit.overhead_seconds = overhead;
  fit.per_sample_seconds = slope;
  std::vector<double> errors;
  for (const StepPoint& p : points) {
    errors.push_back(std::fabs(predicted_step_seconds(fit, p.per_device_batch) - p.step_seconds) /
                     p.step_seconds);
  }
  std::sort(errors.begin(), errors.end());
  fit.median_relative_error = errors[errors.size() / 2];
  fit.max_relative_error = errors.back();
  return fit;
}

double predicted_step_seconds(const StepFit& fit, double per_device_batch) {
  return fit.overhead_seconds + fit.per_sample_seconds * per_device_batch;
}

double mfu_of(const StepFit& fit, double flop_per_sample, double peak_flops) {
  return flop_per_sample / (fit.per_sample_seconds * peak_flops);
}

}  // namespace dojo::simulate
