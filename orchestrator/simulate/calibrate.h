#pragma once
// `dojo simulate calibrate`: the link latency and bandwidth that best explain
// measured all-reduce times (`dojo bench allreduce --csv` output).

#include <filesystem>
#include <iosfwd>
#include <vector>

namespace dojo::simulate {

/// One measured all-reduce: `ranks` devices on one node, `bytes`, seconds.
struct Measurement {
  int ranks = 0;
  double bytes = 0;
  double seconds = 0;
};

/// Reads the rows of `dojo bench allreduce --csv` (its exact header; rows of
/// one tensor and at least 2 ranks; repeated headers from concatenated runs
/// are skipped). Throws dojo::Error naming file and line for a malformed file.
std::vector<Measurement> read_bench_csv(const std::filesystem::path& file);
std::vector<Measurement> read_bench_csv(std::istream& in, const std::string& name);

struct Calibration {
  double base_latency_us = 0;     ///< fixed cost per collective
  double latency_us = 0;          ///< per ring hop
  double bandwidth_gb_per_s = 0;  ///< ring bus bandwidth per device
  std::vector<int> ranks;         ///< rank counts the rows cover
  int points = 0;
  double median_relative_error = 0;  ///< |model - measured| / measured
  double max_relative_error = 0;
};

/// Fits t = base + 2(n-1) latency + 2(n-1)/n bytes / bandwidth (the ring
/// model on one node) by least squares on relative error. With a single
/// rank count base and per-hop latency cannot be told apart, so base is 0.
/// A negative latency is fixed at 0 and the rest refitted. Throws dojo::Error
/// when fewer than two message sizes are given or the times do not grow
/// with size (no bandwidth to fit).
Calibration fit_ring(const std::vector<Measurement>& measurements);

/// The time the fitted model predicts for `m`.
double predicted_seconds(const Calibration& calibration, const Measurement& m);

}  // namespace dojo::simulate
