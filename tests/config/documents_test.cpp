// The four document kinds: shipped configs, defaults, references between files.
#include <doctest/doctest.h>

#include <cmath>

#include "orchestrator/config/loader.h"
#include "tests/support.h"

using namespace dojo::config;
using dojo::test::configs_dir;
using dojo::test::TempDir;

namespace {

// Everything a minimal job file needs; cluster and catalog live next to it.
const char* kCatalog = R"(accelerators:
  gpu-a: {kind: gpu, bf16_tflops: 989.4, memory_gib: 80, power_w: 700}
  gpu-b: {kind: gpu, bf16_tflops: 494.7, memory_gib: 40, power_w: 400, h100e: 0.4}
)";

std::vector<std::string> messages(const ConfigError& e) {
  std::vector<std::string> out;
  for (const Diagnostic& d : e.diagnostics())
    out.push_back(d.format());
  return out;
}

}  // namespace

TEST_CASE("every shipped config validates") {
  int count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(configs_dir())) {
    if (entry.path().extension() != ".yaml")
      continue;
    CAPTURE(entry.path().string());
    CHECK_NOTHROW(load_document(entry.path()));
    ++count;
  }
  CHECK(count >= 7);
}

TEST_CASE("the shipped catalog carries the reference H100e factors") {
  const AcceleratorCatalog catalog = load_accelerators(configs_dir() / "accelerators.yaml");
  auto factor = [&](const char* name) {
    const Accelerator* a = catalog.find(name);
    REQUIRE(a != nullptr);
    return a->h100e();
  };
  CHECK(factor("h100-sxm") == doctest::Approx(1.0));
  CHECK(factor("h200-sxm") == doctest::Approx(1.0));
  CHECK(factor("a100-sxm") == doctest::Approx(0.315).epsilon(0.002));
  CHECK(factor("b200") == doctest::Approx(2.27).epsilon(0.002));
  CHECK(factor("d1") == doctest::Approx(0.366).epsilon(0.002));
  CHECK(factor("dojo-tile") == doctest::Approx(9.15).epsilon(0.002));
  CHECK(catalog.find("cpu")->kind == AcceleratorKind::kCpu);
  CHECK(catalog.find("d1")->kind == AcceleratorKind::kDojo);
}

TEST_CASE("the example cluster expands host ranges and keeps node states") {
  const ClusterConfig c = load_cluster(configs_dir() / "cluster" / "example-h100.yaml");
  CHECK(c.name == "example-h100");
  CHECK(c.nodes.size() == 16 + 1 + 8 + 4 + 1 + 2);
  REQUIRE(c.find_node("h100-001") != nullptr);
  CHECK(c.find_node("h100-016")->slots == 8);
  CHECK(c.find_node("h100-017")->state == NodeState::kDrained);
  CHECK(c.find_node("d1-05")->state == NodeState::kDown);
  CHECK(c.find_node("a100-08")->accelerator == "a100-sxm");
  CHECK(c.find_node("a100-08")->rack == "rack-b");
  CHECK(c.network.interface == "ib0");
  CHECK(c.network.inter_node.bandwidth_gb_per_s == 46);
}

TEST_CASE("a job's defaults are the documented ones") {
  TempDir dir;
  const auto job = dir.write("job.yaml", R"(job:
  name: minimal
  workload: {type: mlp}
  resources: {ranks: 2}
)");
  const JobConfig j = load_job(job);
  CHECK_FALSE(j.cluster.has_value());
  REQUIRE(j.workload.has_value());
  CHECK(j.workload->device == Device::kCpu);
  CHECK(j.workload->precision == Precision::kF32);
  CHECK(j.workload->hidden_layers == std::vector<int>{256, 128, 100});
  CHECK(j.workload->dataset_dir == "/usr/share/datasets/fashion-mnist");
  CHECK(j.workload->global_batch == 256);
  CHECK(j.workload->threads_per_rank == 1);
  CHECK(j.workload->optimizer.type == OptimizerType::kSgd);
  CHECK(j.workload->optimizer.schedule == LrSchedule::kCosine);
  CHECK(j.resources.ranks == 2);
  CHECK_FALSE(j.resources.h100e.has_value());
  CHECK(j.resources.shares.empty());
  CHECK(j.collectives.backend == Backend::kAuto);
  CHECK(j.collectives.bucket_mib == 25);
  CHECK(j.collectives.compression == Compression::kNone);
  CHECK(j.collectives.timeout_s == 300);
  CHECK(j.checkpoint.automatic);
  CHECK(j.checkpoint.keep == 3);
  CHECK(j.restarts.max == 10);
  CHECK(j.restarts.user_error == 1);
  CHECK(j.restarts.killed == 3);
  CHECK(j.restarts.hang == 3);
  CHECK(j.restarts.node_lost == 5);
  CHECK(j.restarts.launch_failed == 1);
  CHECK(j.stragglers.ratio == 1.5);
  CHECK(j.stragglers.steps == 20);
  CHECK(j.hang_timeout_s == 120);
  CHECK(j.hang_timeout_s < j.collectives.timeout_s);
  CHECK(j.metrics.enabled);
  CHECK(j.metrics.bind == "127.0.0.1");
  CHECK(j.metrics.port == 0);
  CHECK(j.env.empty());
}

TEST_CASE("a cluster's defaults take the network from NCCL figures and the MTBF from Llama 3") {
  TempDir dir;
  dir.write("catalog.yaml", kCatalog);
  const auto file = dir.write("cluster.yaml", R"(cluster:
  name: small
  accelerators: catalog.yaml
  nodes:
    - {host: n1, accelerator: gpu-a}
)");
  const ClusterConfig c = load_cluster(file);
  CHECK(c.nodes.at(0).slots == 1);
  CHECK(c.nodes.at(0).rack == "default");
  CHECK(c.nodes.at(0).state == NodeState::kUp);
  CHECK(c.blacklist_cooldown_s == 3600);
  CHECK(c.network.interface.empty());
  CHECK(c.network.intra_node.latency_us == 3.4);
  CHECK(c.network.intra_node.bandwidth_gb_per_s == 370);  // measured 8 x H100 ring busbw
  CHECK(c.network.inter_node.technology == "infiniband");
  CHECK(c.network.inter_node.bandwidth_gb_per_s == 46);
  CHECK(c.network.inter_node.rails == 1);
  CHECK(c.network.inter_node.tree_latency_us == 50);
  CHECK(c.network.base_latency_us == 8.4);
  CHECK(c.device_mtbf_hours == doctest::Approx(16384.0 * 54 * 24 / 419));
  CHECK(c.catalog.find("gpu-b")->h100e() == doctest::Approx(0.4));
  CHECK(c.catalog.find("gpu-a")->h100e() == doctest::Approx(1.0));
}

TEST_CASE("references resolve relative to the file that names them and not the working directory") {
  TempDir dir;
  dir.write("shared/catalog.yaml", kCatalog);
  dir.write("clusters/c.yaml", R"(cluster:
  name: c
  accelerators: ../shared/catalog.yaml
  nodes: [{host: n1, accelerator: gpu-b, slots: 4}]
)");
  const auto job = dir.write("jobs/deep/j.yaml", R"(job:
  name: j
  cluster: ../../clusters/c.yaml
  command: [hostname]
  resources: {ranks: 4}
)");
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path("/");
  JobConfig j;
  CHECK_NOTHROW(j = load_job(job));
  std::filesystem::current_path(previous);
  REQUIRE(j.cluster.has_value());
  CHECK(j.cluster->nodes.at(0).slots == 4);
  CHECK(j.cluster_path == dir.path() / "clusters" / "c.yaml");
  CHECK(j.command == std::vector<std::string>{"hostname"});
}

TEST_CASE("errors in a referenced file are reported at that file's own lines") {
  TempDir dir;
  dir.write("catalog.yaml", kCatalog);
  const auto cluster = dir.write("cluster.yaml", R"(cluster:
  name: c
  accelerators: catalog.yaml
  nodes:
    - {host: n1, accelerator: gpu-c}
)");
  const auto job = dir.write("job.yaml", R"(job:
  name: j
  cluster: cluster.yaml
  command: [hostname]
  resources: {ranks: 1, rank: 2}
)");
  try {
    load_job(job);
    FAIL("loaded");
  } catch (const ConfigError& e) {
    const auto m = messages(e);
    REQUIRE(m.size() == 2);
    CHECK(m[0] ==
          job.string() +
              ":5:25: error: unknown key \"rank\" in job.resources (did you mean \"ranks\"?)");
    CHECK(m[1] == cluster.string() +
                      ":5:31: error: cluster.nodes[0].accelerator: unknown accelerator \"gpu-c\" "
                      "(not in catalog.yaml); did you mean \"gpu-a\"?");
  }
}

TEST_CASE("loading one kind refuses a document of another kind") {
  try {
    load_job(configs_dir() / "cluster" / "local.yaml");
    FAIL("loaded");
  } catch (const ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].message ==
          "expected a document of kind job, found one of kind cluster");
  }
}

TEST_CASE("a measured accelerator needs a results file that exists") {
  TempDir dir;
  dir.write("bench/node-x.json",
            "{\"kind\": \"dojo-node-bench\", \"version\": 1, \"h100e\": 0.1}\n");
  const auto ok = dir.write("ok.yaml", R"(accelerators:
  x: {kind: gpu, bf16_tflops: 100, memory_gib: 8, power_w: 100, h100e: measured, measured_results: bench/node-x.json}
)");
  const AcceleratorCatalog c = load_accelerators(ok);
  CHECK(c.find("x")->h100e_measured);
  CHECK(c.find("x")->measured_results == dir.path() / "bench" / "node-x.json");

  const auto bad = dir.write("bad.yaml", R"(accelerators:
  x: {kind: gpu, bf16_tflops: 100, memory_gib: 8, power_w: 100, h100e: measured, measured_results: bench/missing.json}
)");
  CHECK_THROWS_WITH_AS(
      load_accelerators(bad),
      doctest::Contains(
          "accelerators.x.measured_results: file \"bench/missing.json\" does not exist"),
      ConfigError);
}

TEST_CASE("the capacity seed matches the public figures it is built on") {
  const CapacityConfig c = load_capacity(configs_dir() / "capacity" / "tesla-2024.yaml");
  auto online_h100e = [&](const char* date) {
    const Date when = *Date::parse(date);
    double total = 0;
    for (const Pool& p : c.pools) {
      if (p.online > when || (p.retire && *p.retire <= when) || p.state_at(when) != NodeState::kUp)
        continue;
      total += static_cast<double>(p.count) * c.catalog.find(p.accelerator)->h100e();
    }
    return total;
  };
  const double end_2023 = online_h100e("2023-12-31");
  const double end_q1 = online_h100e("2024-03-31");
  CHECK(end_2023 <= 15200);
  CHECK(end_q1 == doctest::Approx(35000).epsilon(0.01));
  CHECK(end_q1 / end_2023 > 2.3);  // "more than 130% growth"
  REQUIRE(c.plan.milestones.size() == 2);
  CHECK(c.plan.milestones.front().h100e == 35000);
  CHECK(c.plan.milestones.back().h100e == 85000);
  CHECK(c.plan.milestones.back().date == *Date::parse("2024-12-31"));
  REQUIRE(c.spend.size() == 1);
  CHECK(c.spend[0].usd == 1.0e9);
  REQUIRE(c.vehicle_fleet.has_value());
  CHECK(c.vehicle_fleet->vehicles == 100'000'000);
  CHECK(c.vehicle_fleet->driving_hours_per_day == 7);
}

TEST_CASE("host patterns expand one numeric range with its zero padding") {
  std::string error;
  CHECK(expand_host_pattern("gpu-[08-11].dc", error) ==
        std::vector<std::string>{"gpu-08.dc", "gpu-09.dc", "gpu-10.dc", "gpu-11.dc"});
  CHECK(expand_host_pattern("n[1-3]", error) == std::vector<std::string>{"n1", "n2", "n3"});
  CHECK(expand_host_pattern("plain", error) == std::vector<std::string>{"plain"});
  CHECK_FALSE(expand_host_pattern("n[3-1]", error).has_value());
  CHECK_FALSE(expand_host_pattern("n[1-2][3-4]", error).has_value());
  CHECK_FALSE(expand_host_pattern("n[a-b]", error).has_value());
  CHECK_FALSE(expand_host_pattern("n]", error).has_value());
  CHECK_FALSE(expand_host_pattern("n[0-999999]", error).has_value());
  CHECK(error == "host range expands to more than 100000 names");
}

TEST_CASE("dates are calendar dates in YYYY-MM-DD") {
  CHECK(Date::parse("2024-02-29").has_value());
  CHECK_FALSE(Date::parse("2023-02-29").has_value());
  CHECK_FALSE(Date::parse("2024-13-01").has_value());
  CHECK_FALSE(Date::parse("2024-1-01").has_value());
  CHECK_FALSE(Date::parse("2024-01-01T00:00").has_value());
  CHECK(Date::parse("1970-01-01")->days() == 0);
  CHECK(Date::parse("2024-03-31")->days() - Date::parse("2023-12-31")->days() == 91);
  CHECK(Date::from_days(Date::parse("2024-12-31")->days()).str() == "2024-12-31");
  CHECK(*Date::parse("2024-01-02") > *Date::parse("2023-12-31"));
}

TEST_CASE("a measured accelerator reads its factor from the node-benchmark results") {
  TempDir dir;
  dir.write("node.json", R"({
  "kind": "dojo-node-bench",
  "version": 1,
  "host": "n1",
  "accelerator": "x",
  "device": "cpu",
  "date": "2026-11-29",
  "gemm": {"dtype": "f32", "size": 2048, "threads": 1, "tflops": 0.12},
  "train_step": {"model": "mlp-256-128-100", "batch": 256, "seconds": 0.0035, "samples_per_second": 72000},
  "reference_tflops": 989.4,
  "h100e": 0.000121
}
)");
  const auto catalog = dir.write("catalog.yaml", R"(accelerators:
  x: {kind: cpu, bf16_tflops: 1, memory_gib: 8, power_w: 100, h100e: measured, measured_results: node.json}
)");
  const AcceleratorCatalog c = load_accelerators(catalog);
  REQUIRE(c.find("x")->measured_h100e.has_value());
  CHECK(*c.find("x")->measured_h100e == doctest::Approx(0.000121));

  const auto bad = dir.write(
      "node.json", "{\"kind\": \"dojo-node-bench\", \"version\": 1, \"h100e\": 0, \"gpu\": 1}\n");
  try {
    load_accelerators(catalog);
    FAIL("loaded");
  } catch (const ConfigError& e) {
    const auto m = messages(e);
    REQUIRE(m.size() == 2);
    CHECK(m[0] == bad.string() + ":1:52: error: h100e: must be greater than 0");
    CHECK(m[1].find(bad.string() + ":1:55: error: unknown key \"gpu\" in document (known keys:") ==
          0);
  }
}
