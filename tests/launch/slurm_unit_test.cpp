// Slurm's side of a launch without a Slurm: its compact lists, the
// allocation from its environment, what mpirun and srun say about failed
// ranks and lost nodes, and the sbatch script and slurm.conf lines dojo writes.
#include <doctest/doctest.h>

#include <cstdlib>

#include "common/error.h"
#include "orchestrator/config/loader.h"
#include "orchestrator/launch/launch_error.h"
#include "orchestrator/launch/launch_plan.h"
#include "orchestrator/launch/launch_support.h"
#include "orchestrator/launch/mpirun_command.h"
#include "orchestrator/launch/placement.h"
#include "orchestrator/launch/slurm.h"
#include "orchestrator/launch/slurm_hostlist.h"
#include "orchestrator/launch/slurm_submit.h"
#include "orchestrator/launch/supervisor.h"
#include "tests/support.h"

using namespace dojo::launch;

namespace {

/// Sets Slurm's variables for the scope, and unsets every one it set after.
class SlurmEnv {
 public:
  explicit SlurmEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const char* name : kNames)
      ::unsetenv(name);
    for (const auto& [name, value] : vars)
      ::setenv(name, value, 1);
  }
  ~SlurmEnv() {
    for (const char* name : kNames)
      ::unsetenv(name);
  }

 private:
  static constexpr const char* kNames[] = {
      "SLURM_JOB_NODELIST",   "SLURM_NODELIST",     "SLURM_JOB_ID", "SLURM_JOBID",
      "SLURM_TASKS_PER_NODE", "SLURM_NTASKS",       "SLURM_NPROCS", "SLURM_GPUS_PER_NODE",
      "SLURM_GPUS_ON_NODE",   "SLURM_RESTART_COUNT"};
};

}  // namespace

TEST_CASE("Slurm hostlists and task counts expand as Slurm writes them") {
  CHECK(expand_slurm_hostlist("gpu[01-03,07],login1,d1-[1-2]") ==
        std::vector<std::string>{"gpu01", "gpu02", "gpu03", "gpu07", "login1", "d1-1", "d1-2"});
  CHECK(expand_slurm_hostlist("n[8-10]-ib") ==
        std::vector<std::string>{"n8-ib", "n9-ib", "n10-ib"});
  CHECK(expand_slurm_hostlist("single") == std::vector<std::string>{"single"});
  CHECK_THROWS_WITH_AS(expand_slurm_hostlist("gpu[3-1]"), "malformed Slurm hostlist \"gpu[3-1]\"",
                       dojo::UsageError);
  CHECK_THROWS_WITH_AS(expand_slurm_hostlist("gpu[1-2"), "malformed Slurm hostlist \"gpu[1-2\"",
                       dojo::UsageError);
  CHECK(expand_tasks_per_node("2(x3),1") == std::vector<int>{2, 2, 2, 1});
  CHECK(expand_tasks_per_node("8") == std::vector<int>{8});
}

TEST_CASE("host lists fold back into Slurm's compact form") {
  CHECK(compress_slurm_hostlist({"gpu001", "gpu002", "gpu003", "gpu007", "login", "gpu005"}) ==
        "gpu[001-003,005,007],login");
  CHECK(compress_slurm_hostlist({"d1-05"}) == "d1-05");
  CHECK(compress_slurm_hostlist({"n9", "n10", "n11"}) == "n9,n[10-11]");  // widths differ
  for (const std::string list : {"a[01-04],b7,c", "x[1-3,5]"})
    CHECK(compress_slurm_hostlist(expand_slurm_hostlist(list)) == list);
}

TEST_CASE("the allocation comes from Slurm's environment") {
  {
    SlurmEnv env({});
    CHECK_FALSE(slurm_allocation().has_value());
  }
  {
    SlurmEnv env({{"SLURM_JOB_NODELIST", "n[1-3]"},
                  {"SLURM_JOB_ID", "42"},
                  {"SLURM_TASKS_PER_NODE", "2(x2),1"},
                  {"SLURM_NTASKS", "5"},
                  {"SLURM_RESTART_COUNT", "2"}});
    const auto a = slurm_allocation();
    REQUIRE(a.has_value());
    CHECK(a->job_id == "42");
    CHECK(a->nodes == std::vector<std::pair<std::string, int>>{{"n1", 2}, {"n2", 2}, {"n3", 1}});
    CHECK(a->default_ranks() == 5);
    CHECK(a->restart_count == 2);
    CHECK_FALSE(a->slots_beyond_tasks);
    CHECK(a->describe() ==
          "Slurm job 42 grants 5 tasks on 3 nodes (SLURM_JOB_NODELIST=n[1-3], SLURM_NTASKS=5, "
          "SLURM_TASKS_PER_NODE=2(x2),1)");
  }
  {
    // GPUs: one rank per GPU, whatever the task count.
    SlurmEnv env({{"SLURM_JOB_NODELIST", "g[1-2]"},
                  {"SLURM_JOB_ID", "7"},
                  {"SLURM_TASKS_PER_NODE", "1(x2)"},
                  {"SLURM_NTASKS", "2"},
                  {"SLURM_GPUS_PER_NODE", "h100:8"}});
    const auto a = slurm_allocation();
    REQUIRE(a.has_value());
    CHECK(a->gpus_per_node == 8);
    CHECK(a->slots() == 16);
    CHECK(a->default_ranks() == 16);
    CHECK(a->slots_beyond_tasks);  // mpirun --oversubscribe, srun --overcommit
  }
  {
    SlurmEnv env({{"SLURM_JOB_NODELIST", "n[1-3]"}, {"SLURM_TASKS_PER_NODE", "2"}});
    CHECK_THROWS_WITH_AS(slurm_allocation(),
                         "SLURM_TASKS_PER_NODE (\"2\") does not match the 3 nodes of "
                         "SLURM_JOB_NODELIST",
                         dojo::UsageError);
  }
  CHECK(parse_gpu_count("gpu:a100:4,gpu:h100:4") == 8);
  CHECK_THROWS_WITH_AS(parse_gpu_count("h100:many"), "cannot read a GPU count from \"h100:many\"",
                       dojo::UsageError);
}

TEST_CASE("failed ranks and lost nodes are read from what mpirun and srun print") {
  const std::string lost =
      "ORTE has lost communication with a remote daemon.\n\n"
      "  HNP daemon   : [[3381,0],0] on node dojo-n1\n"
      "  Remote daemon: [[3381,0],1] on node dojo-n2\n\n"
      "srun: error: dojo-n2: task 0: Killed\n";
  CHECK(lost_nodes_in(lost, false) == std::vector<std::string>{"dojo-n2"});
  CHECK(failed_ranks_in(lost, false).empty());
  const std::string srun =
      "srun: error: n1: tasks 2-3: Exited with exit code 7\n"
      "srun: error: n2: task 5: Killed\n";
  CHECK(failed_ranks_in(srun, true) == std::vector<int>{2, 3, 5});
  CHECK(lost_nodes_in(srun, true).empty());  // under srun a killed task is a rank
  // The tasks srun kills after the first failure (--kill-on-bad-exit) are not failures.
  CHECK(failed_ranks_in("srun: error: vm: task 1: Killed\n"
                        "srun: launch/slurm: _step_signal: Terminating StepId=2.0\n"
                        "srun: error: vm: task 0: Killed\n",
                        true) == std::vector<int>{1});
  CHECK(failed_ranks_in("  Process name: [[18423,1],4]\n  Exit code:    7\n", false) ==
        std::vector<int>{4});
}

TEST_CASE("srun starts the ranks in the placement's order") {
  MpirunSpec spec;
  spec.ranks = 3;
  spec.program = {"dojo-exec", "--", "python3", "train.py"};
  spec.env = {{"DOJO_JOB", "llm"}};
  spec.network_interface = "ib0";
  CHECK(srun_argv(spec, "pmix") ==
        std::vector<std::string>{"srun", "--mpi=pmix", "--ntasks=3", "--distribution=arbitrary",
                                 "--kill-on-bad-exit=1", "--label", "--export=ALL", "dojo-exec",
                                 "--", "python3", "train.py"});
  const auto env = srun_env(spec, "/runs/llm/rank-hostfile");
  CHECK(env.at("SLURM_HOSTFILE") == "/runs/llm/rank-hostfile");
  CHECK(env.at("OMPI_MCA_btl_tcp_if_include") == "ib0");
  CHECK(env.at("NCCL_SOCKET_IFNAME") == "ib0");
  CHECK(env.at("DOJO_JOB") == "llm");
}

TEST_CASE("attempt numbers continue in a run directory") {
  dojo::test::TempDir dir;
  CHECK(next_attempt_number(dir.path()) == 0);
  dir.write("attempt-0.log", "");
  dir.write("attempt-3.log", "");
  dir.write("attempt-x.log", "");
  dir.write("preflight-n1.log", "");
  CHECK(next_attempt_number(dir.path()) == 4);
}

TEST_CASE("dojo submit writes the job's sbatch script") {
  const std::string root = DOJO_SOURCE_DIR;
  SubmitOptions options;
  options.job_file = root + "/configs/jobs/synthetic-resnet50.yaml";
  options.run_dir = "/shared/runs/r50";
  options.dojorun = "/opt/dojo/scripts/dojorun";
  options.bin_dir = "/opt/dojo/build/bin";
  options.exclude = {"h100-009"};
  options.overrides = {dojo::config::parse_override("resources.h100e=16")};
  dojo::config::JobConfig job = dojo::config::load_job(options.job_file, options.overrides);
  job.wall_time_s = 3601;
  job.slurm.partition = "gpu";
  job.slurm.signal_lead_s = 300;
  const std::string script = sbatch_script(options, job);
  for (const char* line :
       {"#SBATCH --job-name=synthetic-resnet50\n", "#SBATCH --nodes=2\n",
        "#SBATCH --ntasks-per-node=8\n", "#SBATCH --gpus-per-node=8\n", "#SBATCH --time=61\n",
        "#SBATCH --requeue\n", "#SBATCH --signal=B:USR1@300\n",
        "#SBATCH --output=/shared/runs/r50/slurm-%j.out\n", "#SBATCH --partition=gpu\n",
        // the inventory's drained h100-017 and down d1-05, and the given h100-009
        "#SBATCH --exclude=d1-05,h100-[009,017]\n", "export DOJO_BIN_DIR=/opt/dojo/build/bin\n"}) {
    CHECK_MESSAGE(script.find(line) != std::string::npos, std::string(line));
  }
  CHECK(script.find("exec /opt/dojo/scripts/dojorun " + root +
                    "/configs/jobs/synthetic-resnet50.yaml --run-dir /shared/runs/r50 --set "
                    "resources.h100e=16\n") != std::string::npos);
  CHECK(script.find("--account") == std::string::npos);
  // An H100e request needs an inventory to count nodes by.
  job.cluster.reset();
  job.resources.ranks.reset();
  job.resources.h100e = 16;
  CHECK_THROWS_WITH_AS(sbatch_script(options, job),
                       "job synthetic-resnet50 asks for H100e: give --cluster C.yaml (or "
                       "job.cluster) so that dojo submit can count nodes by their accelerators",
                       dojo::UsageError);
}

TEST_CASE("slurm.conf lines count H100e from the accelerator catalog") {
  const auto cluster = dojo::config::load_cluster(std::string(DOJO_SOURCE_DIR) +
                                                  "/configs/cluster/example-h100.yaml");
  const std::string billing = slurm_billing(cluster);
  CHECK(billing.find("PartitionName=example-h100-a100-sxm Nodes=a100-[01-08] "
                     "TRESBillingWeights=\"CPU=0,GRES/gpu:a100-sxm=0.315\"\n") !=
        std::string::npos);
  CHECK(billing.find("TRESBillingWeights=\"CPU=0.005\"") != std::string::npos);
  CHECK(billing.find("AccountingStorageTRES=gres/gpu,gres/dojo,gres/gpu:a100-sxm,gres/dojo:d1,"
                     "gres/gpu:h100-sxm\n") != std::string::npos);
  const std::string nodes = slurm_nodes(cluster);
  CHECK(nodes.find("NodeName=h100-[001-016] Gres=gpu:h100-sxm:8 Feature=h100-sxm,rack-a "
                   "State=UNKNOWN\n") != std::string::npos);
  CHECK(nodes.find("NodeName=h100-017 Gres=gpu:h100-sxm:8 Feature=h100-sxm,rack-a State=DRAIN") !=
        std::string::npos);
}

TEST_CASE("allocation nodes are typed by the inventory, by unlisted_nodes, or refused by name") {
  const std::string root = DOJO_SOURCE_DIR;
  dojo::test::TempDir dir;
  SlurmAllocation allocation;
  allocation.job_id = "12";
  allocation.nodes = {{"localhost", 2}, {"node7", 4}};
  LaunchOptions options;
  dojo::config::JobConfig job;
  job.name = "j";
  std::vector<std::string> notes;

  // local.yaml lists localhost (its NIC is lo) and types other nodes as CPUs.
  options.cluster_file = root + "/configs/cluster/local.yaml";
  const auto cluster = where_to_run(options, job, allocation, notes);
  REQUIRE(cluster.nodes.size() == 2);
  CHECK(cluster.nodes[1].host == "node7");
  CHECK(cluster.nodes[1].slots == 4);
  CHECK(cluster.nodes[1].accelerator == "cpu");
  CHECK(cluster.network.interface.empty());  // never the inventory's lo for node7
  REQUIRE(notes.size() == 1);
  CHECK(notes[0] ==
        "the inventory's network interface \"lo\" is not used: node(s) node7 are not in it (MPI "
        "and NCCL choose a NIC, never loopback)");

  // An inventory without unlisted_nodes refuses node7 by name.
  const auto strict = dir.write(
      "strict.yaml", "cluster:\n  name: strict\n  accelerators: " + root +
                         "/configs/accelerators.yaml\n  nodes:\n    - {host: localhost, slots: 2, "
                         "accelerator: cpu}\n  network: {interface: eth0}\n");
  options.cluster_file = strict;
  CHECK_THROWS_WITH_AS(
      where_to_run(options, job, allocation, notes),
      ("node(s) node7 of the Slurm allocation 12 are not in the cluster inventory " +
       strict.string() +
       ": list them there, or type every unlisted node with `unlisted_nodes: "
       "{accelerator: NAME}`")
          .c_str(),
      LaunchError);

  // Without an inventory the nodes are untyped: not counted, and said so.
  options.cluster_file.reset();
  notes.clear();
  const auto untyped = where_to_run(options, job, allocation, notes);
  CHECK(untyped.nodes[0].accelerator.empty());
  REQUIRE(notes.size() == 1);
  CHECK(notes[0] ==
        "node(s) localhost, node7 are not typed by a cluster inventory: their H100e is not "
        "counted (give --cluster C.yaml listing them)");
  PlacementRequest request;
  request.h100e = 1;
  CHECK_THROWS_WITH_AS(place(untyped, request, {}),
                       "cannot place 1.0 H100e on cluster \"Slurm allocation 12\": 0 slots (0.0 "
                       "H100e) are free on 0 up nodes; 0 slots are held by other jobs and 0 nodes "
                       "are drained, down or blacklisted; 2 node(s) have no accelerator type to "
                       "count H100e by (localhost, ...)",
                       LaunchError);
  request = {};
  request.ranks = 6;
  const Placement p = place(untyped, request, {});
  CHECK(p.h100e == 0);
  CHECK(p.untyped_hosts() == std::vector<std::string>{"node7", "localhost"});
}
