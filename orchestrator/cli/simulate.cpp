// `dojo simulate`: what a data-parallel job costs at 35,000-85,000 H100e (and
// any other scale), `dojo simulate chart` and `dojo simulate calibrate`.
#include <cmath>
#include <ostream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/flags.h"
#include "common/numbers.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/cli/run_costs.h"
#include "orchestrator/config/loader.h"
#include "orchestrator/simulate/calibrate.h"
#include "orchestrator/simulate/planner.h"
#include "orchestrator/simulate/report.h"

namespace dojo::cli {

int run_simulate_goodput(std::span<const std::string> args, Streams& io);  // simulate_goodput.cpp
int run_calibrate_step(std::span<const std::string> args, Streams& io);    // simulate_step.cpp

namespace {

double parse_positive(const std::string& flag, const std::string& text, bool allow_zero = false) {
  const std::optional<double> value = parse_finite_double(text);
  if (!value || (allow_zero ? *value < 0 : *value <= 0)) {
    throw UsageError(flag + " expects a " + (allow_zero ? "non-negative" : "positive") +
                     " number, got \"" + text + "\"");
  }
  return *value;
}

std::vector<double> parse_list(const std::string& flag, const std::string& text) {
  std::vector<double> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    values.push_back(parse_positive(flag, item));
  if (values.empty() || text.back() == ',')
    throw UsageError(flag + " expects a comma-separated list of positive numbers, got \"" + text +
                     "\"");
  return values;
}

int run_calibrate(std::span<const std::string> args, Streams& io) {
  Flags flags("simulate calibrate");
  std::vector<std::string> files;
  std::string format = "yaml";
  double min_bytes = 0;
  flags.positionals("BENCH.csv", files);
  flags.value("--min-bytes", [&](const std::string& v) {
    const auto size = parse_byte_size(v);
    if (!size)
      throw UsageError("--min-bytes expects a size (4096, 64K, 8M), got \"" + v + "\"");
    min_bytes = static_cast<double>(*size);
  });
  flags.choice("--format", format, {"yaml", "json"});
  flags.parse(args);
  if (files.size() > 1)
    throw UsageError("simulate calibrate takes one benchmark file, got \"" + files[1] + "\" too");
  if (files.empty())
    throw UsageError("simulate calibrate needs BENCH.csv (from `dojo bench allreduce --csv`)");
  const std::string& file = files[0];
  auto measurements = simulate::read_bench_csv(file);
  std::erase_if(measurements, [&](const simulate::Measurement& m) { return m.bytes < min_bytes; });
  const simulate::Calibration calibration = simulate::fit_ring(measurements);
  if (format == "json") {
    simulate::write_calibration_json(io.out, calibration);
  } else {
    simulate::write_calibration_yaml(io.out, calibration, file);
  }
  return kExitOk;
}

/// The flags of `dojo simulate` and `dojo simulate chart`, converted and checked.
struct SimulateArgs {
  bool chart = false;
  std::vector<config::Override> overrides;
  std::string job_file, cluster_file, out_file, from_run, format = "table";
  std::vector<double> h100e, devices;
  double from = 1000, to = 100000, points = 40;
  simulate::PlanOptions options;
};

SimulateArgs parse_simulate_args(std::span<const std::string> args, bool chart) {
  SimulateArgs a;
  a.chart = chart;
  Flags flags(chart ? "simulate chart" : "simulate");
  auto positive = [&](const std::string& flag, auto& target, bool allow_zero = false) {
    flags.value(flag, [flag, &target, allow_zero](const std::string& v) {
      target = parse_positive(flag, v, allow_zero);
    });
  };
  std::vector<std::string> sets;
  flags.list("--set", sets);
  flags.text("--job", a.job_file);
  flags.text("--cluster", a.cluster_file);
  flags.text("--accelerator", a.options.accelerator);
  positive("--mfu", a.options.mfu);
  positive("--per-device-batch", a.options.per_device_batch);
  positive("--save-s", a.options.save_seconds);
  positive("--restart-s", a.options.restart_seconds, true);
  flags.text("--from-run", a.from_run);
  if (chart) {
    flags.text("--out", a.out_file);
    positive("--from", a.from);
    positive("--to", a.to);
    positive("--points", a.points);
  } else {
    flags.value("--h100e", [&](const std::string& v) { a.h100e = parse_list("--h100e", v); });
    flags.value("--devices", [&](const std::string& v) { a.devices = parse_list("--devices", v); });
    flags.choice("--format", a.format, {"table", "json", "csv"});
  }
  flags.parse(args);
  for (const std::string& set : sets)
    a.overrides.push_back(config::parse_override(set));
  if (a.job_file.empty())
    throw UsageError("simulate needs --job J.yaml (the model, batch and buckets to plan)");
  if (chart && a.out_file.empty())
    throw UsageError("simulate chart needs --out FILE.svg");
  if (!chart && a.h100e.empty() == a.devices.empty())
    throw UsageError("simulate needs exactly one of --h100e N[,N...] and --devices N[,N...]");
  if (chart && (a.points != std::floor(a.points) || a.points < 2 || a.points > 1000))
    throw UsageError("--points expects a whole number from 2 to 1000");
  for (double d : a.devices) {
    if (d != std::floor(d))
      throw UsageError("--devices expects whole numbers, got " + std::to_string(d));
  }
  return a;
}

/// --from-run RUN_DIR: the save and restart times the run measured, where
/// --save-s and --restart-s did not set them.
void take_measured_costs(SimulateArgs& a, std::ostream& err) {
  const launch::MeasuredCosts m = measured_costs_of_run(a.from_run);
  err << "dojo simulate: from " << a.from_run << ":";
  if (m.saves > 0 && !a.options.save_seconds) {
    a.options.save_seconds = m.save_seconds;
    err << " " << m.save_seconds << " s a checkpoint save (mean of " << m.saves << ")";
  } else {
    err << (m.saves > 0 ? " save time given by --save-s" : " no checkpoint save measured");
  }
  if (m.restarts > 0 && !a.options.restart_seconds) {
    a.options.restart_seconds = m.restart_seconds;
    err << ", " << m.restart_seconds << " s a restart (detection, backoff and restore; mean of "
        << m.restarts << ")";
  } else {
    err << (m.restarts > 0 ? ", restart time given by --restart-s" : ", no restart measured");
  }
  err << "\n";
}

}  // namespace

int run_simulate(std::span<const std::string> args, Streams& io) {
  if (!args.empty() && args[0] == "calibrate")
    return run_calibrate(args.subspan(1), io);
  if (!args.empty() && args[0] == "calibrate-step")
    return run_calibrate_step(args.subspan(1), io);
  if (!args.empty() && args[0] == "goodput")
    return run_simulate_goodput(args.subspan(1), io);
  const bool chart = !args.empty() && args[0] == "chart";
  SimulateArgs a = parse_simulate_args(chart ? args.subspan(1) : args, chart);
  if (!a.from_run.empty())
    take_measured_costs(a, io.err);
  const config::JobConfig job = config::load_job(a.job_file, a.overrides);
  std::optional<config::ClusterConfig> cluster;
  if (!a.cluster_file.empty())
    cluster = config::load_cluster(a.cluster_file);
  const simulate::PlanInputs inputs =
      simulate::plan_inputs(job, cluster ? &*cluster : nullptr, a.options);
  if (chart) {
    write_file_atomically(a.out_file,
                          simulate::chart_svg(inputs, a.from, a.to, static_cast<int>(a.points)));
    io.out << "wrote " << a.out_file << "\n";
    return kExitOk;
  }
  std::vector<simulate::ScaleEstimate> scales;
  for (double h : a.h100e)
    scales.push_back(simulate::simulate_scale(inputs, simulate::devices_for_h100e(inputs, h)));
  for (double d : a.devices)
    scales.push_back(simulate::simulate_scale(inputs, static_cast<long>(d)));
  if (a.format == "json") {
    simulate::write_json(io.out, inputs, scales);
  } else if (a.format == "csv") {
    simulate::write_csv(io.out, inputs, scales);
  } else {
    simulate::write_table(io.out, inputs, scales);
  }
  return kExitOk;
}

}  // namespace dojo::cli
