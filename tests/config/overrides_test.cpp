// `--set key.path=value` overrides, validated like the file.
#include <doctest/doctest.h>

#include "orchestrator/config/loader.h"
#include "tests/support.h"

using namespace dojo::config;
using dojo::test::configs_dir;

namespace {

std::filesystem::path fashion() {
  return configs_dir() / "jobs" / "fashion-mnist.yaml";
}

std::vector<Override> sets(std::initializer_list<const char*> texts) {
  std::vector<Override> out;
  for (const char* t : texts)
    out.push_back(parse_override(t));
  return out;
}

std::string first_error(const std::filesystem::path& file, std::vector<Override> overrides) {
  try {
    load_document(file, overrides);
  } catch (const ConfigError& e) {
    return e.diagnostics().at(0).format();
  }
  return "no error";
}

}  // namespace

TEST_CASE("overrides change values with or without the kind prefix") {
  const JobConfig j =
      load_job(fashion(), sets({"resources.ranks=4", "job.collectives.bucket_mib=50",
                                "workload.hidden_layers=[64, 32]", "env.NCCL_DEBUG=INFO"}));
  CHECK(j.resources.ranks == 4);
  CHECK(j.collectives.bucket_mib == 50);
  CHECK(j.workload->hidden_layers == std::vector<int>{64, 32});
  CHECK(j.env.at("NCCL_DEBUG") == "INFO");
}

TEST_CASE("overrides index lists and create missing mappings") {
  const ClusterConfig c =
      load_cluster(configs_dir() / "cluster" / "local.yaml", sets({"nodes.0.state=drained"}));
  CHECK(c.nodes.at(0).state == NodeState::kDrained);
  const JobConfig j = load_job(configs_dir() / "jobs" / "command-torchrun-style.yaml",
                               sets({"restarts.backoff_s=1", "restarts.backoff_max_s=2"}));
  CHECK(j.restarts.backoff_s == 1);
  CHECK(j.restarts.backoff_max_s == 2);
}

TEST_CASE("a bad override is an error that names the flag") {
  CHECK(first_error(fashion(), sets({"resources.ranks=two"})) ==
        "--set resources.ranks=two: error: job.resources.ranks: expected an integer, got \"two\"");
  CHECK(first_error(fashion(), sets({"collectives.bucket_mb=10"})) ==
        "--set collectives.bucket_mb=10: error: unknown key \"bucket_mb\" in job.collectives (did "
        "you mean \"bucket_mib\"?)");
  CHECK(first_error(fashion(), sets({"workload.type=mpl"})) ==
        "--set workload.type=mpl: error: job.workload.type: unknown value \"mpl\" (expected one "
        "of mlp, synthetic); did you mean \"mlp\"?");
  CHECK(first_error(fashion(), sets({"resources.shares=[3, 1"}))
            .find("--set resources.shares=[3, 1: error: the value is not valid YAML") == 0);
  CHECK(first_error(configs_dir() / "cluster" / "local.yaml", sets({"nodes.5.state=up"})) ==
        "--set nodes.5.state=up: error: cluster.nodes is a list of 1 entries; \"5\" is not an "
        "index into it");
  CHECK(first_error(fashion(), sets({"name.first=x"})) ==
        "--set name.first=x: error: job.name is \"fashion-mnist\", not a mapping");
}

TEST_CASE("an override's file reference is relative to the working directory") {
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(configs_dir());
  const JobConfig j = load_job(fashion(), sets({"cluster=cluster/example-h100.yaml"}));
  std::filesystem::current_path(previous);
  REQUIRE(j.cluster.has_value());
  CHECK(j.cluster->name == "example-h100");
}

TEST_CASE("an override without key=value is a usage error") {
  CHECK_THROWS_WITH_AS(parse_override("ranks"), "--set ranks: expected key.path=value",
                       dojo::UsageError);
  CHECK_THROWS_WITH_AS(parse_override("=4"), "--set =4: expected key.path=value", dojo::UsageError);
  CHECK_THROWS_WITH_AS(parse_override("a..b=4"), "--set a..b=4: empty segment in key path \"a..b\"",
                       dojo::UsageError);
  const Override o = parse_override("env.X=a=b");
  CHECK(o.path == std::vector<std::string>{"env", "X"});
  CHECK(o.value == "a=b");
}

TEST_CASE("--set resources.ranks replaces the file's h100e, and the other way round") {
  const auto synthetic = configs_dir() / "jobs" / "synthetic-resnet50.yaml";
  const JobConfig by_ranks = load_job(synthetic, sets({"resources.ranks=2"}));
  CHECK(by_ranks.resources.ranks == 2);
  CHECK_FALSE(by_ranks.resources.h100e.has_value());
  const JobConfig by_h100e = load_job(fashion(), sets({"job.resources.h100e=16"}));
  CHECK(by_h100e.resources.h100e == 16);
  CHECK_FALSE(by_h100e.resources.ranks.has_value());
  // Both given on the command line: still one too many.
  CHECK(first_error(synthetic, sets({"resources.ranks=2", "resources.h100e=8"})) ==
        "--set resources.h100e=8: error: job.resources.h100e: give either ranks or h100e, not "
        "both");
  // The resolved record shows what ran.
  const std::string resolved = resolved_yaml(synthetic, sets({"resources.ranks=2"}));
  CHECK(resolved.find("h100e") == std::string::npos);
  CHECK(resolved.find("ranks: 2") != std::string::npos);
}
