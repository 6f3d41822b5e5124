#include "orchestrator/launch/rank_exit.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/error.h"
#include "common/exit_codes.h"
#include "common/numbers.h"
#include "orchestrator/heartbeat/heartbeat.h"

namespace dojo::launch {
namespace {

/// The signals a rank shim passes on: mpirun's and Slurm's stop and teardown
/// signals, and an admin's.
constexpr int kPassedOn[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCONT};

volatile sig_atomic_t g_child = 0;

void pass_on(int sig) {
  if (g_child > 0)
    ::kill(static_cast<pid_t>(g_child), sig);
}

/// The exit line, sent twice: a lost datagram only makes the launcher wait
/// for mpirun as before.
void report(int code, int sig) {
  try {
    heartbeat::Heartbeat ended;
    ended.job = std::getenv("DOJO_JOB");
    ended.attempt = static_cast<int>(env_integer("DOJO_ATTEMPT", 0, 1 << 30).value_or(0));
    ended.rank = static_cast<int>(env_integer("RANK", 0, 1 << 30).value_or(0));
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    ended.host = host;
    ended.exited = true;
    ended.exit_code = code;
    ended.exit_signal = sig;
    heartbeat::Sender sender(std::getenv("DOJO_HEARTBEAT_ADDR"));
    const std::string line = heartbeat::format_exit(ended);
    sender.send_lines({line, line});
  } catch (const Error&) {
    // No report: the launcher learns of the exit from mpirun, later.
  }
}

/// Ends this process as its child ended: of the same signal (without a
/// second core dump), else with the same code.
[[noreturn]] void end_like(int code, int sig) {
  if (sig != 0) {
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::kill(::getpid(), sig);
    ::_exit(128 + sig);  // a signal whose default is not to end the process
  }
  std::exit(code);
}

}  // namespace

bool rank_exit_wanted() {
  const char* address = std::getenv("DOJO_HEARTBEAT_ADDR");
  const char* job = std::getenv("DOJO_JOB");
  return address != nullptr && *address != '\0' && job != nullptr && *job != '\0';
}

int run_and_report_exit(const std::vector<std::string>& command, std::string& error) {
  std::vector<char*> argv;
  for (const std::string& word : command)
    argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  // Handlers first, so that no signal between fork and them is lost.
  struct sigaction action {};
  action.sa_handler = pass_on;
  sigemptyset(&action.sa_mask);
  for (int sig : kPassedOn)
    ::sigaction(sig, &action, nullptr);
  const pid_t shim = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) {
    error = "cannot fork: " + errno_text(errno);
    return kExitFailure;
  }
  if (child == 0) {
    for (int sig : kPassedOn)
      ::signal(sig, SIG_DFL);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the rank dies with its shim
    if (::getppid() != shim)
      ::_exit(kExitParentDied);
    ::execvp(argv[0], argv.data());
    error = "cannot run " + command[0] + ": " + std::strerror(errno);
    return kExitCannotExec;  // the caller prints it; the shim reports 127
  }
  g_child = child;
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  report(code, sig);
  end_like(code, sig);
}

}  // namespace dojo::launch
