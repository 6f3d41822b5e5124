#include "orchestrator/launch/rank_env.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace dojo::launch {

int exec_with_rank_env(const std::vector<std::string>& command, std::string& error) {
  if (command.empty()) {
    error = "exec needs -- COMMAND ARGS...";
    return 2;
  }
  const char* pairs[][2] = {{"OMPI_COMM_WORLD_RANK", "RANK"},
                            {"OMPI_COMM_WORLD_SIZE", "WORLD_SIZE"},
                            {"OMPI_COMM_WORLD_LOCAL_RANK", "LOCAL_RANK"},
                            {"OMPI_COMM_WORLD_LOCAL_SIZE", "LOCAL_WORLD_SIZE"}};
  for (const auto& [from, to] : pairs) {
    const char* value = std::getenv(from);
    if (value == nullptr) {
      error = std::string("exec runs under mpirun (") + from + " is not set)";
      return 2;
    }
    setenv(to, value, 1);
  }
  if (const char* shares = std::getenv("DOJO_BATCH_SHARES")) {
    const long rank = std::strtol(std::getenv("RANK"), nullptr, 10);
    const std::string list = shares;
    std::size_t start = 0;
    for (long r = 0; r < rank && start != std::string::npos; ++r) {
      start = list.find(',', start);
      if (start != std::string::npos)
        ++start;
    }
    if (start != std::string::npos) {
      setenv("DOJO_BATCH_SHARE", list.substr(start, list.find(',', start) - start).c_str(), 1);
    }
  }
  // A rank dies with the Open MPI daemon that started it: when the launcher
  // kills an attempt, ranks on nodes it cannot reach any more (a cut link)
  // must not linger. The setting survives exec.
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent)
    ::_exit(137);  // the parent died before the line above
  std::vector<char*> argv;
  for (const std::string& word : command)
    argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  error = "cannot run " + command[0] + ": " + std::strerror(errno);
  return 127;
}

}  // namespace dojo::launch
