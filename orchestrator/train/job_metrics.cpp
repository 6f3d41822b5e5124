#include "orchestrator/train/job_metrics.h"

namespace dojo::train {

JobMetrics::JobMetrics(const std::string& job, const std::string& backend,
                       const std::string& workload, int ranks)
    : registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  const prometheus::Labels labels{{"job_name", job}};
  auto& r = *registry_;
  BuildGauge()
      .Name("dojo_job_info")
      .Help("Static facts of the running training job (value 1).")
      .Register(r)
      .Add({{"job_name", job},
            {"backend", backend},
            {"workload", workload},
            {"ranks", std::to_string(ranks)}})
      .Set(1);
  // Step times from 1 ms to about 65 s, doubling.
  step_seconds_ =
      &BuildHistogram()
           .Name("dojo_job_step_duration_seconds")
           .Help("Wall time of one training step on rank 0.")
           .Register(r)
           .Add(labels, prometheus::Histogram::BucketBoundaries{
                            0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512,
                            1.024, 2.048, 4.096, 8.192, 16.384, 32.768, 65.536});
  steps_ = &BuildCounter()
                .Name("dojo_job_steps_total")
                .Help("Training steps completed.")
                .Register(r)
                .Add(labels);
  samples_ = &BuildCounter()
                  .Name("dojo_job_samples_total")
                  .Help("Training samples processed over all ranks.")
                  .Register(r)
                  .Add(labels);
  throughput_ = &BuildGauge()
                     .Name("dojo_job_samples_per_second")
                     .Help("Training throughput over all ranks, recent average.")
                     .Register(r)
                     .Add(labels);
  loss_ = &BuildGauge()
               .Name("dojo_job_loss")
               .Help("Mean training loss of the last step.")
               .Register(r)
               .Add(labels);
  accuracy_ = &BuildGauge()
                   .Name("dojo_job_test_accuracy_ratio")
                   .Help("Accuracy on the test set after the last evaluation (0-1).")
                   .Register(r)
                   .Add(labels);
  allreduce_seconds_ = &BuildCounter()
                            .Name("dojo_job_allreduce_seconds_total")
                            .Help("Time gradient all-reduces were in flight on rank 0.")
                            .Register(r)
                            .Add(labels);
  allreduce_bytes_ = &BuildCounter()
                          .Name("dojo_job_allreduce_bytes_total")
                          .Help("Gradient bytes all-reduced by rank 0.")
                          .Register(r)
                          .Add(labels);
  exposed_seconds_ = &BuildCounter()
                          .Name("dojo_job_exposed_communication_seconds_total")
                          .Help("Communication time not hidden behind backward compute.")
                          .Register(r)
                          .Add(labels);
  checkpoint_seconds_ = &BuildCounter()
                             .Name("dojo_job_checkpoint_seconds_total")
                             .Help("Time spent writing checkpoints.")
                             .Register(r)
                             .Add(labels);
  checkpoints_ = &BuildCounter()
                      .Name("dojo_job_checkpoints_total")
                      .Help("Checkpoints written.")
                      .Register(r)
                      .Add(labels);
  skipped_ = &BuildCounter()
                  .Name("dojo_job_skipped_steps_total")
                  .Help("Steps skipped for a non-finite loss or gradient.")
                  .Register(r)
                  .Add(labels);
  slowest_rank_ = &BuildGauge()
                       .Name("dojo_job_slowest_rank")
                       .Help("Rank with the longest compute time in the last step.")
                       .Register(r)
                       .Add(labels);
  straggler_ratio_ = &BuildGauge()
                          .Name("dojo_job_straggler_ratio")
                          .Help("Slowest rank's compute time over the mean of all ranks.")
                          .Register(r)
                          .Add(labels);
}

void JobMetrics::step(double seconds, std::size_t samples) {
  step_seconds_->Observe(seconds);
  steps_->Increment();
  samples_->Increment(static_cast<double>(samples));
}

void JobMetrics::communication(double allreduce_seconds, double bytes, double exposed_seconds) {
  allreduce_seconds_->Increment(allreduce_seconds);
  allreduce_bytes_->Increment(bytes);
  exposed_seconds_->Increment(exposed_seconds);
}

void JobMetrics::checkpoint(double seconds) {
  checkpoint_seconds_->Increment(seconds);
  checkpoints_->Increment();
}

void JobMetrics::straggler(int rank, double ratio_to_mean) {
  slowest_rank_->Set(rank);
  straggler_ratio_->Set(ratio_to_mean);
}

}  // namespace dojo::train
