#include "orchestrator/train/synthetic.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "collectives/bucketer.h"
#include "collectives/model_shapes.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "orchestrator/heartbeat/heartbeat.h"
#include "orchestrator/metrics/exporter.h"
#include "orchestrator/train/job_metrics.h"

namespace dojo::train {
namespace {

using Clock = std::chrono::steady_clock;

// GEMMs of 256 x 256 x 256 (33.6 MFLOP) are the unit of synthetic compute:
// large enough to run near peak, small enough to interleave with backward.
constexpr int kTile = 256;
constexpr double kTileFlops = 2.0 * kTile * kTile * kTile;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

TrainSummary run_synthetic(const config::JobConfig& job, collectives::Communicator& comm,
                           const WorkerOptions& options, std::ostream& log) {
  const config::WorkloadConfig& w = *job.workload;
  if (w.device != config::Device::kCpu || comm.memory() != collectives::MemoryKind::kHost) {
    throw Error(
        "the synthetic workload computes with OpenBLAS on the CPU: set workload.device: cpu "
        "and collectives.backend: mpi (its GPU form is not written yet)");
  }
  const bool leader = comm.rank() == 0;
  const auto wall_start = Clock::now();
  openblas_set_num_threads(w.threads_per_rank);

  const std::vector<std::size_t> tensors = collectives::model_gradient_shapes(w.model);
  const std::vector<int> shares = batch_shares(job, comm, options, w.global_batch);
  const int share = shares[static_cast<std::size_t>(comm.rank())];
  const double gflop =
      w.gflop_per_sample > 0 ? w.gflop_per_sample : collectives::model_gflop_per_sample(w.model);
  const long gemms = std::max<long>(1, std::lround(gflop * 1e9 * share / kTileFlops));
  const long forward_gemms = gemms / 3;
  const std::int64_t total_steps = w.max_steps > 0 ? w.max_steps : 100LL * w.epochs;

  collectives::BucketerOptions bucket_options;
  bucket_options.bucket_bytes = static_cast<std::size_t>(job.collectives.bucket_mib * (1 << 20));
  bucket_options.bf16_compression = job.collectives.compression == config::Compression::kBf16;
  collectives::Bucketer bucketer(comm, tensors, bucket_options);

  std::unique_ptr<JobMetrics> metrics;
  std::unique_ptr<metrics::Exporter> exporter;
  if (leader && job.metrics.enabled) {
    metrics = std::make_unique<JobMetrics>(job.name, comm.backend(), "synthetic", comm.size());
    exporter = std::make_unique<metrics::Exporter>(
        metrics::ExporterOptions{job.metrics.bind, job.metrics.port});
    exporter->add(metrics->registry());
    write_file_atomically((options.run_dir / "metrics.port").string(),
                          std::to_string(exporter->port()) + "\n");
  }
  char line[512];
  std::size_t parameters = 0;
  for (std::size_t t : tensors)
    parameters += t;
  std::snprintf(line, sizeof(line),
                "job %s: synthetic %s (%zu tensors, %.1f M parameters, %.1f GFLOP a sample), %d "
                "ranks (%s), global batch %d (this rank %d: %ld GEMMs of %d^3 a step), %lld steps, "
                "%zu buckets",
                job.name.c_str(), w.model.c_str(), tensors.size(), parameters / 1e6, gflop,
                comm.size(), comm.backend().c_str(), w.global_batch, share, gemms, kTile,
                static_cast<long long>(total_steps), bucketer.plan().buckets.size());
  if (leader)
    log << line << std::endl;

  std::vector<float> a(kTile * kTile, 0.5f), b(kTile * kTile, 0.25f), c(kTile * kTile);
  auto gemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kTile, kTile, kTile, 1.0f, a.data(),
                kTile, b.data(), kTile, 0.0f, c.data(), kTile);
  };
  // Backward produces gradients last tensor first, spread over the backward GEMMs by size.
  const long backward_gemms = gemms - forward_gemms;
  TrainSummary summary;
  double step_seconds_total = 0;
  std::unique_ptr<heartbeat::Pulse> heartbeat;
  if (!options.heartbeat_address.empty()) {
    heartbeat = std::make_unique<heartbeat::Pulse>(
        std::make_unique<heartbeat::Sender>(options.heartbeat_address),
        heartbeat::Heartbeat{job.name, options.attempt, comm.rank(), this_host(), 0,
                             comm.sequence()});
  }
  for (std::int64_t step = 0; step < total_steps; ++step) {
    const auto step_start = Clock::now();
    for (long g = 0; g < forward_gemms; ++g)
      gemm();
    bucketer.begin_step(share, w.global_batch);
    std::size_t next = tensors.size();
    const double per_gemm = static_cast<double>(parameters) / static_cast<double>(backward_gemms);
    double produced = 0;   // parameters whose gradients backward has reached
    std::size_t done = 0;  // parameters whose gradients are in the bucketer
    for (long g = 0; g < backward_gemms; ++g) {
      gemm();
      produced += per_gemm;
      while (next > 0 && (g + 1 == backward_gemms ||
                          static_cast<double>(done + tensors[next - 1]) <= produced)) {
        --next;
        auto slot = bucketer.gradient(next);
        std::fill(slot.begin(), slot.end(), 1e-3f * static_cast<float>(comm.rank() + 1));
        bucketer.ready(next);
        done += tensors[next];
      }
    }
    const double compute = seconds_since(step_start);
    bucketer.finish();
    const double step_seconds = seconds_since(step_start);
    step_seconds_total += step_seconds;
    summary.compute_seconds += compute;
    summary.exposed_communication_seconds += bucketer.exposed_seconds();
    summary.communication_seconds += bucketer.communication_seconds();
    if (metrics) {
      metrics->step(step_seconds, static_cast<std::size_t>(w.global_batch));
      metrics->communication(bucketer.communication_seconds(),
                             static_cast<double>(bucketer.wire_bytes()),
                             bucketer.exposed_seconds());
    }
    summary.steps = step + 1;
    if (heartbeat)
      heartbeat->update(summary.steps, comm.sequence());
    // Everyone stops at the same step when any rank was asked to.
    std::int32_t stop = options.stop_requested != nullptr && options.stop_requested->load() ? 1 : 0;
    if (options.stop_after_steps && summary.steps >= *options.stop_after_steps)
      stop = 1;
    comm.all_reduce(&stop, &stop, 1, collectives::DType::kI32, collectives::ReduceOp::kMax);
    if ((summary.steps % 10 == 0 || summary.steps == total_steps) && leader) {
      const double rate = summary.steps * w.global_batch / step_seconds_total;
      if (metrics)
        metrics->samples_per_second(rate);
      std::snprintf(line, sizeof(line),
                    "step %lld/%lld samples/s %.1f compute %.3f s exposed communication %.4f s",
                    static_cast<long long>(summary.steps), static_cast<long long>(total_steps),
                    rate, compute, bucketer.exposed_seconds());
      log << line << std::endl;
    }
    if (stop != 0 && summary.steps < total_steps) {
      summary.stopped = true;
      if (leader)
        log << "stopped at step " << summary.steps
            << " on request (synthetic: nothing to checkpoint)" << std::endl;
      break;
    }
  }
  summary.samples_per_second =
      step_seconds_total > 0 ? summary.steps * w.global_batch / step_seconds_total : 0;
  summary.wall_seconds = seconds_since(wall_start);
  if (leader)
    write_summary(options.run_dir / "summary.json", job.name, comm.size(), w.global_batch, summary);
  return summary;
}

}  // namespace dojo::train
