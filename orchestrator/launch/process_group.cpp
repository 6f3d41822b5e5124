#include "orchestrator/launch/process_group.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/exit_codes.h"
#include "orchestrator/launch/launch_error.h"

namespace dojo::launch {

std::pair<pid_t, int> start_group(const std::vector<std::string>& args,
                                  const std::map<std::string, std::string>& env) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw LaunchError("cannot create a pipe for mpirun");
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t child = ::fork();
  if (child < 0)
    throw LaunchError("cannot fork mpirun");
  if (child == 0) {
    // The child leads its own process group, so the whole attempt can be signalled at once.
    ::setpgid(0, 0);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    for (int sig : {SIGINT, SIGTERM, SIGUSR1, SIGHUP})
      ::signal(sig, SIG_DFL);
    // mpirun outlives no launcher: killed with it, it takes the ranks along.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    for (const auto& [name, value] : env)
      ::setenv(name.c_str(), value.c_str(), 1);
    ::execvp(argv[0], argv.data());
    const std::string message =
        std::string("dojo launch: cannot run ") + argv[0] + ": " + std::strerror(errno) + "\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, message.data(), message.size());
    ::_exit(kExitCannotExec);
  }
  ::setpgid(child, child);  // also from here: no race with the child's own call
  ::close(pipe_fds[1]);
  return {child, pipe_fds[0]};
}

}  // namespace dojo::launch
