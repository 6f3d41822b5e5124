// The GPU training engine checked against a plain CPU reference (no BLAS on
// the GPU machine: the reference is written out here): forward, evaluation,
// backward through the real Bucketer on the nccl communicator (bf16
// compression off and on), and SGD and AdamW steps against the host
// Optimizer. Then what the CPU pays while a collective runs, and the model
// FLOP utilisation of a bf16 GEMM-heavy MLP step.
#include <cuda_runtime_api.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include "collectives/bucketer.h"
#include "collectives/communicator.h"
#include "collectives/cuda/cuda_check.h"
#include "orchestrator/train/engine.h"
#include "orchestrator/train/optimizer.h"

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

/// Largest difference between a and b, relative to the largest |b| of each tensor.
double relative_difference(const std::vector<std::vector<float>>& a,
                           const std::vector<std::vector<float>>& b) {
  double worst = 0;
  for (std::size_t t = 0; t < a.size() && t < b.size(); ++t) {
    double scale = 1e-6;
    for (float v : b[t])
      scale = std::max(scale, static_cast<double>(std::abs(v)));
    for (std::size_t i = 0; i < a[t].size() && i < b[t].size(); ++i)
      worst = std::max(worst, std::abs(static_cast<double>(a[t][i]) - b[t][i]) / scale);
  }
  return worst;
}

/// Three training steps as the trainer takes them: forward, an evaluation
/// between forward and backward (it must not disturb backward), backward
/// into the Bucketer on the nccl communicator, finish, optimizer step. Each
/// step's loss and gradients are compared with the CPU reference at the same
/// parameters, the evaluation's loss too, and the parameters after each step
/// with the host Optimizer fed the same averaged gradients.
int check_training_steps(collectives::Communicator& comm, config::Precision precision,
                         bool compression, config::OptimizerType optimizer) {
  train::MlpShape shape;
  shape.inputs = 37;
  shape.hidden = {29, 17};
  shape.classes = 7;
  const int rows = 13, eval_rows = 11;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> x(rows * shape.inputs), ex(eval_rows * shape.inputs);
  for (float& v : x)
    v = uniform(rng);
  for (float& v : ex)
    v = uniform(rng);
  std::vector<std::uint8_t> labels(rows), eval_labels(eval_rows);
  for (int r = 0; r < rows; ++r)
    labels[r] = static_cast<std::uint8_t>(r % shape.classes);
  for (int r = 0; r < eval_rows; ++r)
    eval_labels[r] = static_cast<std::uint8_t>((3 * r + 1) % shape.classes);

  config::OptimizerConfig opt;
  opt.type = optimizer;
  opt.learning_rate = optimizer == config::OptimizerType::kSgd ? 0.05 : 1e-3;
  opt.weight_decay = optimizer == config::OptimizerType::kSgd ? 1e-4 : 1e-2;
  opt.warmup_steps = 1;
  const int steps = 3;
  auto engine = train::make_gpu_engine(shape, 3, opt, steps, precision, comm);
  std::vector<std::vector<float>> host_params = engine->parameters();
  train::Optimizer host_optimizer(opt, engine->parameter_counts(), steps);
  collectives::BucketerOptions bucket_options;
  bucket_options.bucket_bytes = 1024;  // several buckets, launched during backward
  bucket_options.bf16_compression = compression;
  collectives::Bucketer bucketer(comm, engine->parameter_counts(), bucket_options);

  const bool bf16 = precision == config::Precision::kBf16;
  // bf16 GEMM inputs, or gradients rounded to bf16 on the wire: ~2^-8 relative.
  const double tolerance = bf16 ? 3e-2 : (compression ? 1e-2 : 1e-4);
  double loss_worst = 0, grad_worst = 0, param_worst = 0;
  for (int step = 0; step < steps; ++step) {
    const Reference ref = reference(shape, host_params, x, labels, rows);
    const Reference eval_ref = reference(shape, host_params, ex, eval_labels, eval_rows);
    const auto result = engine->forward(x.data(), labels.data(), rows);
    const auto evaluated = engine->evaluate(ex.data(), eval_labels.data(), eval_rows);
    loss_worst = std::max(loss_worst, std::abs(result.loss_sum - ref.loss_sum) / ref.loss_sum);
    loss_worst =
        std::max(loss_worst, std::abs(evaluated.loss_sum - eval_ref.loss_sum) / eval_ref.loss_sum);
    bucketer.begin_step(rows, rows);
    engine->backward([&](std::size_t t) { return bucketer.gradient(t); },
                     [&](std::size_t t) { bucketer.ready(t); });
    bucketer.finish();
    std::vector<std::vector<float>> grads;
    std::vector<std::span<const float>> device_views, host_views;
    for (std::size_t t = 0; t < ref.grads.size(); ++t) {
      const std::span<float> g = bucketer.gradient(t);
      grads.emplace_back(g.size());
      check_cuda(cudaMemcpy(grads.back().data(), g.data(), g.size_bytes(), cudaMemcpyDeviceToHost),
                 "cudaMemcpy");
      device_views.emplace_back(g.data(), g.size());
    }
    for (const auto& g : grads)
      host_views.emplace_back(g.data(), g.size());
    grad_worst = std::max(grad_worst, relative_difference(grads, ref.grads));
    engine->step(device_views, 1.0f);
    host_optimizer.step(host_params, host_views, 1.0f);
    param_worst = std::max(param_worst, relative_difference(engine->parameters(), host_params));
  }
  // The optimizers see the same gradients: they agree to f32 rounding.
  const double param_tolerance = 1e-5;
  const bool ok =
      loss_worst <= tolerance && grad_worst <= tolerance && param_worst <= param_tolerance;
  std::printf(
      "training steps %s, compression %s, %s: loss %.1e, gradients %.1e (tolerance %.0e), "
      "parameters vs host optimizer %.1e (tolerance %.0e): %s\n",
      bf16 ? "bf16" : "f32", compression ? "bf16" : "none",
      optimizer == config::OptimizerType::kSgd ? "sgd" : "adamw", loss_worst, grad_worst, tolerance,
      param_worst, param_tolerance, ok ? "ok" : "FAIL");
  return ok ? 0 : 1;
}

/// The control plane on the real communicator: host data staged through its
/// buffers comes back right, and host memory handed to a pointer collective
/// is refused with a message rather than faulting inside NCCL.
int check_control_plane(collectives::Communicator& comm) {
  int failures = 0;
  double totals[2] = {3.5, -1};
  comm.control_all_reduce(totals, 2, collectives::DType::kF64, collectives::ReduceOp::kSum);
  failures += totals[0] == 3.5 && totals[1] == -1 ? 0 : 1;
  std::int32_t mine = 42, all = 0;
  auto gathered = comm.control_all_gather_async(&mine, &all, 1, collectives::DType::kI32);
  gathered.wait();
  failures += all == 42 ? 0 : 1;
  std::vector<std::int64_t> words(1000);
  for (std::size_t i = 0; i < words.size(); ++i)
    words[i] = static_cast<std::int64_t>(i * i);
  comm.control_broadcast(words.data(), words.size(), collectives::DType::kI64, 0);
  failures += words[999] == 999 * 999 ? 0 : 1;
  bool refused = false;
  try {
    comm.all_reduce(totals, totals, 2, collectives::DType::kF64, collectives::ReduceOp::kSum);
  } catch (const collectives::CollectiveError& e) {
    refused = std::string(e.what()).find("host memory") != std::string::npos;
    std::printf("host memory into a pointer collective: %s\n", e.what());
  }
  failures += refused ? 0 : 1;
  std::printf(
      "control plane (all-reduce, all-gather, broadcast of host data; host memory "
      "refused): %s\n",
      failures == 0 ? "ok" : "FAIL");
  return failures;
}

/// CPU time of this process while one all-reduce waits 0.5 s behind a host
/// callback on another stream: the poller's cost (the waiting thread sleeps
/// on a condition variable, the callback's thread in sleep_for).
void measure_poller_cpu(collectives::Communicator& comm) {
  cudaStream_t side;
  check_cuda(cudaStreamCreateWithFlags(&side, cudaStreamNonBlocking), "cudaStreamCreate");
  cudaEvent_t gate;
  check_cuda(cudaEventCreateWithFlags(&gate, cudaEventDisableTiming), "cudaEventCreate");
  auto buffer = comm.allocate(1 << 20);
  auto cpu_seconds = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
  };
  const double hold = 0.5;
  check_cuda(cudaLaunchHostFunc(
                 side,
                 [](void* seconds) {
                   std::this_thread::sleep_for(
                       std::chrono::duration<double>(*static_cast<double*>(seconds)));
                 },
                 const_cast<double*>(&hold)),
             "cudaLaunchHostFunc");
  check_cuda(cudaEventRecord(gate, side), "cudaEventRecord");
  comm.wait_event(gate);
  const double cpu_start = cpu_seconds();
  const auto wall_start = std::chrono::steady_clock::now();
  comm.all_reduce_async(*buffer, 0, (1 << 20) / 4, collectives::DType::kF32,
                        collectives::ReduceOp::kSum)
      .wait();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const double cpu = cpu_seconds() - cpu_start;
  std::printf(
      "poller: %.1f%% of a core while an all-reduce was pending for %.2f s (goal: a few "
      "percent)\n",
      100 * cpu / wall, wall);
  cudaEventDestroy(gate);
  cudaStreamDestroy(side);
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

  failures += check_control_plane(comm);
  for (auto optimizer : {config::OptimizerType::kSgd, config::OptimizerType::kAdamW}) {
    failures += check_training_steps(comm, config::Precision::kF32, false, optimizer);
    failures += check_training_steps(comm, config::Precision::kF32, true, optimizer);
    failures += check_training_steps(comm, config::Precision::kBf16, true, optimizer);
  }
  measure_poller_cpu(comm);

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
