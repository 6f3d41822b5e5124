#include "orchestrator/launch/rank_env.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/batch_shares.h"
#include "common/error.h"
#include "common/exit_codes.h"
#include "common/numbers.h"
#include "orchestrator/launch/rank_exit.h"
#include "orchestrator/launch/slurm_hostlist.h"

namespace dojo::launch {
namespace {

/// torchrun's rendezvous port, for srun steps that were not given one.
constexpr const char* kDefaultMasterPort = "29500";

struct Rename {
  const char* from;
  const char* to;
};
constexpr Rename kOpenMpi[] = {{"OMPI_COMM_WORLD_RANK", "RANK"},
                               {"OMPI_COMM_WORLD_SIZE", "WORLD_SIZE"},
                               {"OMPI_COMM_WORLD_LOCAL_RANK", "LOCAL_RANK"},
                               {"OMPI_COMM_WORLD_LOCAL_SIZE", "LOCAL_WORLD_SIZE"}};

template <std::size_t N>
bool copy_env(const Rename (&pairs)[N], std::string& error) {
  for (const auto& [from, to] : pairs) {
    const char* value = std::getenv(from);
    if (value == nullptr) {
      error = std::string(from) + " is not set";
      return false;
    }
    setenv(to, value, 1);
  }
  return true;
}

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : (fallback != nullptr ? fallback : "");
}

/// Under srun: the torchrun variables from the step's SLURM_* variables.
bool slurm_rank_env(std::string& error) {
  const std::string world = env_or("SLURM_STEP_NUM_TASKS", std::getenv("SLURM_NTASKS"));
  const std::string local = env_or("SLURM_LOCALID", nullptr);
  const std::string nodelist = env_or("SLURM_STEP_NODELIST", std::getenv("SLURM_JOB_NODELIST"));
  const std::string per_node =
      env_or("SLURM_STEP_TASKS_PER_NODE", std::getenv("SLURM_TASKS_PER_NODE"));
  const std::optional<std::int64_t> node = parse_integer(env_or("SLURM_NODEID", "0"));
  if (world.empty() || local.empty() || nodelist.empty() || per_node.empty() || !node) {
    error =
        "under srun, SLURM_NTASKS, SLURM_LOCALID, SLURM_NODEID, SLURM_STEP_NODELIST and "
        "SLURM_STEP_TASKS_PER_NODE must be set";
    return false;
  }
  try {
    const std::vector<int> counts = expand_tasks_per_node(per_node);
    if (*node < 0 || *node >= static_cast<std::int64_t>(counts.size())) {
      error = "SLURM_NODEID=" + std::to_string(*node) + " is outside SLURM_STEP_TASKS_PER_NODE=\"" +
              per_node + "\"";
      return false;
    }
    setenv("RANK", std::getenv("SLURM_PROCID"), 1);
    setenv("WORLD_SIZE", world.c_str(), 1);
    setenv("LOCAL_RANK", local.c_str(), 1);
    setenv("LOCAL_WORLD_SIZE", std::to_string(counts[static_cast<std::size_t>(*node)]).c_str(), 1);
    // The launcher sets the rendezvous; a bare `srun dojo-exec` gets rank 0's node.
    setenv("MASTER_ADDR", expand_slurm_hostlist(nodelist).front().c_str(), 0);
    setenv("MASTER_PORT", kDefaultMasterPort, 0);
  } catch (const Error& e) {
    error = e.what();
    return false;
  }
  return true;
}

/// The job client (python/dojo_job) in the python/ folder beside this
/// program's bin/: first on PYTHONPATH, so every rank can import it without
/// installing anything.
void put_job_client_on_python_path() {
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0)
    return;
  self[n] = '\0';
  std::string dir(self);
  dir = dir.substr(0, dir.rfind('/'));              // .../bin
  dir = dir.substr(0, dir.rfind('/')) + "/python";  // .../python
  if (::access((dir + "/dojo_job/__init__.py").c_str(), R_OK) != 0)
    return;
  const char* old = std::getenv("PYTHONPATH");
  setenv("PYTHONPATH", old != nullptr && *old != '\0' ? (dir + ":" + old).c_str() : dir.c_str(), 1);
}

}  // namespace

int exec_with_rank_env(const std::vector<std::string>& command, std::string& error) {
  if (command.empty()) {
    error = "exec needs -- COMMAND ARGS...";
    return kExitUsage;
  }
  if (std::getenv("OMPI_COMM_WORLD_RANK") != nullptr) {
    if (!copy_env(kOpenMpi, error))
      return kExitUsage;
  } else if (std::getenv("SLURM_PROCID") != nullptr) {
    if (!slurm_rank_env(error))
      return kExitUsage;
  } else {
    error = "exec runs under mpirun or srun (neither OMPI_COMM_WORLD_RANK nor SLURM_PROCID is set)";
    return kExitUsage;
  }
  // DOJO_BATCH_SHARES is run-length encoded ("85000x128"): this rank's entry.
  if (const char* shares = std::getenv("DOJO_BATCH_SHARES")) {
    const std::optional<std::int64_t> rank = parse_integer(std::getenv("RANK"));
    const std::optional<int> share =
        rank ? share_of_rank(shares, static_cast<long>(*rank)) : std::nullopt;
    if (!share) {
      error = std::string("DOJO_BATCH_SHARES=\"") + shares + "\" has no share for rank " +
              std::getenv("RANK");
      return kExitUsage;
    }
    setenv("DOJO_BATCH_SHARE", std::to_string(*share).c_str(), 1);
  }
  put_job_client_on_python_path();
  // A rank dies with the Open MPI daemon that started it: when the launcher
  // kills an attempt, ranks on nodes it cannot reach any more (a cut link)
  // must not linger. The setting survives exec.
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent)
    ::_exit(kExitParentDied);  // the parent died before the line above
  if (rank_exit_wanted())
    return run_and_report_exit(command, error);  // the rank dies with this shim in turn
  std::vector<char*> argv;
  for (const std::string& word : command)
    argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  error = "cannot run " + command[0] + ": " + std::strerror(errno);
  return kExitCannotExec;
}

}  // namespace dojo::launch
