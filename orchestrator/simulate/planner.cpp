#include "orchestrator/simulate/planner.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "collectives/bucketer.h"
#include "collectives/model_shapes.h"
#include "common/error.h"
#include "orchestrator/config/reader.h"
#include "orchestrator/reliability/young_daly.h"

namespace dojo::simulate {
namespace {

constexpr int kFashionMnistInputs = 28 * 28;
constexpr int kFashionMnistClasses = 10;

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", v);
  return text;
}

const config::Accelerator& pick_accelerator(const config::ClusterConfig& cluster,
                                            const std::string& wanted, int& devices_per_node) {
  // By default the accelerator that holds most of the cluster's H100e.
  std::map<std::string, double> h100e;
  for (const config::ClusterNode& node : cluster.nodes) {
    const config::Accelerator* a = cluster.catalog.find(node.accelerator);
    if (node.state == config::NodeState::kUp && a != nullptr)
      h100e[node.accelerator] += node.slots * a->h100e();
  }
  std::string name = wanted;
  if (name.empty()) {
    double most = -1;
    for (const auto& [accelerator, total] : h100e) {
      if (total > most) {
        most = total;
        name = accelerator;
      }
    }
    if (name.empty())
      throw UsageError("cluster \"" + cluster.name + "\" has no up node to plan with");
  }
  const config::Accelerator* accelerator = cluster.catalog.find(name);
  if (accelerator == nullptr) {
    const std::string hint = config::closest_match(name, cluster.catalog.names());
    throw UsageError("unknown accelerator \"" + name + "\" in " + cluster.catalog.source.string() +
                     (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  devices_per_node = 0;
  for (const config::ClusterNode& node : cluster.nodes) {
    if (node.accelerator == name)
      devices_per_node = std::max(devices_per_node, node.slots);
  }
  if (devices_per_node == 0) {
    throw UsageError("cluster \"" + cluster.name + "\" has no node of accelerator \"" + name +
                     "\", so its devices per node are unknown");
  }
  return *accelerator;
}

}  // namespace

double ModelProfile::parameters() const {
  double total = 0;
  for (std::size_t t : tensors)
    total += static_cast<double>(t);
  return total;
}

ModelProfile profile_of(const config::WorkloadConfig& workload) {
  ModelProfile profile;
  if (workload.type == config::WorkloadType::kSynthetic) {
    profile.name = workload.model;
    profile.tensors = collectives::model_gradient_shapes(workload.model);
    const double gflop = workload.gflop_per_sample > 0
                             ? workload.gflop_per_sample
                             : collectives::model_gflop_per_sample(workload.model);
    profile.flop_per_sample = gflop * 1e9;
    return profile;
  }
  // The MLP: a weight matrix and a bias per layer; 2 FLOPs per weight
  // forward and 4 backward.
  profile.name = "mlp " + std::to_string(kFashionMnistInputs);
  int in = kFashionMnistInputs;
  std::vector<int> widths = workload.hidden_layers;
  widths.push_back(kFashionMnistClasses);
  double weights = 0;
  for (int out : widths) {
    profile.tensors.push_back(static_cast<std::size_t>(in) * static_cast<std::size_t>(out));
    profile.tensors.push_back(static_cast<std::size_t>(out));
    weights += static_cast<double>(in) * out;
    profile.name += "-" + std::to_string(out);
    in = out;
  }
  profile.flop_per_sample = 6.0 * weights;
  return profile;
}

PlanInputs plan_inputs(const config::JobConfig& job, const config::ClusterConfig* cluster,
                       const PlanOptions& options) {
  if (cluster == nullptr) {
    if (!job.cluster)
      throw UsageError("job \"" + job.name + "\" names no cluster; pass --cluster C.yaml");
    cluster = &*job.cluster;
  }
  if (!job.workload) {
    throw UsageError("job \"" + job.name +
                     "\" runs a command, so its model is unknown; simulate a job with a "
                     "`workload:` (mlp or synthetic)");
  }
  if (!(options.mfu > 0) || options.mfu > 1)
    throw UsageError("--mfu must be in (0, 1], got " + number(options.mfu));

  PlanInputs in;
  in.job = job.name;
  in.cluster = cluster->name;
  const config::Accelerator& accelerator =
      pick_accelerator(*cluster, options.accelerator, in.devices_per_node);
  in.accelerator = accelerator.name;
  in.h100e_per_device = accelerator.h100e();
  if (!(in.h100e_per_device > 0) || !(accelerator.bf16_tflops > 0)) {
    throw UsageError("accelerator \"" + accelerator.name +
                     "\" has no positive bf16_tflops or H100e factor to plan with");
  }
  in.device_peak_flops = accelerator.bf16_tflops * 1e12;
  in.overlap = accelerator.kind != config::AcceleratorKind::kCpu;
  in.nccl_protocols = in.overlap;
  in.mfu = options.mfu;
  if (job.workload->step_overhead_ms) {
    in.step_overhead_s = *job.workload->step_overhead_ms / 1e3;
    in.step_overhead_source = "workload.step_overhead_ms";
  } else if (accelerator.kind == config::AcceleratorKind::kGpu) {
    in.step_overhead_s = kDefaultGpuStepOverheadSeconds;
    in.step_overhead_source = "GPU default, fitted on MLPerf ResNet-50 runs on H100";
  } else {
    in.step_overhead_source =
        "not modelled: no published figure for this accelerator; measure it with dojo simulate "
        "calibrate-step";
  }
  in.model = profile_of(*job.workload);
  in.bucket_bytes = job.collectives.bucket_mib * 1024.0 * 1024.0;
  in.element_bytes = job.collectives.compression == config::Compression::kBf16 ||
                             job.workload->precision == config::Precision::kBf16
                         ? 2
                         : 4;
  in.network = cluster->network;
  in.device_mtbf_hours = cluster->device_mtbf_hours;

  if (options.per_device_batch) {
    in.per_device_batch = *options.per_device_batch;
  } else {
    const double ranks =
        job.resources.ranks
            ? *job.resources.ranks
            : std::max(1.0, std::round(job.resources.h100e.value_or(1.0) / in.h100e_per_device));
    in.per_device_batch = job.workload->global_batch / ranks;
  }
  if (!(in.per_device_batch > 0))
    throw UsageError("--per-device-batch must be greater than 0, got " +
                     number(in.per_device_batch));

  in.save_seconds = options.save_seconds.value_or(job.checkpoint.save_time_s);
  if (!(in.save_seconds > 0)) {
    throw UsageError(
        "the failure model needs a checkpoint save time: set checkpoint.save_time_s "
        "in " +
        job.source.string() + " or pass --save-s SECONDS");
  }
  in.restart_seconds = options.restart_seconds.value_or(job.restarts.backoff_s);
  if (!(in.restart_seconds >= 0))
    throw UsageError("--restart-s must not be negative, got " + number(in.restart_seconds));
  return in;
}

long devices_for_h100e(const PlanInputs& inputs, double h100e) {
  if (!(h100e > 0))
    throw UsageError("H100e must be greater than 0, got " + number(h100e));
  return std::max(1L, std::lround(h100e / inputs.h100e_per_device));
}

Topology topology_of(const PlanInputs& inputs, long devices) {
  Topology topology;
  topology.devices = devices;
  topology.devices_per_node = inputs.devices_per_node;
  topology.network = inputs.network;
  topology.nccl_protocols = inputs.nccl_protocols;
  return topology;
}

StepEstimate estimate_step(const PlanInputs& inputs, const Topology& topology) {
  validate(topology);
  if (!(inputs.device_peak_flops > 0) || !(inputs.mfu > 0) || !(inputs.per_device_batch > 0))
    throw Error("the step model needs a positive peak, MFU and batch");
  StepEstimate step;
  step.compute_s = inputs.model.flop_per_sample * inputs.per_device_batch /
                   (inputs.device_peak_flops * inputs.mfu);
  const double forward_s = step.compute_s / 3.0;
  const double backward_s = step.compute_s - forward_s;

  const auto plan = collectives::BucketPlan::make(
      inputs.model.tensors, static_cast<std::size_t>(inputs.bucket_bytes), inputs.element_bytes);
  const double total = inputs.model.parameters();
  double written = 0;  // gradient elements backward has produced
  double comm_free = 0;
  for (const auto& bucket : plan.buckets) {
    double elements = 0;
    for (std::size_t t : bucket.tensors)
      elements += static_cast<double>(inputs.model.tensors[t]);
    written += elements;
    BucketTiming timing;
    timing.bytes = elements * static_cast<double>(inputs.element_bytes);
    timing.ready_s = forward_s + backward_s * (total > 0 ? written / total : 1.0);
    const AlgorithmChoice choice = choose_algorithm(topology, timing.bytes);
    timing.choice = choice;
    timing.start_s = std::max(timing.ready_s, comm_free);
    timing.end_s = timing.start_s + choice.seconds;
    comm_free = timing.end_s;
    step.comm_s += choice.seconds;
    step.buckets.push_back(timing);
  }
  const double busy =
      inputs.overlap ? std::max(step.compute_s, comm_free) : step.compute_s + step.comm_s;
  step.exposed_comm_s = busy - step.compute_s;
  step.overhead_s = inputs.step_overhead_s;
  step.step_s = busy + step.overhead_s;
  return step;
}

ScaleEstimate simulate_scale(const PlanInputs& inputs, long devices) {
  ScaleEstimate s;
  const Topology topology = topology_of(inputs, devices);
  s.devices = devices;
  s.nodes = topology.nodes();
  s.h100e = static_cast<double>(devices) * inputs.h100e_per_device;
  s.step = estimate_step(inputs, topology);
  s.samples_per_s = inputs.per_device_batch * static_cast<double>(devices) / s.step.step_s;
  const StepEstimate one_node = estimate_step(inputs, topology_of(inputs, inputs.devices_per_node));
  s.scaling_efficiency = one_node.step_s / s.step.step_s;

  std::map<double, int, std::greater<>> sizes;
  for (const BucketTiming& b : s.step.buckets)
    ++sizes[b.bytes];
  for (const auto& [bytes, count] : sizes)
    s.bucket_sizes.push_back({bytes, count, choose_algorithm(topology, bytes)});

  s.job_mtbf_s =
      reliability::job_mtbf_seconds(inputs.device_mtbf_hours, static_cast<double>(devices));
  s.interruptions_per_day = reliability::interruptions_per_day(s.job_mtbf_s);
  s.checkpoint_interval_s =
      reliability::young_daly_interval_seconds(inputs.save_seconds, s.job_mtbf_s);
  s.checkpoint_interval_steps = s.checkpoint_interval_s / s.step.step_s;
  s.goodput = reliability::expected_goodput(s.checkpoint_interval_s, inputs.save_seconds,
                                            inputs.restart_seconds, s.job_mtbf_s);
  return s;
}

}  // namespace dojo::simulate
