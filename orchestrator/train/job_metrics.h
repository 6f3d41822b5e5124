#pragma once
// The Prometheus metrics of a training job, served by rank 0.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace dojo::train {

/// Names follow Prometheus conventions: the dojo_job_ prefix, base units,
/// _total counters; the only label is the job name (bounded).
class JobMetrics {
 public:
  JobMetrics(const std::string& job, const std::string& backend, const std::string& workload,
             int ranks);

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  void step(double seconds, std::size_t samples);
  void loss(double value) { loss_->Set(value); }
  void samples_per_second(double value) { throughput_->Set(value); }
  void test_accuracy(double ratio) { accuracy_->Set(ratio); }
  void communication(double allreduce_seconds, double bytes, double exposed_seconds);
  void checkpoint(double seconds);
  void skipped_step() { skipped_->Increment(); }
  /// The slowest rank of the last measured step and its compute time over the mean.
  void straggler(int rank, double ratio_to_mean);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Histogram* step_seconds_;
  prometheus::Counter* steps_;
  prometheus::Counter* samples_;
  prometheus::Gauge* throughput_;
  prometheus::Gauge* loss_;
  prometheus::Gauge* accuracy_;
  prometheus::Counter* allreduce_seconds_;
  prometheus::Counter* allreduce_bytes_;
  prometheus::Counter* exposed_seconds_;
  prometheus::Counter* checkpoint_seconds_;
  prometheus::Counter* checkpoints_;
  prometheus::Counter* skipped_;
  prometheus::Gauge* slowest_rank_;
  prometheus::Gauge* straggler_ratio_;
};

}  // namespace dojo::train
