// Placement on the cluster inventory, and the mpirun command line.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>

#include "orchestrator/config/loader.h"
#include "orchestrator/launch/launch_error.h"
#include "orchestrator/launch/launcher.h"
#include "orchestrator/launch/mpirun_command.h"
#include "orchestrator/launch/placement.h"
#include "tests/support.h"

using namespace dojo::launch;
using dojo::config::ClusterConfig;

namespace {

ClusterConfig example() {
  return dojo::config::load_cluster(dojo::test::configs_dir() / "cluster" / "example-h100.yaml");
}

PlacementRequest ranks(int n, int per_node = 0) {
  PlacementRequest r;
  r.ranks = n;
  r.ranks_per_node = per_node;
  return r;
}

}  // namespace

TEST_CASE("homogeneous ranks go to the fewest nodes of one rack") {
  const Placement p = place(example(), ranks(16), Unavailable{});
  REQUIRE(p.hosts.size() == 2);
  CHECK(p.hosts[0].host == "h100-001");
  CHECK(p.hosts[1].host == "h100-002");
  CHECK(p.hostfile() == "h100-001 slots=8\nh100-002 slots=8\n");
  CHECK(p.h100e == doctest::Approx(16.0));
  CHECK(p.rank_factors().size() == 16);
}

TEST_CASE("ranks_per_node caps each node") {
  const Placement p = place(example(), ranks(8, 2), Unavailable{});
  CHECK(p.hosts.size() == 4);
  CHECK(p.hosts[0].slots == 2);
}

TEST_CASE("an H100e request fills the strongest nodes first") {
  PlacementRequest r;
  r.h100e = 20;
  const Placement p = place(example(), r, Unavailable{});
  CHECK(p.h100e >= 20);
  CHECK(p.ranks == 20);  // H100s: one H100e a rank
  CHECK(p.hosts.back().slots == 4);
}

TEST_CASE("drained, down, blacklisted nodes and held slots are skipped") {
  Unavailable u;
  u.held_slots["h100-001"] = 8;  // another job holds the whole node
  u.held_slots["h100-002"] = 5;
  u.blacklisted.insert("h100-003");
  const Placement p = place(example(), ranks(11), u);
  REQUIRE(p.hosts.size() == 2);
  CHECK(p.hosts[0].host == "h100-004");
  CHECK(p.hosts[1].host == "h100-005");
  for (const auto& h : place(example(), ranks(136), u).hosts) {
    CHECK(h.host != "h100-017");  // drained
    CHECK(h.host != "d1-05");     // down
    CHECK(h.host != "h100-001");
    CHECK(h.host != "h100-003");
  }
}

TEST_CASE("mixed H100, A100 and D1 nodes give batch shares by H100e factor") {
  ClusterConfig c = example();
  Unavailable u;
  for (int i = 1; i <= 16; ++i) {  // every H100 is busy: the job lands on rack-b
    char host[16];
    std::snprintf(host, sizeof(host), "h100-%03d", i);
    u.held_slots[host] = 8;
  }
  const Placement p = place(c, ranks(14), u);
  CHECK(p.hosts.size() == 2);
  CHECK(p.hosts[0].rack == "rack-b");
  const auto shares = shares_by_factor(1000, {1.0, 0.315, 0.366});
  CHECK(shares[0] + shares[1] + shares[2] == 1000);
  CHECK(shares[0] == 595);
}

TEST_CASE("a request that cannot be met says what is available") {
  CHECK_THROWS_WITH_AS(
      place(example(), ranks(1000), Unavailable{}),
      "cannot place 1000 ranks on cluster \"example-h100\": 220 slots (157.0 H100e) "
      "are free on 30 up nodes; 0 slots are held by other jobs and 2 nodes are "
      "drained, down or blacklisted",
      LaunchError);
}

TEST_CASE("the mpirun command is an argument vector that a shell could not misread") {
  MpirunSpec spec;
  spec.hostfile = "/runs/job/hostfile";
  spec.ranks = 4;
  spec.network_interface = "ib0";
  spec.rsh_agent = "/usr/bin/ssh";
  spec.env["WEIRD"] = "a b; $(rm -rf /) 'x'";
  spec.program = {"/bin/dojo", "exec", "--", "python3", "train.py"};
  const auto argv = mpirun_argv(spec);
  CHECK(shell_words(argv) ==
        "mpirun --hostfile /runs/job/hostfile -np 4 --map-by slot --bind-to none --tag-output "
        "--mca orte_leave_session_attached 1 "
        "--mca plm_rsh_agent /usr/bin/ssh --mca btl_tcp_if_include ib0 --mca oob_tcp_if_include "
        "ib0 -x NCCL_SOCKET_IFNAME=ib0 -x 'WEIRD=a b; $(rm -rf /) '\\''x'\\''' /bin/dojo exec -- "
        "python3 train.py");
  CHECK(std::find(argv.begin(), argv.end(), std::string("WEIRD=a b; $(rm -rf /) 'x'")) !=
        argv.end());
}

TEST_CASE("the cluster's MCA parameters reach mpirun, and srun as OMPI_MCA_ variables") {
  MpirunSpec spec;
  spec.hostfile = "/runs/job/hostfile";
  spec.mca = {{"pml", "ob1"}, {"btl", "self,vader,tcp"}};
  spec.program = {"/bin/dojo-exec", "--", "true"};
  const std::string words = shell_words(mpirun_argv(spec));
  CHECK(words.find("--mca btl self,vader,tcp --mca pml ob1 ") != std::string::npos);
  const auto env = srun_env(spec, "/runs/job/rank-hostfile");
  CHECK(env.at("OMPI_MCA_pml") == "ob1");
  CHECK(env.at("OMPI_MCA_btl") == "self,vader,tcp");
}

TEST_CASE("host lists and hostfiles parse with clear errors") {
  CHECK(parse_host_list("a:2,b") == std::vector<std::pair<std::string, int>>{{"a", 2}, {"b", 1}});
  CHECK_THROWS_WITH_AS(parse_host_list("a:x"), "-H expects host:slots,..., got \"a:x\"",
                       dojo::UsageError);
  dojo::test::TempDir dir;
  const auto file = dir.write("hosts", "# nodes\nn1 slots=4\nn2\n\n");
  CHECK(read_hostfile(file) == std::vector<std::pair<std::string, int>>{{"n1", 4}, {"n2", 1}});
  const auto bad = dir.write("bad", "n1 slots=0\n");
  CHECK_THROWS_WITH_AS(read_hostfile(bad), (bad.string() + ":1: bad slots").c_str(),
                       dojo::UsageError);
}
