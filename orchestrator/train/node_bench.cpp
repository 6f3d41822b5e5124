#include "orchestrator/train/node_bench.h"

#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <ostream>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "orchestrator/config/date.h"
#include "orchestrator/train/mlp.h"
#include "orchestrator/train/optimizer.h"

namespace dojo::train {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `body` at least once and until `seconds` have passed; returns seconds per run.
template <class Body>
double time_per_run(double seconds, Body body) {
  body();  // warm-up: page faults, thread start-up
  const auto start = Clock::now();
  int runs = 0;
  double elapsed = 0;
  do {
    body();
    ++runs;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return elapsed / runs;
}

}  // namespace

NodeBenchResult run_node_bench(const NodeBenchOptions& options, std::ostream& log) {
  if (options.gemm_size < 64 || options.gemm_size > 16384) {
    throw UsageError("--gemm-size must be in [64, 16384]");
  }
  if (!(options.seconds > 0) || !(options.reference_tflops > 0) || options.threads < 1) {
    throw UsageError("--seconds, --reference-tflops and --threads must be positive");
  }
  openblas_set_num_threads(options.threads);
  NodeBenchResult result;

  const int n = options.gemm_size;
  std::vector<float> a(static_cast<std::size_t>(n) * n), b(a.size()), c(a.size());
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (float& x : a)
    x = uniform(rng);
  for (float& x : b)
    x = uniform(rng);
  const double gemm_seconds = time_per_run(options.seconds, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
  });
  result.gemm_tflops = 2.0 * n * n * static_cast<double>(n) / gemm_seconds / 1e12;

  // One training step of the shipped job's model on synthetic inputs.
  constexpr std::size_t kBatch = 256;
  Mlp mlp(MlpShape{}, 1);
  std::vector<float> x(kBatch * mlp.shape().inputs);
  for (float& v : x)
    v = uniform(rng);
  std::vector<std::uint8_t> labels(kBatch);
  for (std::size_t i = 0; i < kBatch; ++i)
    labels[i] = static_cast<std::uint8_t>(i % 10);
  std::vector<std::vector<float>> grads;
  for (std::size_t count : mlp.parameter_counts())
    grads.emplace_back(count);
  config::OptimizerConfig sgd;
  sgd.learning_rate = 1e-4;  // small: the step is timed, not trained
  Optimizer optimizer(sgd, mlp.parameter_counts(), 1'000'000);
  std::vector<std::span<const float>> views(grads.begin(), grads.end());
  result.step_seconds = time_per_run(options.seconds, [&] {
    mlp.forward(x.data(), labels.data(), kBatch);
    mlp.backward([&](std::size_t t) { return std::span<float>(grads[t]); }, [](std::size_t) {});
    optimizer.step(mlp.parameters(), views, 1.0f);
  });
  result.step_samples_per_second = kBatch / result.step_seconds;
  result.h100e = result.gemm_tflops / options.reference_tflops;

  const nlohmann::ordered_json results = {
      {"kind", "dojo-node-bench"},
      {"version", 1},
      {"host", this_host()},
      {"accelerator", options.accelerator},
      {"device", "cpu"},
      {"date", config::Date::today().str()},
      {"gemm",
       {{"dtype", "f32"},
        {"size", n},
        {"threads", options.threads},
        {"tflops", result.gemm_tflops}}},
      {"train_step",
       {{"model", "mlp-256-128-100"},
        {"batch", kBatch},
        {"seconds", result.step_seconds},
        {"samples_per_second", result.step_samples_per_second}}},
      {"reference_tflops", options.reference_tflops},
      {"h100e", result.h100e}};
  const std::string json = results.dump(2) + "\n";
  if (!options.out.empty()) {
    if (options.out.has_parent_path())
      std::filesystem::create_directories(options.out.parent_path());
    write_file_atomically(options.out.string(), json);
  }
  char line[512];
  std::snprintf(line, sizeof(line),
                "node %s: sgemm %dx%dx%d f32 on %d thread(s): %.3f TFLOPS; MLP training step "
                "(batch %zu): %.2f ms, %.0f samples/s; H100e factor %.6f (relative to %.1f TFLOPS)",
                this_host().c_str(), n, n, n, options.threads, result.gemm_tflops, kBatch,
                result.step_seconds * 1e3, result.step_samples_per_second, result.h100e,
                options.reference_tflops);
  log << line << "\n";
  if (!options.out.empty())
    log << "results written to " << options.out.string() << "\n";
  return result;
}

}  // namespace dojo::train
