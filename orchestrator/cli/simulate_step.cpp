// `dojo simulate calibrate-step`: the fixed per-step cost and the per-sample
// cost (so the MFU) from step times at two or more per-device batches.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "common/error.h"
#include "common/flags.h"
#include "common/numbers.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/simulate/step_calibration.h"

namespace dojo::cli {

int run_calibrate_step(std::span<const std::string> args, Streams& io) {
  Flags flags("simulate calibrate-step");
  std::vector<std::string> inputs;
  std::string format = "table";
  std::optional<double> gflop, peak_tflops, predict;
  auto positive = [&](const char* flag, std::optional<double>& target) {
    flags.value(flag, [flag, &target](const std::string& v) {
      const auto value = parse_finite_double(v);
      if (!value || !(*value > 0))
        throw UsageError(std::string(flag) + " expects a positive number, got \"" + v + "\"");
      target = *value;
    });
  };
  flags.positionals("STEPS.csv|RUN_DIR", inputs);
  positive("--gflop-per-sample", gflop);
  positive("--peak-tflops", peak_tflops);
  positive("--predict-batch", predict);
  flags.choice("--format", format, {"table", "json"});
  flags.parse(args);
  if (inputs.empty()) {
    throw UsageError(
        "simulate calibrate-step needs STEPS.csv (per_device_batch,step_seconds) or two or more "
        "run directories");
  }
  if (gflop.has_value() != peak_tflops.has_value())
    throw UsageError("the MFU needs both --gflop-per-sample and --peak-tflops");
  std::vector<simulate::StepPoint> points;
  for (const std::string& input : inputs) {
    if (std::filesystem::is_directory(input)) {
      points.push_back(simulate::step_point_of_run(input));
    } else {
      for (simulate::StepPoint& p : simulate::read_step_csv(input))
        points.push_back(std::move(p));
    }
  }
  simulate::StepFit fit = simulate::fit_step(points);
  if (gflop)
    fit.mfu = simulate::mfu_of(fit, *gflop * 1e9, *peak_tflops * 1e12);
  if (format == "json") {
    nlohmann::ordered_json out = {{"step_overhead_ms", fit.overhead_seconds * 1e3},
                                  {"per_sample_ms", fit.per_sample_seconds * 1e3},
                                  {"mfu", fit.mfu ? nlohmann::ordered_json(*fit.mfu) : nullptr},
                                  {"points", fit.points},
                                  {"batches", fit.batches},
                                  {"median_relative_error", fit.median_relative_error},
                                  {"max_relative_error", fit.max_relative_error}};
    if (predict) {
      out["predicted_batch"] = *predict;
      out["predicted_step_seconds"] = simulate::predicted_step_seconds(fit, *predict);
    }
    io.out << out.dump(2) << "\n";
    return kExitOk;
  }
  char line[256];
  std::snprintf(line, sizeof(line),
                "step = %.4g ms + %.4g ms x per-device batch  (%d points at %d batches; relative "
                "error median %.1f%%, max %.1f%%)\n",
                fit.overhead_seconds * 1e3, fit.per_sample_seconds * 1e3, fit.points, fit.batches,
                fit.median_relative_error * 100, fit.max_relative_error * 100);
  io.out << line;
  for (const simulate::StepPoint& p : points) {
    std::snprintf(line, sizeof(line), "  batch %8g  measured %10.4g ms  fitted %10.4g ms  %s\n",
                  p.per_device_batch, p.step_seconds * 1e3,
                  simulate::predicted_step_seconds(fit, p.per_device_batch) * 1e3,
                  p.source.c_str());
    io.out << line;
  }
  if (predict) {
    std::snprintf(line, sizeof(line), "predicted at batch %g: %.4g ms\n", *predict,
                  simulate::predicted_step_seconds(fit, *predict) * 1e3);
    io.out << line;
  }
  std::snprintf(line, sizeof(line), "for dojo simulate: --set workload.step_overhead_ms=%.4g",
                fit.overhead_seconds * 1e3);
  io.out << line;
  if (fit.mfu) {
    std::snprintf(line, sizeof(line), " --mfu %.3f", *fit.mfu);
    io.out << line;
  }
  io.out << "\n";
  return kExitOk;
}

}  // namespace dojo::cli
