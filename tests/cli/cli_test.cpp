// The `dojo` command line: dispatch, help, exit codes and `validate`.
#include <doctest/doctest.h>

#include <sstream>

#include "orchestrator/cli/cli.h"
#include "tests/support.h"

namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result run_dojo(std::vector<std::string> args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = dojo::cli::run(args, out, err);
  return {code, out.str(), err.str()};
}

std::string config(const char* relative) {
  return (dojo::test::configs_dir() / relative).string();
}
std::string bad(const char* name) {
  return (dojo::test::data_dir() / "bad" / name).string();
}

}  // namespace

TEST_CASE("dojo --help lists every command and exits 0") {
  const Result r = run_dojo({"--help"});
  CHECK(r.code == 0);
  CHECK(r.out.find("validate") != std::string::npos);
  CHECK(r.out.find("version") != std::string::npos);
  CHECK(r.out.find("Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error") !=
        std::string::npos);
}

TEST_CASE("dojo with no command prints help and exits 2") {
  const Result r = run_dojo({});
  CHECK(r.code == 2);
  CHECK(r.err.find("usage: dojo COMMAND") == 0);
}

TEST_CASE("an unknown command exits 2 with a suggestion") {
  const Result r = run_dojo({"valdate", "x.yaml"});
  CHECK(r.code == 2);
  CHECK(r.err.find("dojo: unknown command \"valdate\" (did you mean \"validate\"?)") == 0);
}

TEST_CASE("dojo version prints the version and the commit") {
  const Result r = run_dojo({"version"});
  CHECK(r.code == 0);
  CHECK(r.out.find("dojo 0.1.0 (git ") == 0);
  CHECK(run_dojo({"--version"}).out == r.out);
  CHECK(run_dojo({"version", "extra"}).code == 2);
}

TEST_CASE("a command's --help prints its usage and exits 0") {
  const Result r = run_dojo({"validate", "--help"});
  CHECK(r.code == 0);
  CHECK(r.out == "usage: dojo validate FILE... [--set key.path=value]...\n");
}

TEST_CASE("validate accepts good files of every kind and says what they define") {
  const Result r =
      run_dojo({"validate", config("accelerators.yaml"), config("cluster/local.yaml"),
                config("jobs/fashion-mnist.yaml"), config("capacity/tesla-2024.yaml")});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.find("8 accelerators") != std::string::npos);
  CHECK(r.out.find("cluster \"local\": 1 nodes (1 up, 2 slots up") != std::string::npos);
  CHECK(r.out.find("job \"fashion-mnist\": mlp workload on 2 ranks, cluster \"local\"") !=
        std::string::npos);
  CHECK(r.out.find("capacity \"tesla-ai-training\": 12 pools (4 planned), 2 plan milestones up to "
                   "85000 H100e "
                   "by 2024-12-31") != std::string::npos);
}

TEST_CASE("validate reports every error of every file and exits 2") {
  const Result r = run_dojo(
      {"validate", bad("unknown-key.yaml"), config("accelerators.yaml"), bad("yaml11-bool.yaml")});
  CHECK(r.code == 2);
  CHECK(r.out.find("ok: ") != std::string::npos);  // the good file is still checked
  CHECK(r.err.find(bad("unknown-key.yaml") + ":7:5: error: unknown key \"rank_per_node\"") !=
        std::string::npos);
  CHECK(r.err.find(bad("yaml11-bool.yaml") + ":6:14: error: job.metrics.enabled") !=
        std::string::npos);
  CHECK(r.err.find("5 errors in 2 of 3 files") != std::string::npos);
}

TEST_CASE("validate applies --set overrides and names the flag when one is bad") {
  const Result good =
      run_dojo({"validate", config("jobs/fashion-mnist.yaml"), "--set", "resources.ranks=3"});
  CHECK(good.code == 0);
  CHECK(good.out.find("on 3 ranks") != std::string::npos);
  const Result bad_set =
      run_dojo({"validate", config("jobs/fashion-mnist.yaml"), "--set=resources.ranks=-1"});
  CHECK(bad_set.code == 2);
  CHECK(bad_set.err.find(
            "--set resources.ranks=-1: error: job.resources.ranks: must be at least 1") == 0);
}

TEST_CASE("validate's usage errors exit 2") {
  CHECK(run_dojo({"validate"}).code == 2);
  CHECK(run_dojo({"validate"}).err.find("dojo validate: no files to validate") == 0);
  CHECK(run_dojo({"validate", "--bogus", "x.yaml"}).err.find("unknown flag \"--bogus\"") !=
        std::string::npos);
  CHECK(run_dojo({"validate", config("accelerators.yaml"), "--set"}).code == 2);
  CHECK(run_dojo({"validate", config("accelerators.yaml"), "--set", "novalue"})
            .err.find("--set novalue: expected key.path=value") != std::string::npos);
}

TEST_CASE("a missing file exits 2 and names it") {
  const Result r = run_dojo({"validate", "/nonexistent/job.yaml"});
  CHECK(r.code == 2);
  CHECK(r.err.find("/nonexistent/job.yaml: error: cannot read: No such file or directory") == 0);
}
