#pragma once
// `dojo simulate calibrate-step`: the fixed per-step cost and the per-sample
// cost that explain measured step times at different per-device batches.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dojo::simulate {

/// One measured step time at a per-device batch, and where it came from.
struct StepPoint {
  double per_device_batch = 0;
  double step_seconds = 0;
  std::string source;  ///< "FILE:LINE" or the run directory
};

/// Rows of a CSV whose header is exactly `per_device_batch,step_seconds`.
/// Throws dojo::Error naming the file and line of a malformed row.
std::vector<StepPoint> read_step_csv(const std::filesystem::path& file);

/// The mean step of a finished run (`dojo worker`, `dojo launch` of a
/// built-in workload): from its summary.json, per-device batch = global
/// batch / ranks and step = global batch / samples per second. Throws
/// dojo::Error naming the directory when it has no usable summary.
StepPoint step_point_of_run(const std::filesystem::path& run_dir);

struct StepFit {
  double overhead_seconds = 0;    ///< the fixed per-step cost
  double per_sample_seconds = 0;  ///< each sample of the per-device batch
  std::optional<double> mfu;      ///< with FLOPs per sample and a device peak
  int points = 0;
  int batches = 0;  ///< distinct per-device batches
  double median_relative_error = 0;
  double max_relative_error = 0;
};

/// Least squares on relative error of step = overhead + per_sample x batch.
/// A negative overhead is fixed at 0 and the slope refitted. Throws
/// dojo::Error for fewer than two distinct batches or step times that do not
/// grow with the batch.
StepFit fit_step(const std::vector<StepPoint>& points);

/// The step time the fit predicts at `per_device_batch`.
double predicted_step_seconds(const StepFit& fit, double per_device_batch);

/// The MFU the per-sample cost implies: FLOPs per sample / (per-sample
/// seconds x peak FLOP/s).
double mfu_of(const StepFit& fit, double flop_per_sample, double peak_flops);

}  // namespace dojo::simulate
