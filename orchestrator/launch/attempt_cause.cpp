#include "orchestrator/launch/attempt_cause.h"

#include <csignal>
#include <fstream>
#include <regex>

#include "common/exit_codes.h"

namespace dojo::launch {
namespace {

/// mpirun and srun exit with 128 + N when a rank died of signal N.
constexpr int kSignalExitBase = 128;

}  // namespace

const char* to_string(Cause cause) {
  switch (cause) {
    case Cause::kCompleted:
      return "completed";
    case Cause::kUserError:
      return "user_error";
    case Cause::kKilled:
      return "killed";
    case Cause::kHang:
      return "hang";
    case Cause::kNodeLost:
      return "node_lost";
    case Cause::kStopped:
      return "stopped";
    case Cause::kLaunchFailed:
      return "launch_failed";
    case Cause::kWallTime:
      return "wall_time";
  }
  return "?";
}

int rank_signal_in(const std::string& output, int exit_code) {
  static const std::regex kOpenMpi(R"(exited on signal (\d+))");
  std::smatch m;
  if (std::regex_search(output, m, kOpenMpi))
    return std::stoi(m[1].str());
  // srun names the signal in words: "srun: error: n2: task 1: Killed".
  static const std::pair<const char*, int> kSrunWords[] = {{": Killed", SIGKILL},
                                                           {": Segmentation fault", SIGSEGV},
                                                           {": Aborted", SIGABRT},
                                                           {": Bus error", SIGBUS},
                                                           {": Terminated", SIGTERM}};
  for (const auto& [words, sig] : kSrunWords) {
    if (output.find(words) != std::string::npos)
      return sig;
  }
  if (exit_code > kSignalExitBase && exit_code < kSignalExitBase + 65)
    return exit_code - kSignalExitBase;
  return 0;
}

bool launch_failed_in(const std::string& output, int exit_code) {
  if (exit_code == kExitCannotExec)
    return true;
  for (const char* words :
       {"mpirun was unable to launch", "mpirun was unable to find",
        "ORTE was unable to reliably start", "dojo-exec: cannot run", "dojo exec: cannot run",
        "srun: error: Unable to create step", "execve(): ", "mpirun could not find"}) {
    if (output.find(words) != std::string::npos)
      return true;
  }
  return false;
}

long oom_kills() {
  std::ifstream in("/proc/vmstat");
  std::string name;
  long value = 0;
  while (in >> name >> value) {
    if (name == "oom_kill")
      return value;
  }
  return -1;
}

}  // namespace dojo::launch
