// The synthetic workload: a named model's gradient tensors and real GEMM
// compute of a set FLOP count per sample, for communication and scaling
// benchmarks without a dataset.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "collectives/model_shapes.h"
#include "common/error.h"
#include "orchestrator/train/workload.h"

namespace dojo::train::detail {
namespace {

// GEMMs of 256 x 256 x 256 (33.6 MFLOP) are the unit of synthetic compute:
// large enough to run near peak, small enough to interleave with backward.
constexpr int kTile = 256;
constexpr double kTileFlops = 2.0 * kTile * kTile * kTile;
/// Steps of a synthetic "epoch" (there is no dataset to go through).
constexpr std::int64_t kStepsPerEpoch = 100;
constexpr std::int64_t kProgressEvery = 10;

/// Each step computes gflop_per_sample x this rank's share as OpenBLAS
/// sgemms, a third as the forward pass and the rest as backward, during which
/// the model's gradients are written and enter the bucketer last tensor
/// first. Steps: max_steps, else 100 per epoch. No model state: a checkpoint
/// holds the step only.
class SyntheticWorkload : public Workload {
 public:
  SyntheticWorkload(const config::JobConfig& job, collectives::Communicator& comm, int share)
      : job_(job),
        workload_(*job.workload),
        rank_(comm.rank()),
        tensors_(collectives::model_gradient_shapes(workload_.model)),
        gflop_(workload_.gflop_per_sample > 0
                   ? workload_.gflop_per_sample
                   : collectives::model_gflop_per_sample(workload_.model)),
        gemms_(std::max<long>(1, std::lround(gflop_ * 1e9 * share / kTileFlops))),
        a_(kTile * kTile, 0.5f),
        b_(kTile * kTile, 0.25f),
        c_(kTile * kTile) {
    if (workload_.device != config::Device::kCpu ||
        comm.memory() != collectives::MemoryKind::kHost) {
      throw Error(
          "the synthetic workload computes with OpenBLAS on the CPU: set workload.device: cpu "
          "and collectives.backend: mpi (its GPU form is not written yet)");
    }
    openblas_set_num_threads(workload_.threads_per_rank);
    for (std::size_t t : tensors_)
      parameters_ += t;
  }

  std::string model_label() const override { return "synthetic"; }
  bool has_loss() const override { return false; }
  std::vector<std::size_t> parameter_counts() const override { return tensors_; }
  std::int64_t steps_per_epoch() const override { return kStepsPerEpoch; }
  std::int64_t total_steps() const override {
    return workload_.max_steps > 0 ? workload_.max_steps : kStepsPerEpoch * workload_.epochs;
  }
  std::int64_t progress_every() const override { return kProgressEvery; }

  std::string start_line(const StartFacts& f) const override {
    char line[512];
    std::snprintf(line, sizeof(line),
                  "job %s: synthetic %s (%zu tensors, %.1f M parameters, %.1f GFLOP a sample), "
                  "%d ranks (%s), global batch %d (this rank %d: %ld GEMMs of %d^3 a step), "
                  "%lld steps, %zu buckets",
                  job_.name.c_str(), workload_.model.c_str(), tensors_.size(), parameters_ / 1e6,
                  gflop_, f.ranks, f.backend.c_str(), f.global_batch, f.share, gemms_, kTile,
                  static_cast<long long>(f.total_steps), f.buckets);
    return line;
  }

  std::string progress_line(const Progress& p) const override {
    char line[256];
    std::snprintf(line, sizeof(line),
                  "step %lld/%lld samples/s %.1f compute %.3f s exposed communication %.4f s",
                  static_cast<long long>(p.step), static_cast<long long>(p.total_steps),
                  p.samples_per_second, p.compute_seconds, p.exposed_seconds);
    return line;
  }

  void begin_epoch(std::int64_t) override {}

  ForwardResult forward(std::int64_t, int) override {
    for (long g = 0; g < gemms_ / 3; ++g)
      gemm();
    return {};
  }

  // Backward produces gradients last tensor first, spread over the backward GEMMs by size.
  void backward(collectives::Bucketer& bucketer) override {
    const long backward_gemms = gemms_ - gemms_ / 3;
    const double per_gemm = static_cast<double>(parameters_) / static_cast<double>(backward_gemms);
    std::size_t next = tensors_.size();
    double produced = 0;   // parameters whose gradients backward has reached
    std::size_t done = 0;  // parameters whose gradients are in the bucketer
    for (long g = 0; g < backward_gemms; ++g) {
      gemm();
      produced += per_gemm;
      while (next > 0 && (g + 1 == backward_gemms ||
                          static_cast<double>(done + tensors_[next - 1]) <= produced)) {
        --next;
        auto slot = bucketer.gradient(next);
        std::fill(slot.begin(), slot.end(), 1e-3f * static_cast<float>(rank_ + 1));
        bucketer.ready(next);
        done += tensors_[next];
      }
    }
  }

  double gradient_norm(const std::vector<std::span<const float>>&) override { return 0; }
  void apply(const std::vector<std::span<const float>>&, float) override {}
  std::optional<double> evaluate() override { return std::nullopt; }
  void save(TrainState&) const override {}
  void restore(const TrainState& loaded) override {
    if (!loaded.model.empty())
      throw Error("the newest checkpoint holds a model; this synthetic job has none to resume");
  }

 private:
  void gemm() {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kTile, kTile, kTile, 1.0f, a_.data(),
                kTile, b_.data(), kTile, 0.0f, c_.data(), kTile);
  }

  const config::JobConfig& job_;
  const config::WorkloadConfig& workload_;
  const int rank_;
  const std::vector<std::size_t> tensors_;
  const double gflop_;
  const long gemms_;
  std::size_t parameters_ = 0;
  std::vector<float> a_, b_, c_;
};

}  // namespace

std::unique_ptr<Workload> make_synthetic_workload(const config::JobConfig& job,
                                                  collectives::Communicator& comm, int share) {
  return std::make_unique<SyntheticWorkload>(job, comm, share);
}

}  // namespace dojo::train::detail
