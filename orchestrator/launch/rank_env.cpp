#include "orchestrator/launch/rank_env.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/batch_shares.h"
#include "common/exit_codes.h"
#include "common/numbers.h"

namespace dojo::launch {

int exec_with_rank_env(const std::vector<std::string>& command, std::string& error) {
  if (command.empty()) {
    error = "exec needs -- COMMAND ARGS...";
    return kExitUsage;
  }
  const char* pairs[][2] = {{"OMPI_COMM_WORLD_RANK", "RANK"},
                            {"OMPI_COMM_WORLD_SIZE", "WORLD_SIZE"},
                            {"OMPI_COMM_WORLD_LOCAL_RANK", "LOCAL_RANK"},
                            {"OMPI_COMM_WORLD_LOCAL_SIZE", "LOCAL_WORLD_SIZE"}};
  for (const auto& [from, to] : pairs) {
    const char* value = std::getenv(from);
    if (value == nullptr) {
      error = std::string("exec runs under mpirun (") + from + " is not set)";
      return kExitUsage;
    }
    setenv(to, value, 1);
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
  // A rank dies with the Open MPI daemon that started it: when the launcher
  // kills an attempt, ranks on nodes it cannot reach any more (a cut link)
  // must not linger. The setting survives exec.
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent)
    ::_exit(kExitParentDied);  // the parent died before the line above
  std::vector<char*> argv;
  for (const std::string& word : command)
    argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  error = "cannot run " + command[0] + ": " + std::strerror(errno);
  return kExitCannotExec;
}

}  // namespace dojo::launch
