#include "orchestrator/train/trainer.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "common/fault.h"
#include "orchestrator/train/train_support.h"
#include "orchestrator/train/trainer_internal.h"

namespace dojo::train {
namespace detail {

using collectives::DType;

namespace {

/// The step after which the step time is measured (warm-up excluded from
/// nothing: the first steps are slower) for an automatic checkpoint interval.
constexpr std::int64_t kStepsToMeasure = 10;

}  // namespace

Trainer::Trainer(const config::JobConfig& job, Communicator& comm, const WorkerOptions& options,
                 std::ostream& log)
    : job_(job),
      config_(*job.workload),
      comm_(comm),
      options_(options),
      log_(log),
      leader_(comm.rank() == 0) {}

/// Shares, the workload, the bucketer, resume, metrics, the start line,
/// the loss curve and heartbeats.
void Trainer::start() {
  shares_ = batch_shares(job_, comm_, options_, config_.global_batch);
  share_ = shares_[static_cast<std::size_t>(comm_.rank())];
  for (int r = 0; r < comm_.rank(); ++r)
    offset_ += shares_[static_cast<std::size_t>(r)];
  workload_ = config_.type == config::WorkloadType::kSynthetic
                  ? make_synthetic_workload(job_, comm_, share_)
                  : make_mlp_workload(job_, comm_);
  total_steps_ = workload_->total_steps();
  collectives::BucketerOptions bucket_options;
  bucket_options.bucket_bytes = static_cast<std::size_t>(job_.collectives.bucket_mib * (1 << 20));
  bucket_options.bf16_compression = job_.collectives.compression == config::Compression::kBf16;
  bucketer_ =
      std::make_unique<collectives::Bucketer>(comm_, workload_->parameter_counts(), bucket_options);

  state_.job = job_.name;
  state_.seed = config_.seed;
  const std::filesystem::path checkpoint_dir = job_.checkpoint.dir.is_absolute()
                                                   ? job_.checkpoint.dir
                                                   : options_.run_dir / job_.checkpoint.dir;
  store_ = std::make_unique<CheckpointStore>(checkpoint_dir, job_.checkpoint.keep);
  restore();
  if (!job_.checkpoint.automatic)
    checkpoint_every_ = job_.checkpoint.every_steps;
  workload_->begin_epoch(state_.epoch);

  if (leader_ && job_.metrics.enabled) {
    metrics_ = std::make_unique<JobMetrics>(job_.name, comm_.backend(), workload_->model_label(),
                                            comm_.size());
    exporter_ = std::make_unique<metrics::Exporter>(
        metrics::ExporterOptions{job_.metrics.bind, job_.metrics.port});
    exporter_->add(metrics_->registry());
    write_file_atomically((options_.run_dir / "metrics.port").string(),
                          std::to_string(exporter_->port()) + "\n");
  }
  const StartFacts facts{comm_.size(), comm_.backend(), config_.global_batch,
                         share_,       total_steps_,    bucketer_->plan().buckets.size()};
  say(workload_->start_line(facts) +
      (exporter_ ? ", metrics on " + exporter_->endpoint() : std::string()));
  if (leader_ && workload_->has_loss())
    open_loss_log();
  if (!options_.heartbeat_address.empty()) {
    beat_.job = job_.name;
    beat_.attempt = options_.attempt;
    beat_.rank = comm_.rank();
    beat_.host = this_host();
    beat_.step = state_.step;
    beat_.sequence = comm_.sequence();
    heartbeat_ = std::make_unique<heartbeat::Pulse>(
        std::make_unique<heartbeat::Sender>(options_.heartbeat_address), beat_);
    // The launcher asks for the flight recorder with SIGUSR2 during a hang.
    flight_ = std::make_unique<FlightResponder>(
        comm_, options_.heartbeat_address, beat_,
        options_.run_dir / ("flight-attempt-" + std::to_string(options_.attempt) + "-rank-" +
                            std::to_string(comm_.rank()) + ".txt"));
  }
}

/// The launcher measures every job from its ranks' heartbeats: this rank's
/// running totals of step time, of the part not spent computing, of samples.
void Trainer::send_heartbeat(const StepFigures& figures, double step_seconds) {
  beat_.step = state_.step;
  beat_.sequence = comm_.sequence();
  beat_.step_seconds += step_seconds;
  beat_.comm_seconds += std::max(0.0, step_seconds - figures.compute_seconds);
  beat_.samples += share_;
  beat_.loss = figures.loss;
  heartbeat_->update(beat_);
}

/// Appended across attempts, so a resumed run's curve continues where it stopped.
void Trainer::open_loss_log() {
  const std::filesystem::path path = options_.run_dir / "loss.csv";
  loss_log_ = std::fopen(path.c_str(), "a");
  if (loss_log_ == nullptr)
    throw Error("cannot write " + path.string() + ": " + errno_text(errno));
}

/// What every rank's report says; every rank computes the same from the
/// same all-gathered reports, so all take the same decisions.
StepFigures Trainer::agree(const std::vector<StepReport>& reports, double compute_seconds) const {
  StepFigures f;
  double loss_sum = 0, correct = 0, slowest = 0, mean_compute = 0;
  for (int r = 0; r < comm_.size(); ++r) {
    const StepReport& rep = reports[static_cast<std::size_t>(r)];
    loss_sum += rep.loss_sum;
    correct += rep.correct;
    f.stop = f.stop || rep.stop != 0;
    mean_compute += rep.compute_seconds / comm_.size();
    if (rep.compute_seconds > slowest) {
      slowest = rep.compute_seconds;
      f.slowest_rank = r;
    }
  }
  f.loss = loss_sum / config_.global_batch;
  f.accuracy = correct / config_.global_batch;
  f.compute_seconds = compute_seconds;
  f.straggler_ratio = mean_compute > 0 ? slowest / mean_compute : 1.0;
  return f;
}

/// Forward, then backward: each gradient enters the bucketer as soon as it
/// exists, and full buckets are all-reduced while backward goes on. The
/// step report (loss, stop request, compute time) travels with them.
StepFigures Trainer::step() {
  const auto step_start = Clock::now();
  const ForwardResult result = workload_->forward(state_.position + offset_, share_);
  fault_point("step.compute");
  bucketer_->begin_step(share_, config_.global_batch);
  workload_->backward(*bucketer_);
  const double compute = seconds_since(step_start) * options_.clock_skew;

  const bool stop_here =
      (options_.stop_requested != nullptr && options_.stop_requested->load()) ||
      (options_.stop_after_steps && steps_this_attempt_ + 1 >= *options_.stop_after_steps);
  StepReport mine{result.loss_sum, result.correct, stop_here ? 1.0 : 0.0, compute};
  std::vector<StepReport> reports(static_cast<std::size_t>(comm_.size()));
  auto gathered = comm_.control_all_gather_async(&mine, reports.data(), 4, DType::kF64);
  fault_point("step.allreduce");  // gradients and the step report in flight
  // A hang report names the collective a rank waits in.
  if (heartbeat_)
    heartbeat_->in_collective("all_reduce", comm_.sequence());
  bucketer_->finish();
  gathered.wait();
  if (heartbeat_)
    heartbeat_->in_collective("", comm_.sequence());
  return agree(reports, compute);
}

/// The optimizer step, or a skipped one under the non-finite policy. Every
/// rank holds the same averaged gradient, so all take the same decision.
void Trainer::update(double loss) {
  std::vector<std::span<const float>> grads(workload_->parameter_counts().size());
  for (std::size_t t = 0; t < grads.size(); ++t)
    grads[t] = bucketer_->gradient(t);
  const double norm = workload_->gradient_norm(grads);
  if (std::isfinite(norm) && std::isfinite(loss)) {
    const double limit = config_.optimizer.clip_grad_norm;
    const float clip = limit > 0 && norm > limit ? static_cast<float>(limit / (norm + 1e-6)) : 1.0f;
    workload_->apply(grads, clip);
    return;
  }
  if (config_.non_finite == config::NonFinitePolicy::kError) {
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
}

/// The step's figures into the summary, the loss curve and the metrics.
void Trainer::record(const StepFigures& f, double step_seconds) {
  step_seconds_total_ += step_seconds;
  summary_.compute_seconds += f.compute_seconds;
  summary_.exposed_communication_seconds += bucketer_->exposed_seconds();
  summary_.communication_seconds += bucketer_->communication_seconds();
  if (workload_->has_loss())
    summary_.final_loss = f.loss;
  if (loss_log_ != nullptr) {
    std::fprintf(loss_log_, "%lld,%.9g\n", static_cast<long long>(state_.step), f.loss);
    std::fflush(loss_log_);  // the curve is readable while the job runs
  }
  if (!metrics_)
    return;
  metrics_->step(step_seconds, static_cast<std::size_t>(config_.global_batch));
  if (workload_->has_loss())
    metrics_->loss(f.loss);
  metrics_->communication(bucketer_->communication_seconds(),
                          static_cast<double>(bucketer_->wire_bytes()),
                          bucketer_->exposed_seconds());
  metrics_->straggler(f.slowest_rank, f.straggler_ratio);
}

/// Moves to the next global batch; true when the epoch ended (the next
/// epoch's order is then set up).
bool Trainer::end_of_epoch() {
  state_.position += config_.global_batch;
  const bool done =
      state_.position + config_.global_batch > workload_->steps_per_epoch() * config_.global_batch;
  if (done) {
    ++state_.epoch;
    state_.position = 0;
    workload_->begin_epoch(state_.epoch);
  }
  return done;
}

void Trainer::report_progress(const StepFigures& f, bool epoch_done, bool last) {
  if (state_.step % workload_->progress_every() != 0 && !epoch_done && !last)
    return;
  const double elapsed = seconds_since(recent_start_);
  Progress p;
  p.samples_per_second = elapsed > 0 ? static_cast<double>(state_.step - recent_start_step_) *
                                           config_.global_batch / elapsed
                                     : 0;
  p.epoch = std::min<std::int64_t>(state_.epoch + (epoch_done ? 0 : 1), config_.epochs);
  p.epochs = config_.epochs;
  p.step = state_.step;
  p.total_steps = total_steps_;
  p.loss = f.loss;
  p.accuracy = f.accuracy;
  p.compute_seconds = f.compute_seconds;
  p.exposed_seconds = bucketer_->exposed_seconds();
  p.eta_seconds = p.samples_per_second > 0 ? static_cast<double>(total_steps_ - state_.step) *
                                                 config_.global_batch / p.samples_per_second
                                           : 0;
  if (metrics_)
    metrics_->samples_per_second(p.samples_per_second);
  say(workload_->progress_line(p));
  recent_start_ = Clock::now();
  recent_start_step_ = state_.step;
}

/// Test accuracy at the end of each epoch and of the run (all ranks: a collective).
void Trainer::evaluate(bool epoch_done) {
  const std::optional<double> accuracy = workload_->evaluate();
  if (!accuracy)
    return;
  summary_.test_accuracy = *accuracy;
  if (metrics_)
    metrics_->test_accuracy(*accuracy);
  char line[128];
  std::snprintf(line, sizeof(line), "epoch %lld test accuracy %.4f",
                static_cast<long long>(epoch_done ? state_.epoch : state_.epoch + 1), *accuracy);
  say(line);
}

void Trainer::finish(Clock::time_point wall_start) {
  summary_.steps = state_.step;
  summary_.skipped_steps = state_.skipped_steps;
  summary_.wall_seconds = seconds_since(wall_start);
  // Figures this attempt did not measure are unknown (null), never 0.
  const double unknown = std::numeric_limits<double>::quiet_NaN();
  summary_.samples_per_second =
      step_seconds_total_ > 0
          ? static_cast<double>(steps_this_attempt_) * config_.global_batch / step_seconds_total_
          : unknown;
  if (steps_this_attempt_ == 0)
    summary_.final_loss = unknown;
  if (!leader_)
    return;
  const std::filesystem::path path = options_.run_dir / "summary.json";
  if (steps_this_attempt_ == 0 && !summary_.stopped && std::filesystem::exists(path)) {
    say("no step was left to run: the summary.json of the run that trained is kept");
    return;
  }
  write_summary(path, job_.name, comm_.size(), config_.global_batch, summary_);
}

TrainSummary Trainer::run() {
  const auto wall_start = Clock::now();
  start();
  struct Closer {
    std::FILE*& file;
    ~Closer() {
      if (file != nullptr)
        std::fclose(file);
      file = nullptr;
    }
  } close_loss_log{loss_log_};

  loop_start_ = recent_start_ = Clock::now();
  recent_start_step_ = state_.step;
  if (state_.step >= total_steps_) {
    // Resumed from the final checkpoint: the restored model is evaluated, not
    // reported as untrained.
    say("the checkpoint is at the final step " + std::to_string(state_.step) +
        ": no step left to run");
    evaluate(false);
  }
  while (state_.step < total_steps_) {
    const auto step_start = Clock::now();
    const StepFigures figures = step();
    update(figures.loss);
    ++state_.step;
    ++steps_this_attempt_;
    if (heartbeat_)
      send_heartbeat(figures, seconds_since(step_start));
    if (options_.fault_exit_at_step && *options_.fault_exit_at_step == state_.step) {
      std::fprintf(stderr, "dojo worker: rank %d: injected fault: exiting at step %lld\n",
                   comm_.rank(), static_cast<long long>(state_.step));
      std::fflush(stderr);
      std::_Exit(kExitInjectedFault);
    }
    record(figures, seconds_since(step_start));
    if (steps_this_attempt_ == kStepsToMeasure)
      step_seconds_estimate_ = seconds_since(loop_start_) * options_.clock_skew / kStepsToMeasure;

    const bool epoch_done = end_of_epoch();
    const bool last = state_.step == total_steps_;
    report_progress(figures, epoch_done, last);
    if (epoch_done || last)
      evaluate(epoch_done);
    if (figures.stop && !last) {
      maybe_checkpoint(true);
      say("stopped at step " + std::to_string(state_.step) + " on request; checkpoint saved");
      summary_.stopped = true;
      break;
    }
    maybe_checkpoint(last || (job_.checkpoint.automatic && checkpoint_every_ == 0 &&
                              steps_this_attempt_ == kStepsToMeasure));
  }
  if (heartbeat_) {
    // Done: the launcher stops watching this rank, and learns of the last save.
    beat_.done = true;
    heartbeat_->update(beat_);
  }
  finish(wall_start);
  return summary_;
}

}  // namespace detail

TrainSummary train(const config::JobConfig& job, collectives::Communicator& comm,
                   const WorkerOptions& options, std::ostream& log) {
  if (!job.workload)
    throw Error("job \"" + job.name + "\" has a command, not a built-in workload");
  if (job.workload->device == config::Device::kCpu && !comm.host_can_access()) {
    throw Error(
        "workload.device cpu needs host-memory collectives (collectives.backend: mpi), not " +
        comm.backend());
  }
  if (job.resources.ranks && *job.resources.ranks != comm.size()) {
    throw Error("the job asks for " + std::to_string(*job.resources.ranks) + " ranks but runs on " +
                std::to_string(comm.size()) + " (set resources.ranks or mpirun -np to match)");
  }
  // Owner only, as dojo launch makes it; another rank may have made it first.
  if (std::filesystem::create_directories(options.run_dir)) {
    std::error_code ec;
    std::filesystem::permissions(options.run_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  detail::Trainer trainer(job, comm, options, log);
  return trainer.run();
}

}  // namespace dojo::train
