// The scale planner: the all-reduce cost model and step timeline against
// hand-computed cases, monotonicity, the failure model, calibration, and
// bad inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "collectives/bench/bench_csv.h"
#include "collectives/model_shapes.h"
#include "common/error.h"
#include "orchestrator/config/loader.h"
#include "orchestrator/reliability/young_daly.h"
#include "orchestrator/simulate/allreduce_model.h"
#include "orchestrator/simulate/calibrate.h"
#include "orchestrator/simulate/planner.h"
#include "orchestrator/simulate/report.h"
#include "tests/support.h"

using namespace dojo::simulate;
using doctest::Approx;
using dojo::config::LinkClass;

namespace {

// 16 devices on 4 nodes of 4; numbers picked to be easy by hand.
Topology small_cluster(long devices = 16) {
  Topology t;
  t.devices = devices;
  t.devices_per_node = 4;
  t.network.base_latency_us = 5;
  t.network.intra_node = LinkClass{"nvlink", 1.0, 100.0, 1, 0.0};
  t.network.inter_node = LinkClass{"infiniband", 10.0, 25.0, 2, 20.0};  // 50 GB/s per node
  t.nccl_protocols = false;                                             // Simple only
  return t;
}

// Two tensors of 1e6 f32 elements, 3 GFLOP per sample, 1 TFLOP/s at MFU 0.5.
PlanInputs two_tensor_job() {
  PlanInputs in;
  in.job = "hand";
  in.cluster = "hand";
  in.accelerator = "x";
  in.model.name = "two";
  in.model.tensors = {1'000'000, 1'000'000};
  in.model.flop_per_sample = 3e9;
  in.per_device_batch = 1;
  in.bucket_bytes = 4e6;
  in.element_bytes = 4;
  in.device_peak_flops = 1e12;
  in.mfu = 0.5;
  in.devices_per_node = 2;
  in.network.base_latency_us = 0;
  in.network.intra_node = LinkClass{"shm", 0.0, 1.0, 1, 0.0};  // 1 GB/s
  in.network.inter_node = LinkClass{"loopback", 0.0, 1.0, 1, 0.0};
  in.save_seconds = 10;
  in.restart_seconds = 20;
  return in;
}

dojo::config::JobConfig shipped_job(const char* name) {
  return dojo::config::load_job(dojo::test::configs_dir() / "jobs" / name);
}

}  // namespace

TEST_CASE("ring, tree and hierarchical all-reduce match the hand-computed costs") {
  const Topology t = small_cluster();
  const double s = 1e8;
  // ring: 5 + (2 x 15 - 2 x 4) max(1, 3 x 1) + 2 x 4 x 10 = 151 us (NCCL's tuner: the
  // steps that stay in a node still post to the network proxy, 1 us, 3 for Simple);
  // 2 x 15/16 x 1e8 / 50e9 = 3.75 ms
  CHECK(allreduce_seconds(Algorithm::kRing, t, s) == Approx(151e-6 + 3.75e-3).epsilon(1e-12));
  // One node: 2(4-1) hops of 1 us and 5 us base, at the NVLink bandwidth.
  CHECK(allreduce_seconds(Algorithm::kRing, small_cluster(4), s) ==
        Approx(11e-6 + 2 * 0.75 * 1e8 / 100e9).epsilon(1e-12));
  // tree: 5 + 2(3 x 1 + 2 x 20) = 91 us; 2e8 / (0.92 x 50e9)
  CHECK(allreduce_seconds(Algorithm::kTree, t, s) ==
        Approx(91e-6 + 2e8 / (0.92 * 50e9)).epsilon(1e-12));
  // hierarchical: 5 + 2(3)1 + 2(3)10 = 71 us; 1.5 ms in the nodes + 3 ms across
  CHECK(allreduce_seconds(Algorithm::kHierarchical, t, s) ==
        Approx(71e-6 + 1.5e-3 + 3e-3).epsilon(1e-12));
  CHECK(choose_algorithm(t, s).algorithm == Algorithm::kRing);
  CHECK(choose_algorithm(t, 1e3).algorithm == Algorithm::kHierarchical);
}

TEST_CASE("NCCL's protocols: LL for small messages, Simple for large ones") {
  Topology t = small_cluster();
  t.nccl_protocols = true;
  // tree/LL at 1 kB: base 5 x 3.6/8.4, 2(3 x 1 x 0.47/3.4 + 2 x 20 x 5/50) us,
  // 2e3 bytes at half of 0.92 x 50 GB/s.
  const double ll =
      (5 * 3.6 / 8.4 + 2 * (3 * 0.47 / 3.4 + 2 * 20 * 0.1)) * 1e-6 + 2e3 / (0.92 * 50e9 * 0.5);
  CHECK(allreduce_seconds(Algorithm::kTree, Protocol::kLL, t, 1e3) == Approx(ll).epsilon(1e-12));
  const AlgorithmChoice small = choose_algorithm(t, 1e3);
  CHECK(small.name() == "tree/LL");
  CHECK(small.seconds == Approx(ll).epsilon(1e-12));
  CHECK(choose_algorithm(t, 1e9).name() == "ring/Simple");
  t.nccl_protocols = false;
  CHECK(choose_algorithm(t, 1e3).protocol == Protocol::kSimple);
}

TEST_CASE("one node uses its own links only, and one device costs nothing") {
  const Topology node = small_cluster(4);
  CHECK(node.nodes() == 1);
  // 5 + 2(3)(1) us + 2 x 3/4 x 1e6 / 100e9
  CHECK(allreduce_seconds(Algorithm::kRing, node, 1e6) ==
        Approx(11e-6 + 1.5e6 / 100e9).epsilon(1e-12));
  CHECK(allreduce_seconds(Algorithm::kRing, small_cluster(1), 1e9) == 0.0);
  CHECK(small_cluster(17).nodes() == 5);
}

TEST_CASE("the step timeline pipelines buckets behind backward") {
  PlanInputs in = two_tensor_job();
  Topology t;
  t.devices = 2;
  t.devices_per_node = 2;
  t.network = in.network;
  const StepEstimate step = estimate_step(in, t);
  // compute 3e9 / (1e12 x 0.5) = 6 ms: forward 2, backward 4. Buckets of
  // 4 MB ready at 4 and 6 ms; each all-reduce takes 2 x 1/2 x 4e6 / 1e9 = 4 ms.
  CHECK(step.compute_s == Approx(6e-3));
  REQUIRE(step.buckets.size() == 2);
  CHECK(step.buckets[0].ready_s == Approx(4e-3));
  CHECK(step.buckets[0].end_s == Approx(8e-3));
  CHECK(step.buckets[1].ready_s == Approx(6e-3));
  CHECK(step.buckets[1].start_s == Approx(8e-3));
  CHECK(step.step_s == Approx(12e-3));
  CHECK(step.exposed_comm_s == Approx(6e-3));
  CHECK(step.comm_s == Approx(8e-3));
}

TEST_CASE("CPU ranks add communication to compute instead of overlapping it") {
  PlanInputs in = two_tensor_job();
  in.overlap = false;
  Topology t = topology_of(in, 2);
  const StepEstimate step = estimate_step(in, t);
  CHECK(step.step_s == Approx(6e-3 + 8e-3));
  CHECK(step.exposed_comm_s == Approx(8e-3));
  dojo::config::JobConfig job = shipped_job("fashion-mnist.yaml");
  PlanOptions options;
  options.save_seconds = 1;
  CHECK_FALSE(plan_inputs(job, nullptr, options).overlap);  // the local cluster's cpu nodes
}

TEST_CASE("fast links hide communication behind backward entirely") {
  PlanInputs in = two_tensor_job();
  in.network.intra_node.bandwidth_gb_per_s = 1000;
  const ScaleEstimate s = simulate_scale(in, 2);
  CHECK(s.step.step_s == Approx(s.step.compute_s + 4e6 / 1000e9));  // only the last bucket shows
  CHECK(s.scaling_efficiency == Approx(1.0));
}

TEST_CASE("more bandwidth is never slower, at any scale or algorithm") {
  PlanInputs in = two_tensor_job();
  in.devices_per_node = 8;
  in.network = small_cluster().network;
  for (long devices : {2L, 8L, 9L, 64L, 1000L, 35000L, 85000L}) {
    in.nccl_protocols = devices % 2 == 0;
    double previous = INFINITY;
    for (double scale : {0.25, 0.5, 1.0, 2.0, 4.0, 16.0}) {
      PlanInputs faster = in;
      faster.network.intra_node.bandwidth_gb_per_s *= scale;
      faster.network.inter_node.bandwidth_gb_per_s *= scale;
      const double step = simulate_scale(faster, devices).step.step_s;
      CHECK(step <= previous);
      previous = step;
      for (Algorithm a : kAlgorithms) {
        Topology slow = topology_of(in, devices), fast = topology_of(faster, devices);
        if (scale >= 1)
          CHECK(allreduce_seconds(a, fast, 3e7) <= allreduce_seconds(a, slow, 3e7));
      }
    }
  }
}

TEST_CASE("more devices never mean fewer failures, and the checkpoint interval shrinks") {
  const PlanInputs in = two_tensor_job();
  double failures = 0, interval = INFINITY;
  for (long devices = 1; devices <= 200'000; devices *= 3) {
    const ScaleEstimate s = simulate_scale(in, devices);
    CHECK(s.interruptions_per_day > failures);
    CHECK(s.checkpoint_interval_s < interval);
    failures = s.interruptions_per_day;
    interval = s.checkpoint_interval_s;
  }
}

TEST_CASE("the default device MTBF reproduces Llama 3's 419 interruptions in 54 days") {
  PlanInputs in = two_tensor_job();
  in.device_mtbf_hours = dojo::config::kDefaultDeviceMtbfHours;
  const ScaleEstimate s = simulate_scale(in, 16384);
  CHECK(s.interruptions_per_day == Approx(419.0 / 54.0).epsilon(1e-9));
  CHECK(s.job_mtbf_s == Approx(54.0 * 86400 / 419).epsilon(1e-9));
}

TEST_CASE("the planner's interval is the Young-Daly function `checkpoint: auto` uses") {
  const PlanInputs in = two_tensor_job();
  const ScaleEstimate s = simulate_scale(in, 1000);
  const double mtbf = dojo::reliability::job_mtbf_seconds(in.device_mtbf_hours, 1000);
  CHECK(s.checkpoint_interval_s == dojo::reliability::young_daly_interval_seconds(10, mtbf));
  CHECK(s.checkpoint_interval_s == Approx(std::sqrt(2 * 10 * mtbf)));
  CHECK(s.checkpoint_interval_steps == Approx(s.checkpoint_interval_s / s.step.step_s));
  CHECK(s.goodput == dojo::reliability::expected_goodput(s.checkpoint_interval_s, 10, 20, mtbf));
}

TEST_CASE("goodput matches the hand-computed first-order model") {
  // 100 / 110 x (1 - (20 + 55) / 1000)
  CHECK(dojo::reliability::expected_goodput(100, 10, 20, 1000) ==
        Approx(100.0 / 110.0 * 0.925).epsilon(1e-12));
  CHECK(dojo::reliability::expected_goodput(100, 10, 5000, 1000) == 0.0);
  CHECK(dojo::reliability::interruptions_per_day(3600) == Approx(24));
}

TEST_CASE("bad numbers are clear errors") {
  Topology t = small_cluster();
  t.network.inter_node.bandwidth_gb_per_s = 0;
  CHECK_THROWS_WITH_AS(allreduce_seconds(Algorithm::kRing, t, 1e6),
                       "network.inter_node.bandwidth_gb_per_s must be greater than 0", dojo::Error);
  t = small_cluster();
  t.network.intra_node.latency_us = -1;
  CHECK_THROWS_WITH_AS(choose_algorithm(t, 1e6),
                       "network.intra_node.latency_us must not be negative", dojo::Error);
  CHECK_THROWS_WITH_AS(dojo::reliability::job_mtbf_seconds(-5, 100),
                       doctest::Contains("positive device MTBF"), dojo::Error);
  CHECK_THROWS_WITH_AS(dojo::reliability::expected_goodput(100, -1, 0, 1000),
                       doctest::Contains("non-negative save and restart"), dojo::Error);
  CHECK_THROWS_WITH_AS(devices_for_h100e(two_tensor_job(), -3),
                       "H100e must be greater than 0, got -3", dojo::UsageError);
}

TEST_CASE("plan inputs come from the job and its cluster") {
  const auto job = shipped_job("synthetic-resnet50.yaml");
  PlanOptions options;
  options.accelerator = "h100-sxm";
  const PlanInputs in = plan_inputs(job, nullptr, options);
  CHECK(in.accelerator == "h100-sxm");
  CHECK(in.devices_per_node == 8);
  CHECK(in.h100e_per_device == Approx(1.0));
  CHECK(in.device_peak_flops == Approx(989.4e12));
  CHECK(in.per_device_batch == Approx(8192.0 / 64));  // h100e 64 of H100s: 64 ranks
  CHECK(in.element_bytes == 2);                       // bf16 compression
  CHECK(in.bucket_bytes == Approx(25.0 * 1024 * 1024));
  CHECK(in.model.parameters() == Approx(25'557'032));
  CHECK(in.model.flop_per_sample == Approx(24.6e9));
  CHECK(in.save_seconds == Approx(20));
  CHECK(in.restart_seconds == Approx(10));
  CHECK(in.network.inter_node.rails == 8);
  CHECK(devices_for_h100e(in, 35000) == 35000);
}

TEST_CASE("an unknown accelerator, a command job and no save time are usage errors") {
  const auto job = shipped_job("synthetic-resnet50.yaml");
  PlanOptions options;
  options.accelerator = "h100";
  CHECK_THROWS_WITH_AS(plan_inputs(job, nullptr, options),
                       doctest::Contains("unknown accelerator \"h100\" in"), dojo::UsageError);
  CHECK_THROWS_WITH_AS(plan_inputs(job, nullptr, options),
                       doctest::Contains("(did you mean \"h100-sxm\"?)"), dojo::UsageError);
  options.accelerator.clear();  // the default: most of the cluster's H100e
  CHECK(plan_inputs(job, nullptr, options).accelerator == "h100-sxm");
  options.accelerator = "b200";
  CHECK_THROWS_WITH_AS(plan_inputs(job, nullptr, options),
                       doctest::Contains("has no node of accelerator \"b200\""), dojo::UsageError);
  options.accelerator = "h100-sxm";
  options.mfu = 1.5;
  CHECK_THROWS_WITH_AS(plan_inputs(job, nullptr, options), "--mfu must be in (0, 1], got 1.5",
                       dojo::UsageError);
  const auto command = shipped_job("command-torchrun-style.yaml");
  CHECK_THROWS_WITH_AS(plan_inputs(command, nullptr, PlanOptions{}),
                       doctest::Contains("runs a command, so its model is unknown"),
                       dojo::UsageError);
  const auto mnist = shipped_job("fashion-mnist.yaml");
  CHECK_THROWS_WITH_AS(plan_inputs(mnist, nullptr, PlanOptions{}),
                       doctest::Contains("needs a checkpoint save time"), dojo::UsageError);
}

TEST_CASE("the MLP's profile counts its weights and biases") {
  dojo::config::WorkloadConfig w;
  const ModelProfile p = profile_of(w);
  CHECK(p.name == "mlp 784-256-128-100-10");
  CHECK(p.tensors.size() == 8);
  CHECK(p.parameters() == 247766);
  CHECK(p.flop_per_sample == 6.0 * (784 * 256 + 256 * 128 + 128 * 100 + 100 * 10));
  CHECK(dojo::collectives::model_gradient_shapes("resnet101").size() == 314);
  w.type = dojo::config::WorkloadType::kSynthetic;
  w.model = "resnet101";
  CHECK(profile_of(w).parameters() == 44'549'160);
}

TEST_CASE("calibration recovers the latency and bandwidth that made the timings") {
  std::ostringstream csv;
  csv << dojo::collectives::bench::kAllReduceCsvHeader << "\n";
  // base 5 us, 2 us per hop, 10 GB/s bus bandwidth.
  for (int ranks : {2, 4}) {
    for (double bytes = 1024; bytes <= 64 << 20; bytes *= 4) {
      const double n = ranks;
      const double us = 5 + 2 * (n - 1) * 2 + 2 * (n - 1) / n * bytes / 10e9 * 1e6;
      csv << ranks << "," << bytes << ",0,f32,1," << us << ",0,0,0,0,0,0\n";
    }
    csv << dojo::collectives::bench::kAllReduceCsvHeader << "\n";  // concatenated runs
  }
  std::istringstream in(csv.str());
  const auto rows = read_bench_csv(in, "bench.csv");
  CHECK(rows.size() == 18);
  const Calibration c = fit_ring(rows);
  CHECK(c.base_latency_us == Approx(5).epsilon(1e-6));
  CHECK(c.latency_us == Approx(2).epsilon(1e-6));
  CHECK(c.bandwidth_gb_per_s == Approx(10).epsilon(1e-6));
  CHECK(c.max_relative_error < 1e-4);  // the CSV holds 6 significant digits
  CHECK(c.ranks == std::vector<int>{2, 4});
}

TEST_CASE("a single rank count folds the base latency into the per-hop latency") {
  std::vector<Measurement> rows;
  for (double bytes = 1024; bytes <= 1 << 24; bytes *= 2)
    rows.push_back({2, bytes, 10e-6 + bytes / 5e9});  // 2(n-1)/n = 1 at 2 ranks
  const Calibration c = fit_ring(rows);
  CHECK(c.base_latency_us == 0);
  CHECK(c.latency_us == Approx(5).epsilon(1e-6));
  CHECK(c.bandwidth_gb_per_s == Approx(5).epsilon(1e-6));
}

TEST_CASE("bad benchmark files are located errors") {
  const auto parse = [](const std::string& text) {
    std::istringstream in(text);
    return read_bench_csv(in, "b.csv");
  };
  const std::string header = dojo::collectives::bench::kAllReduceCsvHeader;
  CHECK_THROWS_WITH_AS(parse("size,time\n1,2\n"),
                       doctest::Contains("b.csv:1: expected the header of `dojo bench allreduce "
                                         "--csv`"),
                       dojo::Error);
  CHECK_THROWS_WITH_AS(parse(header + "\n2,1024,256,f32,1,abc,0,0,0,0,0,0\n"),
                       "b.csv:2: column time_us is not a number: \"abc\"", dojo::Error);
  CHECK_THROWS_WITH_AS(parse(header + "\n2,1024\n"), "b.csv:2: expected 12 columns, got 2",
                       dojo::Error);
  CHECK_THROWS_WITH_AS(parse(""), doctest::Contains("b.csv: empty"), dojo::Error);
  CHECK_THROWS_WITH_AS(fit_ring(parse(header + "\n2,1024,256,f32,1,9,0,0,0,0,0,0\n")),
                       doctest::Contains("at least two message sizes"), dojo::Error);
  CHECK_THROWS_WITH_AS(fit_ring({{2, 1024, 1e-3}, {2, 1 << 20, 1e-6}}),
                       doctest::Contains("does not grow with message size"), dojo::Error);
}

TEST_CASE("JSON output is a list with one object per scale") {
  PlanInputs in = two_tensor_job();
  const std::vector<ScaleEstimate> scales = {simulate_scale(in, 100), simulate_scale(in, 1000)};
  std::ostringstream out;
  write_json(out, in, scales);
  const std::string text = out.str();
  CHECK(text.front() == '[');
  CHECK(text.find("\"devices\": 100,") != std::string::npos);
  CHECK(text.find("\"devices\": 1000,") != std::string::npos);
  std::size_t count = 0;
  for (std::size_t at = 0; (at = text.find("\"interruptions_per_day\"", at)) != std::string::npos;
       ++at)
    ++count;
  CHECK(count == 2);
}

TEST_CASE("NVLS reaches its bus bandwidth in a node, and the tuner picks it only where it wins") {
  Topology node;
  node.devices = 8;
  node.devices_per_node = 8;
  node.network.intra_node = LinkClass{"nvlink", 3.4, 370.0, 1, 0.0};
  node.network.inter_node = LinkClass{"infiniband", 9.6, 46.0, 8, 50.0};
  const double gib = 1024.0 * 1024 * 1024;
  auto busbw = [&](const Topology& t, double bytes) {
    return bytes * 2 * 7 / 8 / choose_algorithm(t, bytes).seconds / 1e9;
  };
  // Without NVLS the ring's 370 GB/s is the ceiling.
  CHECK(busbw(node, gib) == Approx(370).epsilon(0.03));
  CHECK(std::isinf(allreduce_seconds(Algorithm::kNvls, node, gib)));
  node.network.intra_node.nvls = true;
  const AlgorithmChoice large = choose_algorithm(node, gib);
  CHECK(large.algorithm == Algorithm::kNvls);
  CHECK(large.protocol == Protocol::kSimple);
  CHECK(busbw(node, gib) == Approx(480).epsilon(0.02));
  // Eight bytes: NVLS's 23 us lose to the ring's low-latency protocol.
  CHECK(choose_algorithm(node, 8).algorithm != Algorithm::kNvls);
  // Across nodes NVLS-tree is limited by the rails' tree bandwidth.
  Topology two = node;
  two.devices = 16;
  const double t = allreduce_seconds(Algorithm::kNvls, Protocol::kSimple, two, gib);
  CHECK(t == Approx(23e-6 + 2 * 50e-6 +
                    std::max(2.0 * 7 / 8 * gib / 480e9, 2 * gib / (0.92 * 8 * 46e9))));
  // CPU ranks (MPI) never use it.
  node.nccl_protocols = false;
  CHECK(choose_algorithm(node, gib).algorithm != Algorithm::kNvls);
}

TEST_CASE("a fixed per-step cost adds to every step and lowers the scaling efficiency") {
  PlanInputs in = two_tensor_job();
  const ScaleEstimate without = simulate_scale(in, 8);
  in.step_overhead_s = 0.005;
  const ScaleEstimate with = simulate_scale(in, 8);
  CHECK(with.step.step_s == Approx(without.step.step_s + 0.005));
  CHECK(with.step.overhead_s == 0.005);
  CHECK(with.step.exposed_comm_s == Approx(without.step.exposed_comm_s));
  CHECK(with.samples_per_s < without.samples_per_s);
  // The JSON and the table carry it.
  std::ostringstream json, table;
  write_json(json, in, {with});
  CHECK(json.str().find("\"step_overhead_seconds\": 0.005") != std::string::npos);
  write_table(table, in, {with});
  CHECK(table.str().find("step overhead 5 ms") != std::string::npos);
  CHECK(table.str().find("overhead_ms") != std::string::npos);
  // From the job's YAML, and refused when negative.
  auto job = shipped_job("synthetic-resnet50.yaml");
  job.workload->step_overhead_ms = 4.0;
  const PlanInputs from_job = plan_inputs(job, nullptr, PlanOptions{});
  CHECK(from_job.step_overhead_s == Approx(0.004));
  CHECK(dojo::collectives::model_gflop_per_sample("resnet101") == Approx(46.8));
}
