#include "orchestrator/train/trainer.h"

#include <cblas.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <ostream>
#include <sstream>

#include "collectives/bucketer.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/fault.h"
#include "orchestrator/config/shares.h"
#include "orchestrator/heartbeat/heartbeat.h"
#include "orchestrator/metrics/exporter.h"
#include "orchestrator/reliability/young_daly.h"
#include "orchestrator/train/checkpoint.h"
#include "orchestrator/train/data_parallel.h"
#include "orchestrator/train/engine.h"
#include "orchestrator/train/fashion_mnist.h"
#include "orchestrator/train/job_metrics.h"
#include "orchestrator/train/run.h"
#include "orchestrator/train/synthetic.h"

namespace dojo::train {
namespace detail {
namespace {

using collectives::DType;
using collectives::ReduceOp;

std::string duration_text(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%ldh%02ldm", s / 3600, s / 60 % 60);
  } else {
    std::snprintf(text, sizeof(text), "%ldm%02lds", s / 60, s % 60);
  }
  return text;
}

}  // namespace

void Run::load_data() {
  train_ = load_fashion_mnist(workload_.dataset_dir, "train");
  test_ = load_fashion_mnist(workload_.dataset_dir, "t10k");
}

void Run::plan() {
  global_batch_ = workload_.global_batch;
  shares_ = batch_shares(job_, comm_, options_, global_batch_);
  for (int r = 0; r < comm_.rank(); ++r)
    offset_ += shares_[static_cast<std::size_t>(r)];
  steps_per_epoch_ = static_cast<std::int64_t>(train_.count) / global_batch_;
  if (steps_per_epoch_ == 0) {
    throw Error("the global batch of " + std::to_string(global_batch_) +
                " is larger than the training set of " + std::to_string(train_.count));
  }
  total_steps_ = steps_per_epoch_ * workload_.epochs;
  if (workload_.max_steps > 0)
    total_steps_ = std::min(total_steps_, workload_.max_steps);
}

double Run::evaluate() {
  const std::size_t begin = test_.count * static_cast<std::size_t>(comm_.rank()) / comm_.size();
  const std::size_t end = test_.count * static_cast<std::size_t>(comm_.rank() + 1) / comm_.size();
  double totals[2] = {0, 0};
  constexpr std::size_t kChunk = 1000;
  for (std::size_t at = begin; at < end; at += kChunk) {
    const std::size_t rows = std::min(kChunk, end - at);
    const auto result =
        engine_->evaluate(&test_.images[at * test_.features], &test_.labels[at], rows);
    totals[0] += result.correct;
    totals[1] += result.loss_sum;
  }
  comm_.all_reduce(totals, totals, 2, DType::kF64, ReduceOp::kSum);
  return totals[0] / static_cast<double>(test_.count);
}

void Run::write_summary(const TrainSummary& s) {
  if (leader_)
    train::write_summary(options_.run_dir / "summary.json", job_.name, comm_.size(), global_batch_,
                         s);
}

TrainSummary Run::run() {
  const auto wall_start = Clock::now();
  openblas_set_num_threads(workload_.threads_per_rank);
  load_data();
  plan();

  MlpShape shape;
  shape.inputs = train_.features;
  shape.hidden = workload_.hidden_layers;
  shape.classes = kFashionClasses;
  engine_ = workload_.device == config::Device::kGpu
                ? make_gpu_engine(shape, workload_.seed, workload_.optimizer, total_steps_,
                                  workload_.precision, comm_)
                : make_cpu_engine(shape, workload_.seed, workload_.optimizer, total_steps_);
  collectives::BucketerOptions bucket_options;
  bucket_options.bucket_bytes = static_cast<std::size_t>(job_.collectives.bucket_mib * (1 << 20));
  bucket_options.bf16_compression = job_.collectives.compression == config::Compression::kBf16;
  bucketer_ =
      std::make_unique<collectives::Bucketer>(comm_, engine_->parameter_counts(), bucket_options);

  state_.job = job_.name;
  state_.seed = workload_.seed;
  const std::filesystem::path checkpoint_dir = job_.checkpoint.dir.is_absolute()
                                                   ? job_.checkpoint.dir
                                                   : options_.run_dir / job_.checkpoint.dir;
  CheckpointStore store(checkpoint_dir, job_.checkpoint.keep);
  restore(store);
  if (!job_.checkpoint.automatic)
    checkpoint_every_ = job_.checkpoint.every_steps;

  if (leader_ && job_.metrics.enabled) {
    metrics_ = std::make_unique<JobMetrics>(job_.name, comm_.backend(), "mlp", comm_.size());
    exporter_ = std::make_unique<metrics::Exporter>(
        metrics::ExporterOptions{job_.metrics.bind, job_.metrics.port});
    exporter_->add(metrics_->registry());
    write_file_atomically((options_.run_dir / "metrics.port").string(),
                          std::to_string(exporter_->port()) + "\n");
  }
  {
    std::ostringstream line;
    line << "job " << job_.name << ": " << comm_.size() << " ranks (" << comm_.backend()
         << "), global batch " << global_batch_ << " (this rank "
         << shares_[static_cast<std::size_t>(comm_.rank())] << "), " << total_steps_ << " steps, "
         << engine_->parameter_counts().size() << " gradient tensors in "
         << bucketer_->plan().buckets.size() << " buckets";
    if (exporter_)
      line << ", metrics on " << exporter_->endpoint();
    say(line.str());
  }

  if (leader_) {
    // Appended across attempts, so a resumed run's curve continues where it stopped.
    loss_log_ = std::fopen((options_.run_dir / "loss.csv").c_str(), "a");
    if (loss_log_ == nullptr)
      throw Error("cannot write " + (options_.run_dir / "loss.csv").string() + ": " +
                  errno_text(errno));
  }
  struct Closer {
    std::FILE*& file;
    ~Closer() {
      if (file != nullptr)
        std::fclose(file);
      file = nullptr;
    }
  } close_loss_log{loss_log_};

  if (!options_.heartbeat_address.empty()) {
    heartbeat_ = std::make_unique<heartbeat::Pulse>(
        std::make_unique<heartbeat::Sender>(options_.heartbeat_address),
        heartbeat::Heartbeat{job_.name, options_.attempt, comm_.rank(), this_host(), state_.step,
                             comm_.sequence()});
  }
  auto beat = [&] {
    if (heartbeat_)
      heartbeat_->update(state_.step, comm_.sequence());
  };

  const int share = shares_[static_cast<std::size_t>(comm_.rank())];
  std::vector<float> batch(static_cast<std::size_t>(share) * train_.features);
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(share));
  std::vector<std::uint32_t> order =
      epoch_order(workload_.seed, static_cast<std::uint64_t>(state_.epoch), train_.count);
  std::vector<StepReport> reports(static_cast<std::size_t>(comm_.size()));
  std::vector<std::span<const float>> grads(engine_->parameter_counts().size());
  const std::size_t wire_bytes = bucketer_->wire_bytes();
  const auto loop_start = Clock::now();
  std::int64_t steps_this_attempt = 0;
  double recent_start_step = static_cast<double>(state_.step);
  auto recent_start = Clock::now();
  const std::int64_t progress_every = std::max<std::int64_t>(1, steps_per_epoch_ / 4);

  while (state_.step < total_steps_) {
    const auto step_start = Clock::now();
    // This rank's samples of the global batch.
    const std::size_t first =
        static_cast<std::size_t>(state_.position) + static_cast<std::size_t>(offset_);
    for (int i = 0; i < share; ++i) {
      const std::uint32_t sample = order[first + static_cast<std::size_t>(i)];
      std::memcpy(&batch[static_cast<std::size_t>(i) * train_.features],
                  &train_.images[sample * train_.features], train_.features * sizeof(float));
      labels[static_cast<std::size_t>(i)] = train_.labels[sample];
    }

    // Forward, then backward: each gradient enters the bucketer as soon as it
    // exists, and full buckets are all-reduced while backward goes on.
    const auto result =
        engine_->forward(batch.data(), labels.data(), static_cast<std::size_t>(share));
    fault_point("step.compute");
    bucketer_->begin_step(share, global_batch_);
    engine_->backward([&](std::size_t t) { return bucketer_->gradient(t); },
                      [&](std::size_t t) { bucketer_->ready(t); });
    const double compute = seconds_since(step_start);

    StepReport mine{result.loss_sum, static_cast<double>(result.correct), 0.0, compute};
    const bool stop_here =
        (options_.stop_requested != nullptr && options_.stop_requested->load()) ||
        (options_.stop_after_steps && steps_this_attempt + 1 >= *options_.stop_after_steps);
    mine.stop = stop_here ? 1.0 : 0.0;
    auto gathered = comm_.all_gather_async(&mine, reports.data(), 4, DType::kF64);
    fault_point("step.allreduce");  // gradients and the step report in flight
    bucketer_->finish();
    gathered.wait();

    double loss_sum = 0, correct = 0, slowest = 0, mean_compute = 0;
    int slowest_rank = 0;
    bool stop = false;
    for (int r = 0; r < comm_.size(); ++r) {
      const StepReport& rep = reports[static_cast<std::size_t>(r)];
      loss_sum += rep.loss_sum;
      correct += rep.correct;
      stop = stop || rep.stop != 0;
      mean_compute += rep.compute_seconds / comm_.size();
      if (rep.compute_seconds > slowest) {
        slowest = rep.compute_seconds;
        slowest_rank = r;
      }
    }
    const double loss = loss_sum / global_batch_;

    // Every rank holds the same averaged gradient, so all take the same decision.
    for (std::size_t t = 0; t < grads.size(); ++t)
      grads[t] = bucketer_->gradient(t);
    const double norm = engine_->gradient_norm(grads);
    const auto& opt = workload_.optimizer;
    if (!std::isfinite(norm) || !std::isfinite(loss)) {
      if (workload_.non_finite == config::NonFinitePolicy::kError) {
        char text[256];
        std::snprintf(text, sizeof(text),
                      "non-finite %s at step %lld (loss %g, gradient norm %g); set "
                      "workload.non_finite: skip to skip such steps",
                      std::isfinite(loss) ? "gradient" : "loss",
                      static_cast<long long>(state_.step + 1), loss, norm);
        throw Error(text);
      }
      ++state_.skipped_steps;
      if (metrics_)
        metrics_->skipped_step();
      say("skipping step " + std::to_string(state_.step + 1) + ": non-finite loss or gradient");
    } else {
      const float clip = opt.clip_grad_norm > 0 && norm > opt.clip_grad_norm
                             ? static_cast<float>(opt.clip_grad_norm / (norm + 1e-6))
                             : 1.0f;
      engine_->step(grads, clip);
    }

    ++state_.step;
    ++steps_this_attempt;
    beat();
    if (options_.fault_exit_at_step && *options_.fault_exit_at_step == state_.step) {
      std::fprintf(stderr, "dojo worker: rank %d: injected fault: exiting at step %lld\n",
                   comm_.rank(), static_cast<long long>(state_.step));
      std::fflush(stderr);
      std::_Exit(17);
    }
    state_.position += global_batch_;
    const double step_seconds = seconds_since(step_start);
    step_seconds_total_ += step_seconds;
    summary_.compute_seconds += compute;
    summary_.exposed_communication_seconds += bucketer_->exposed_seconds();
    summary_.communication_seconds += bucketer_->communication_seconds();
    summary_.final_loss = loss;
    if (loss_log_ != nullptr) {
      std::fprintf(loss_log_, "%lld,%.9g\n", static_cast<long long>(state_.step), loss);
      std::fflush(loss_log_);  // the curve is readable while the job runs
    }
    if (metrics_) {
      metrics_->step(step_seconds, static_cast<std::size_t>(global_batch_));
      metrics_->loss(loss);
      metrics_->communication(bucketer_->communication_seconds(), static_cast<double>(wire_bytes),
                              bucketer_->exposed_seconds());
      metrics_->straggler(slowest_rank, mean_compute > 0 ? slowest / mean_compute : 1.0);
    }
    if (steps_this_attempt == 10)
      step_seconds_estimate_ = seconds_since(loop_start) / 10.0;

    const bool epoch_done =
        state_.position + global_batch_ > static_cast<std::int64_t>(train_.count);
    if (epoch_done) {
      ++state_.epoch;
      state_.position = 0;
      order = epoch_order(workload_.seed, static_cast<std::uint64_t>(state_.epoch), train_.count);
    }
    const bool last = state_.step == total_steps_;
    if (state_.step % progress_every == 0 || epoch_done || last) {
      const double elapsed = seconds_since(recent_start);
      const double rate =
          elapsed > 0 ? (state_.step - recent_start_step) * global_batch_ / elapsed : 0;
      if (metrics_)
        metrics_->samples_per_second(rate);
      char line[256];
      std::snprintf(
          line, sizeof(line),
          "epoch %lld/%d step %lld/%lld loss %.4f acc %.4f samples/s %.0f eta %s",
          static_cast<long long>(
              std::min<std::int64_t>(state_.epoch + (epoch_done ? 0 : 1), workload_.epochs)),
          workload_.epochs, static_cast<long long>(state_.step),
          static_cast<long long>(total_steps_), loss, correct / global_batch_, rate,
          duration_text(rate > 0 ? (total_steps_ - state_.step) * global_batch_ / rate : 0)
              .c_str());
      say(line);
      recent_start = Clock::now();
      recent_start_step = static_cast<double>(state_.step);
    }
    if (epoch_done || last) {
      summary_.test_accuracy = evaluate();
      if (metrics_)
        metrics_->test_accuracy(summary_.test_accuracy);
      char line[128];
      std::snprintf(line, sizeof(line), "epoch %lld test accuracy %.4f",
                    static_cast<long long>(epoch_done ? state_.epoch : state_.epoch + 1),
                    summary_.test_accuracy);
      say(line);
    }
    if (stop && !last) {
      maybe_checkpoint(store, true);
      say("stopped at step " + std::to_string(state_.step) + " on request; checkpoint saved");
      summary_.stopped = true;
      break;
    }
    maybe_checkpoint(store, last || (job_.checkpoint.automatic && checkpoint_every_ == 0 &&
                                     steps_this_attempt == 10));
  }

  summary_.steps = state_.step;
  summary_.skipped_steps = state_.skipped_steps;
  summary_.wall_seconds = seconds_since(wall_start);
  summary_.samples_per_second = step_seconds_total_ > 0 ? static_cast<double>(steps_this_attempt) *
                                                              global_batch_ / step_seconds_total_
                                                        : 0;
  write_summary(summary_);
  return summary_;
}

}  // namespace detail

TrainSummary train(const config::JobConfig& job, collectives::Communicator& comm,
                   const WorkerOptions& options, std::ostream& log) {
  if (!job.workload)
    throw Error("job \"" + job.name + "\" has a command, not a built-in workload");
  if (job.workload->device == config::Device::kCpu &&
      comm.memory() != collectives::MemoryKind::kHost) {
    throw Error(
        "workload.device cpu needs host-memory collectives (collectives.backend: mpi), not " +
        comm.backend());
  }
  if (job.resources.ranks && *job.resources.ranks != comm.size()) {
    throw Error("the job asks for " + std::to_string(*job.resources.ranks) + " ranks but runs on " +
                std::to_string(comm.size()) + " (set resources.ranks or mpirun -np to match)");
  }
  if (std::filesystem::create_directories(
          options.run_dir)) {  // owner only, as dojo launch makes it
    std::error_code ec;        // another rank may have made it first
    std::filesystem::permissions(options.run_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  if (job.workload->type == config::WorkloadType::kSynthetic) {
    return run_synthetic(job, comm, options, log);
  }
  detail::Run run(job, comm, options, log);
  return run.run();
}

}  // namespace dojo::train
