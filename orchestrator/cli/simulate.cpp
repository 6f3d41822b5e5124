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
  Flags flags("simulate calibrate");
  std::vector<std::string> files;
  std::string min_bytes_text, format = "yaml";
  flags.positionals("BENCH.csv", files);
  flags.text("--min-bytes", min_bytes_text);
  flags.text("--format", format);
  flags.parse(args);
  if (files.size() > 1)
    throw UsageError("simulate calibrate takes one benchmark file, got \"" + files[1] + "\" too");
  const std::string file = files.empty() ? std::string() : files[0];
  double min_bytes = 0;
  if (!min_bytes_text.empty()) {
    const auto size = parse_byte_size(min_bytes_text);
    if (!size)
      throw UsageError("--min-bytes expects a size (4096, 64K, 8M), got \"" + min_bytes_text +
                       "\"");
    min_bytes = static_cast<double>(*size);
  }
  if (format != "yaml" && format != "json")
    throw UsageError("--format expects yaml or json, got \"" + format + "\"");
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
  Flags flags(chart ? "simulate chart" : "simulate");
  std::vector<std::string> sets;
  std::string job_file, cluster_file, format = "table", out_file;
  std::string h100e_text, devices_text, from_text, to_text, points_text;
  std::string mfu, per_device_batch, save_s, restart_s;
  simulate::PlanOptions options;
  flags.list("--set", sets);
  flags.text("--job", job_file);
  flags.text("--cluster", cluster_file);
  flags.text("--accelerator", options.accelerator);
  flags.text("--mfu", mfu);
  flags.text("--per-device-batch", per_device_batch);
  flags.text("--save-s", save_s);
  flags.text("--restart-s", restart_s);
  if (chart) {
    flags.text("--out", out_file);
    flags.text("--from", from_text);
    flags.text("--to", to_text);
    flags.text("--points", points_text);
  } else {
    flags.text("--h100e", h100e_text);
    flags.text("--devices", devices_text);
    flags.text("--format", format);
  }
  flags.parse(args);
  std::vector<config::Override> overrides;
  for (const std::string& set : sets)
    overrides.push_back(config::parse_override(set));
  if (format != "table" && format != "json" && format != "csv")
    throw UsageError("--format expects table, json or csv, got \"" + format + "\"");
  const std::vector<double> h100e =
      h100e_text.empty() ? std::vector<double>{} : parse_list("--h100e", h100e_text);
  const std::vector<double> devices =
      devices_text.empty() ? std::vector<double>{} : parse_list("--devices", devices_text);
  const double from = from_text.empty() ? 1000 : parse_positive("--from", from_text);
  const double to = to_text.empty() ? 100000 : parse_positive("--to", to_text);
  const double points = points_text.empty() ? 40 : parse_positive("--points", points_text);
  if (!mfu.empty())
    options.mfu = parse_positive("--mfu", mfu);
  if (!per_device_batch.empty())
    options.per_device_batch = parse_positive("--per-device-batch", per_device_batch);
  if (!save_s.empty())
    options.save_seconds = parse_positive("--save-s", save_s);
  if (!restart_s.empty())
    options.restart_seconds = parse_positive("--restart-s", restart_s, true);
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
