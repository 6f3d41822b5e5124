// `dojo simulate`: what a data-parallel job costs at 35,000-85,000 H100e (and
// any other scale), `dojo simulate chart` and `dojo simulate calibrate`.
#include <cmath>
#include <ostream>
#include <sstream>

#include "collectives/bench/allreduce_bench.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/numbers.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/config/loader.h"
#include "orchestrator/simulate/calibrate.h"
#include "orchestrator/simulate/planner.h"
#include "orchestrator/simulate/report.h"

namespace dojo::cli {
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
  std::string file;
  std::string format = "yaml";
  double min_bytes = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--min-bytes" && i + 1 < args.size()) {
      const auto size = collectives::bench::parse_size(args[++i]);
      if (!size)
        throw UsageError("--min-bytes expects a size (4096, 64K, 8M), got \"" + args[i] + "\"");
      min_bytes = static_cast<double>(*size);
    } else if (args[i] == "--format" && i + 1 < args.size()) {
      format = args[++i];
      if (format != "yaml" && format != "json")
        throw UsageError("--format expects yaml or json, got \"" + format + "\"");
    } else if (!args[i].empty() && args[i][0] == '-') {
      throw UsageError("unknown flag or missing value: \"" + args[i] + "\"");
    } else if (file.empty()) {
      file = args[i];
    } else {
      throw UsageError("simulate calibrate takes one benchmark file, got \"" + args[i] + "\" too");
    }
  }
  if (file.empty())
    throw UsageError("simulate calibrate needs BENCH.csv (from `dojo bench allreduce --csv`)");
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

}  // namespace

int run_simulate(std::span<const std::string> args_in, Streams& io) {
  std::vector<std::string> args(args_in.begin(), args_in.end());
  if (!args.empty() && args[0] == "calibrate")
    return run_calibrate(std::span<const std::string>(args).subspan(1), io);
  const bool chart = !args.empty() && args[0] == "chart";
  if (chart)
    args.erase(args.begin());
  std::vector<config::Override> overrides;
  for (const std::string& set : take_set_flags(args))
    overrides.push_back(config::parse_override(set));

  std::string job_file, cluster_file, format = "table", out_file;
  std::vector<double> h100e, devices;
  double from = 1000, to = 100000, points = 40;
  simulate::PlanOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (i + 1 >= args.size())
      throw UsageError("unknown flag or missing value: \"" + flag + "\"");
    const std::string& value = args[++i];
    if (flag == "--job") {
      job_file = value;
    } else if (flag == "--cluster") {
      cluster_file = value;
    } else if (flag == "--h100e" && !chart) {
      h100e = parse_list(flag, value);
    } else if (flag == "--devices" && !chart) {
      devices = parse_list(flag, value);
    } else if (flag == "--format" && !chart) {
      if (value != "table" && value != "json" && value != "csv")
        throw UsageError("--format expects table, json or csv, got \"" + value + "\"");
      format = value;
    } else if (flag == "--out" && chart) {
      out_file = value;
    } else if (flag == "--from" && chart) {
      from = parse_positive(flag, value);
    } else if (flag == "--to" && chart) {
      to = parse_positive(flag, value);
    } else if (flag == "--points" && chart) {
      points = parse_positive(flag, value);
    } else if (flag == "--accelerator") {
      options.accelerator = value;
    } else if (flag == "--mfu") {
      options.mfu = parse_positive(flag, value);
    } else if (flag == "--per-device-batch") {
      options.per_device_batch = parse_positive(flag, value);
    } else if (flag == "--save-s") {
      options.save_seconds = parse_positive(flag, value);
    } else if (flag == "--restart-s") {
      options.restart_seconds = parse_positive(flag, value, true);
    } else {
      throw UsageError("unknown flag \"" + flag + "\"");
    }
  }
  if (job_file.empty())
    throw UsageError("simulate needs --job J.yaml (the model, batch and buckets to plan)");
  if (chart && out_file.empty())
    throw UsageError("simulate chart needs --out FILE.svg");
  if (!chart && h100e.empty() == devices.empty())
    throw UsageError("simulate needs exactly one of --h100e N[,N...] and --devices N[,N...]");

  const config::JobConfig job = config::load_job(job_file, overrides);
  std::optional<config::ClusterConfig> cluster;
  if (!cluster_file.empty())
    cluster = config::load_cluster(cluster_file);
  const simulate::PlanInputs inputs =
      simulate::plan_inputs(job, cluster ? &*cluster : nullptr, options);

  if (chart) {
    if (points != std::floor(points) || points < 2 || points > 1000)
      throw UsageError("--points expects a whole number from 2 to 1000");
    write_file_atomically(out_file,
                          simulate::chart_svg(inputs, from, to, static_cast<int>(points)));
    io.out << "wrote " << out_file << "\n";
    return kExitOk;
  }
  std::vector<simulate::ScaleEstimate> scales;
  for (double h : h100e)
    scales.push_back(simulate::simulate_scale(inputs, simulate::devices_for_h100e(inputs, h)));
  for (double d : devices) {
    if (d != std::floor(d))
      throw UsageError("--devices expects whole numbers, got " + std::to_string(d));
    scales.push_back(simulate::simulate_scale(inputs, static_cast<long>(d)));
  }
  if (format == "json") {
    simulate::write_json(io.out, inputs, scales);
  } else if (format == "csv") {
    simulate::write_csv(io.out, inputs, scales);
  } else {
    simulate::write_table(io.out, inputs, scales);
  }
  return kExitOk;
}

}  // namespace dojo::cli
