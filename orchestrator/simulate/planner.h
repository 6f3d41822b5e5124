#pragma once
// The scale planner: one data-parallel step of a job's model at a given
// number of devices (compute, bucketed all-reduce overlapped with backward),
// and what failures cost at that scale (Young-Daly interval, goodput).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/config/job.h"
#include "orchestrator/simulate/allreduce_model.h"

namespace dojo::simulate {

/// Llama 3 405B ran at 38-43% model FLOPs utilisation on 16,384 H100s.
inline constexpr double kDefaultMfu = 0.40;
/// The fixed per-step cost of GPU ranks when the job does not give one:
/// fitted from published MLPerf Training ResNet-50 runs on H100 (8 GPUs at
/// 400 samples each and 64 at 50, both 35 epochs of a 3,200 global batch:
/// 57.7 ms and 11.4 ms a step give 4.8 ms + 0.132 ms a sample; the 3,584-GPU
/// run is the check, docs/SCALING.md). CPU and Dojo ranks have no published
/// figure: 0 there until `dojo simulate calibrate-step` measures one.
inline constexpr double kDefaultGpuStepOverheadSeconds = 4.8e-3;

/// The model a job trains, as the planner sees it.
struct ModelProfile {
  std::string name;                  ///< "resnet50", "mlp 784-256-128-100-10"
  std::vector<std::size_t> tensors;  ///< gradient elements per tensor, registration order
  double flop_per_sample = 0;        ///< forward + backward
  double parameters() const;
};

/// The profile of a job's workload: the synthetic model's gradient shapes and
/// FLOPs (or its `gflop_per_sample`), or the MLP's layers (6 FLOPs per weight
/// per sample). Throws dojo::Error for an unknown model.
ModelProfile profile_of(const config::WorkloadConfig& workload);

/// Everything a simulation needs, resolved from a job, its cluster and flags.
struct PlanInputs {
  std::string job;
  std::string cluster;
  std::string accelerator;
  ModelProfile model;
  double per_device_batch = 0;     ///< samples per device per step (weak scaling)
  double bucket_bytes = 25 << 20;  ///< gradient fusion bucket
  std::size_t element_bytes = 4;   ///< gradient bytes on the wire (2 with bf16)
  double device_peak_flops = 0;    ///< bf16 dense peak of one device
  double mfu = kDefaultMfu;
  /// The step's cost that does not shrink with the batch: optimizer, kernel
  /// launches, input pipeline, synchronisation (workload.step_overhead_ms).
  double step_overhead_s = 0;
  /// Where step_overhead_s came from, for the report.
  std::string step_overhead_source = "not modelled";
  double h100e_per_device = 1;
  int devices_per_node = 8;
  config::NetworkConfig network;
  double device_mtbf_hours = config::kDefaultDeviceMtbfHours;
  /// All-reduce runs beside backward (GPUs: NCCL on its own SMs and copy
  /// engines). Off for CPU ranks, whose reductions take the cores backward
  /// needs: there communication adds to compute.
  bool overlap = true;
  bool nccl_protocols = true;  ///< GPU ranks; CPU ranks use MPI (Simple only)
  double save_seconds = 0;     ///< time to write one checkpoint
  double restart_seconds = 0;  ///< from a failure to training again, work lost aside
};

/// Choices a user makes on the command line.
struct PlanOptions {
  std::string accelerator;  ///< empty: the one with most of the up nodes' H100e
  double mfu = kDefaultMfu;
  std::optional<double> per_device_batch;  ///< default: the job's global batch / its ranks
  std::optional<double> save_seconds;      ///< default: the job's checkpoint.save_time_s
  std::optional<double> restart_seconds;   ///< default: the job's restarts.backoff_s
};

/// Resolves a job with a cluster (`job.cluster` when `cluster` is null).
/// Throws UsageError for what the user must fix (an unknown accelerator or
/// one the cluster lacks, a command job without a model, no save time, bad numbers).
PlanInputs plan_inputs(const config::JobConfig& job, const config::ClusterConfig* cluster,
                       const PlanOptions& options);

/// One bucket on the step's timeline (seconds from the start of the step).
struct BucketTiming {
  double bytes = 0;
  double ready_s = 0;  ///< its last gradient is written
  double start_s = 0;  ///< the all-reduce starts (after the previous one)
  double end_s = 0;
  AlgorithmChoice choice;
};

struct StepEstimate {
  double compute_s = 0;       ///< forward (1/3) + backward (2/3) at peak x MFU
  double overhead_s = 0;      ///< the fixed per-step cost, after the all-reduces
  double step_s = 0;          ///< max(compute, last all-reduce's end) + overhead
  double exposed_comm_s = 0;  ///< step - compute - overhead
  double comm_s = 0;          ///< all-reduce time, overlapped or not
  std::vector<BucketTiming> buckets;
};

/// One step on `topology`: buckets (as collectives::BucketPlan makes them)
/// become ready as backward writes their gradients, proportionally to bytes,
/// and are all-reduced one after another with the fastest algorithm each.
/// Without `overlap` the step is compute plus every all-reduce.
StepEstimate estimate_step(const PlanInputs& inputs, const Topology& topology);

struct BucketSize {
  double bytes = 0;
  int count = 0;
  AlgorithmChoice choice;
};

struct ScaleEstimate {
  double h100e = 0;
  long devices = 0;
  long nodes = 0;
  StepEstimate step;
  double samples_per_s = 0;
  double scaling_efficiency = 0;         ///< one node's step time / this step time (weak scaling)
  std::vector<BucketSize> bucket_sizes;  ///< distinct bucket sizes, largest first
  double job_mtbf_s = 0;
  double interruptions_per_day = 0;
  double checkpoint_interval_s = 0;  ///< Young-Daly, the function `checkpoint: auto` uses
  double checkpoint_interval_steps = 0;
  double goodput = 0;  ///< expected effective training time ratio
};

/// Devices for `h100e` H100-equivalents of the plan's accelerator (nearest
/// whole device, at least one). Throws UsageError for a non-positive h100e.
long devices_for_h100e(const PlanInputs& inputs, double h100e);

Topology topology_of(const PlanInputs& inputs, long devices);

/// The step, its scaling efficiency against one node, and the failure model
/// at `devices` devices.
ScaleEstimate simulate_scale(const PlanInputs& inputs, long devices);

}  // namespace dojo::simulate
