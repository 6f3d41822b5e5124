#pragma once
// `dojo bench node`: how much training compute this node has, as TFLOPS and
// as an H100-equivalent factor, written to a results file that the
// accelerator catalog's `h100e: measured` entries read.

#include <filesystem>
#include <iosfwd>
#include <string>

namespace dojo::train {

struct NodeBenchOptions {
  std::filesystem::path out;        ///< results file (JSON, which is also YAML)
  int gemm_size = 2048;             ///< m = n = k of the timed GEMM
  double seconds = 3;               ///< how long to time each part
  int threads = 1;                  ///< OpenBLAS threads
  double reference_tflops = 989.4;  ///< the H100 figure the factor is relative to
  std::string accelerator;          ///< catalog name to record (optional)
};

struct NodeBenchResult {
  double gemm_tflops = 0;
  double step_seconds = 0;
  double step_samples_per_second = 0;
  double h100e = 0;
};

/// Times an f32 OpenBLAS sgemm and one training step of the Fashion-MNIST MLP
/// (256-128-100, batch 256, on synthetic inputs) on this node, writes the
/// results file atomically and prints a summary to `log`.
NodeBenchResult run_node_bench(const NodeBenchOptions& options, std::ostream& log);

}  // namespace dojo::train
