// The GPU training engine checked against a plain CPU reference (no BLAS on
// the GPU machine: the reference is written out here), and the model FLOP
// utilisation of a bf16 GEMM-heavy MLP step.
#include <cuda_runtime_api.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <span>
#include <vector>

#include "collectives/communicator.h"
#include "collectives/cuda/cuda_check.h"
#include "orchestrator/train/engine.h"

using namespace dojo;
using collectives::cuda::check_cuda;

namespace {

struct Reference {
  double loss_sum = 0;
  std::vector<std::vector<float>> grads;
};

// Forward and backward of the MLP in double precision, straight loops.
Reference reference(const train::MlpShape& shape, const std::vector<std::vector<float>>& params,
                    const std::vector<float>& x, const std::vector<std::uint8_t>& labels,
                    int rows) {
  const auto widths = train::layer_widths(shape);
  const std::size_t layers = widths.size() - 1;
  std::vector<std::vector<double>> acts(layers + 1);
  acts[0].assign(x.begin(), x.end());
  for (std::size_t l = 0; l < layers; ++l) {
    const std::size_t in = widths[l], out = widths[l + 1];
    acts[l + 1].assign(rows * out, 0);
    for (int r = 0; r < rows; ++r) {
      for (std::size_t o = 0; o < out; ++o) {
        double z = params[2 * l + 1][o];
        for (std::size_t i = 0; i < in; ++i)
          z += acts[l][r * in + i] * params[2 * l][o * in + i];
        acts[l + 1][r * out + o] = (l + 1 < layers && z < 0) ? 0 : z;
      }
    }
  }
  Reference ref;
  const std::size_t classes = widths.back();
  std::vector<double> delta(rows * classes);
  for (int r = 0; r < rows; ++r) {
    const double* z = &acts[layers][r * classes];
    double top = z[0];
    for (std::size_t c = 1; c < classes; ++c)
      top = std::max(top, z[c]);
    double sum = 0;
    for (std::size_t c = 0; c < classes; ++c)
      sum += std::exp(z[c] - top);
    const double log_sum = std::log(sum) + top;
    ref.loss_sum += log_sum - z[labels[r]];
    for (std::size_t c = 0; c < classes; ++c) {
      delta[r * classes + c] = (std::exp(z[c] - log_sum) - (c == labels[r] ? 1 : 0)) / rows;
    }
  }
  ref.grads.resize(params.size());
  for (std::size_t l = layers; l-- > 0;) {
    const std::size_t in = widths[l], out = widths[l + 1];
    auto& gw = ref.grads[2 * l];
    auto& gb = ref.grads[2 * l + 1];
    gw.assign(in * out, 0);
    gb.assign(out, 0);
    for (int r = 0; r < rows; ++r) {
      for (std::size_t o = 0; o < out; ++o) {
        const double d = delta[r * out + o];
        gb[o] += static_cast<float>(d);
        for (std::size_t i = 0; i < in; ++i)
          gw[o * in + i] += static_cast<float>(d * acts[l][r * in + i]);
      }
    }
    if (l == 0)
      break;
    std::vector<double> below(rows * in, 0);
    for (int r = 0; r < rows; ++r) {
      for (std::size_t i = 0; i < in; ++i) {
        double s = 0;
        for (std::size_t o = 0; o < out; ++o)
          s += delta[r * out + o] * params[2 * l][o * in + i];
        below[r * in + i] = acts[l][r * in + i] > 0 ? s : 0;
      }
    }
    delta.swap(below);
  }
  return ref;
}

}  // namespace

// Returns the number of failed checks; prints what it measured.
int check_gpu_training(collectives::Communicator& comm) {
  int failures = 0;
  train::MlpShape shape;
  shape.inputs = 37;
  shape.hidden = {29, 17};
  shape.classes = 7;
  const int rows = 13;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> x(rows * shape.inputs);
  for (float& v : x)
    v = uniform(rng);
  std::vector<std::uint8_t> labels(rows);
  for (int r = 0; r < rows; ++r)
    labels[r] = static_cast<std::uint8_t>(r % shape.classes);
  config::OptimizerConfig sgd;

  for (auto precision : {config::Precision::kF32, config::Precision::kBf16}) {
    const bool bf16 = precision == config::Precision::kBf16;
    auto engine = train::make_gpu_engine(shape, 3, sgd, 10, precision, comm);
    const auto params = engine->parameters();
    const Reference ref = reference(shape, params, x, labels, rows);
    const auto result = engine->forward(x.data(), labels.data(), rows);
    std::vector<std::unique_ptr<collectives::CommBuffer>> grads;
    for (std::size_t n : engine->parameter_counts())
      grads.push_back(comm.allocate(n * sizeof(float)));
    engine->backward(
        [&](std::size_t t) {
          return std::span<float>(static_cast<float*>(grads[t]->data()),
                                  grads[t]->bytes() / sizeof(float));
        },
        [](std::size_t) {});
    comm.synchronize();
    check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    const double tolerance = bf16 ? 3e-2 : 1e-4;
    double worst = std::abs(result.loss_sum - ref.loss_sum) / std::abs(ref.loss_sum);
    for (std::size_t t = 0; t < grads.size(); ++t) {
      std::vector<float> g(ref.grads[t].size());
      grads[t]->read(0, g.data(), g.size() * sizeof(float));
      double scale = 1e-6;
      for (float v : ref.grads[t])
        scale = std::max(scale, static_cast<double>(std::abs(v)));
      for (std::size_t i = 0; i < g.size(); ++i) {
        worst = std::max(worst, std::abs(g[i] - ref.grads[t][i]) / scale);
      }
    }
    const bool ok = worst <= tolerance;
    failures += ok ? 0 : 1;
    std::printf(
        "gpu engine %s vs CPU reference: largest relative difference %.2e (tolerance %.0e): %s\n",
        bf16 ? "bf16" : "f32", worst, tolerance, ok ? "ok" : "FAIL");
  }

  // MFU of a bf16 GEMM-heavy step: 4 x 8192-wide layers, batch 8192.
  train::MlpShape big;
  big.inputs = 1024;
  big.hidden = {8192, 8192, 8192, 8192};
  big.classes = 1024;
  const int batch = 8192;
  auto engine = train::make_gpu_engine(big, 1, sgd, 1000, config::Precision::kBf16, comm);
  std::vector<float> bx(static_cast<std::size_t>(batch) * big.inputs, 0.01f);
  std::vector<std::uint8_t> bl(batch);
  for (int r = 0; r < batch; ++r)
    bl[r] = static_cast<std::uint8_t>(r % 256);
  std::vector<std::unique_ptr<collectives::CommBuffer>> grads;
  std::vector<std::span<const float>> views;
  for (std::size_t n : engine->parameter_counts()) {
    grads.push_back(comm.allocate(n * sizeof(float)));
    views.emplace_back(static_cast<const float*>(grads.back()->data()), n);
  }
  const auto widths = train::layer_widths(big);
  double macs = 0, macs_below = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    macs += static_cast<double>(widths[l]) * widths[l + 1];
    if (l > 0)
      macs_below += static_cast<double>(widths[l]) * widths[l + 1];
  }
  const double step_flops = 2.0 * batch * (2 * macs + macs_below);  // forward, dW, d(activation)
  auto step = [&] {
    engine->forward(bx.data(), bl.data(), batch);
    engine->backward(
        [&](std::size_t t) {
          return std::span<float>(static_cast<float*>(grads[t]->data()),
                                  grads[t]->bytes() / sizeof(float));
        },
        [](std::size_t) {});
    engine->step(views, 1.0f);
    check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  };
  step();
  const int steps = 10;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i)
    step();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / steps;
  const double tflops = step_flops / seconds / 1e12;
  std::printf(
      "bf16 MLP step (%d x [1024, 4 x 8192, 1024]): %.2f ms, %.0f samples/s, %.1f TFLOPS, "
      "MFU %.1f%% of 989.4 dense bf16 TFLOPS (target 50%%)\n",
      batch, seconds * 1e3, batch / seconds, tflops, 100 * tflops / 989.4);
  return failures;
}
