// The MLP workload: Fashion-MNIST through the CPU or GPU engine.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "orchestrator/train/data_parallel.h"
#include "orchestrator/train/engine.h"
#include "orchestrator/train/fashion_mnist.h"
#include "orchestrator/train/workload.h"

namespace dojo::train::detail {
namespace {

using collectives::DType;
using collectives::ReduceOp;

/// Test samples evaluated per engine call.
constexpr std::size_t kEvaluationChunk = 1000;
/// Progress lines per epoch.
constexpr std::int64_t kProgressLinesPerEpoch = 4;

/// Steps of a run: steps_per_epoch x epochs, at most workload.max_steps.
std::int64_t steps_of(const config::WorkloadConfig& workload, std::int64_t steps_per_epoch) {
  const std::int64_t steps = steps_per_epoch * workload.epochs;
  return workload.max_steps > 0 ? std::min(steps, workload.max_steps) : steps;
}

std::string duration_text(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof(text), "%ldh%02ldm", s / 3600, s / 60 % 60);
  else
    std::snprintf(text, sizeof(text), "%ldm%02lds", s / 60, s % 60);
  return text;
}

class MlpWorkload : public Workload {
 public:
  MlpWorkload(const config::JobConfig& job, collectives::Communicator& comm)
      : workload_(*job.workload),
        comm_(comm),
        train_(load_fashion_mnist(workload_.dataset_dir, "train")),
        test_(load_fashion_mnist(workload_.dataset_dir, "t10k")) {
    openblas_set_num_threads(workload_.threads_per_rank);
    steps_per_epoch_ = static_cast<std::int64_t>(train_.count) / workload_.global_batch;
    if (steps_per_epoch_ == 0) {
      throw Error("the global batch of " + std::to_string(workload_.global_batch) +
                  " is larger than the training set of " + std::to_string(train_.count));
    }
    MlpShape shape;
    shape.inputs = train_.features;
    shape.hidden = workload_.hidden_layers;
    shape.classes = kFashionClasses;
    const std::int64_t steps = steps_of(workload_, steps_per_epoch_);
    engine_ = workload_.device == config::Device::kGpu
                  ? make_gpu_engine(shape, workload_.seed, workload_.optimizer, steps,
                                    workload_.precision, comm_)
                  : make_cpu_engine(shape, workload_.seed, workload_.optimizer, steps);
  }

  std::string model_label() const override { return "mlp"; }
  bool has_loss() const override { return true; }
  std::vector<std::size_t> parameter_counts() const override { return engine_->parameter_counts(); }
  std::int64_t steps_per_epoch() const override { return steps_per_epoch_; }
  std::int64_t total_steps() const override { return steps_of(workload_, steps_per_epoch_); }
  std::int64_t progress_every() const override {
    return std::max<std::int64_t>(1, steps_per_epoch_ / kProgressLinesPerEpoch);
  }

  std::string start_line(const StartFacts& f) const override {
    return "job " + workload_name_ + std::to_string(f.ranks) + " ranks (" + f.backend +
           "), global batch " + std::to_string(f.global_batch) + " (this rank " +
           std::to_string(f.share) + "), " + std::to_string(f.total_steps) + " steps, " +
           std::to_string(engine_->parameter_counts().size()) + " gradient tensors in " +
           std::to_string(f.buckets) + " buckets";
  }

  std::string progress_line(const Progress& p) const override {
    char line[256];
    std::snprintf(line, sizeof(line),
                  "epoch %lld/%d step %lld/%lld loss %.4f acc %.4f samples/s %.0f eta %s",
                  static_cast<long long>(p.epoch), p.epochs, static_cast<long long>(p.step),
                  static_cast<long long>(p.total_steps), p.loss, p.accuracy, p.samples_per_second,
                  duration_text(p.eta_seconds).c_str());
    return line;
  }

  void begin_epoch(std::int64_t epoch) override {
    order_ = epoch_order(workload_.seed, static_cast<std::uint64_t>(epoch), train_.count);
  }

  ForwardResult forward(std::int64_t first, int share) override {
    const std::size_t n = static_cast<std::size_t>(share);
    batch_.resize(n * train_.features);
    labels_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t sample = order_[static_cast<std::size_t>(first) + i];
      std::memcpy(&batch_[i * train_.features], &train_.images[sample * train_.features],
                  train_.features * sizeof(float));
      labels_[i] = train_.labels[sample];
    }
    const BatchResult result = engine_->forward(batch_.data(), labels_.data(), n);
    return {result.loss_sum, static_cast<double>(result.correct)};
  }

  void backward(collectives::Bucketer& bucketer) override {
    engine_->backward([&](std::size_t t) { return bucketer.gradient(t); },
                      [&](std::size_t t) { bucketer.ready(t); });
  }

  double gradient_norm(const std::vector<std::span<const float>>& grads) override {
    return engine_->gradient_norm(grads);
  }

  void apply(const std::vector<std::span<const float>>& grads, float clip) override {
    engine_->step(grads, clip);
  }

  std::optional<double> evaluate() override {
    const std::size_t begin = test_.count * static_cast<std::size_t>(comm_.rank()) / comm_.size();
    const std::size_t end = test_.count * static_cast<std::size_t>(comm_.rank() + 1) / comm_.size();
    double totals[2] = {0, 0};
    for (std::size_t at = begin; at < end; at += kEvaluationChunk) {
      const std::size_t rows = std::min(kEvaluationChunk, end - at);
      const auto result =
          engine_->evaluate(&test_.images[at * test_.features], &test_.labels[at], rows);
      totals[0] += result.correct;
      totals[1] += result.loss_sum;
    }
    comm_.control_all_reduce(totals, 2, DType::kF64, ReduceOp::kSum);
    return totals[0] / static_cast<double>(test_.count);
  }

  void save(TrainState& state) const override {
    state.model = engine_->parameters();
    state.optimizer = engine_->optimizer_state();
    state.optimizer_steps = engine_->optimizer_steps();
  }

  void restore(const TrainState& loaded) override {
    const std::vector<std::size_t> counts = engine_->parameter_counts();
    if (loaded.model.size() != counts.size() ||
        loaded.optimizer.size() != engine_->optimizer_state().size()) {
      throw Error("the newest checkpoint holds a different model (tensor count differs)");
    }
    for (std::size_t t = 0; t < loaded.model.size(); ++t) {
      if (loaded.model[t].size() != counts[t]) {
        throw Error("the newest checkpoint holds a different model (tensor " + std::to_string(t) +
                    " has " + std::to_string(loaded.model[t].size()) + " elements, not " +
                    std::to_string(counts[t]) + ")");
      }
    }
    engine_->set_parameters(loaded.model);
    engine_->set_optimizer_state(loaded.optimizer, loaded.optimizer_steps);
  }

  void set_job_name(const std::string& name) { workload_name_ = name + ": "; }

 private:
  const config::WorkloadConfig& workload_;
  collectives::Communicator& comm_;
  Dataset train_;
  Dataset test_;
  std::unique_ptr<Engine> engine_;
  std::int64_t steps_per_epoch_ = 0;
  std::vector<std::uint32_t> order_;
  std::vector<float> batch_;
  std::vector<std::uint8_t> labels_;
  std::string workload_name_;
};

}  // namespace

std::unique_ptr<Workload> make_mlp_workload(const config::JobConfig& job,
                                            collectives::Communicator& comm) {
  auto workload = std::make_unique<MlpWorkload>(job, comm);
  workload->set_job_name(job.name);
  return workload;
}

}  // namespace dojo::train::detail
