#include "orchestrator/launch/attempt_cause.h"

#include <csignal>
#include <fstream>
#include <regex>
#include <set>

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

std::vector<int> failed_ranks_in(const std::string& output, bool ranks_under_srun) {
  std::set<int> ranks;
  static const std::regex kProcess(R"(Process name: \[\[\d+,\d+\],(\d+)\])");
  static const std::regex kRank(R"(process rank (\d+) with PID)");
  for (const std::regex* re : {&kProcess, &kRank}) {
    for (std::sregex_iterator it(output.begin(), output.end(), *re), end; it != end; ++it) {
      ranks.insert(std::stoi((*it)[1].str()));
    }
  }
  if (!ranks_under_srun)
    return {ranks.begin(), ranks.end()};
  // srun --kill-on-bad-exit kills the other tasks after the first failure
  // ("Terminating StepId=..."): those it reports after that are its victims.
  static const std::regex kSrunTasks(R"(srun: error: \S+: tasks? (\d+)(?:-(\d+))?: )");
  const std::size_t terminating = output.find("Terminating StepId");
  std::string first_failures = output.substr(0, terminating);
  if (!std::regex_search(first_failures, kSrunTasks))
    first_failures = output;
  for (std::sregex_iterator it(first_failures.begin(), first_failures.end(), kSrunTasks), end;
       it != end; ++it) {
    const int first = std::stoi((*it)[1].str());
    const int last = (*it)[2].matched ? std::stoi((*it)[2].str()) : first;
    for (int r = first; r <= last && r - first < 4096; ++r)
      ranks.insert(r);
  }
  return {ranks.begin(), ranks.end()};
}

// Nodes whose Open MPI daemon mpirun lost ("Remote daemon: [[1,0],1] on node
// n2", "ORTE daemon has unexpectedly failed ... on node n2") or whose
// daemon's srun step was killed ("srun: error: n2: task 1: Killed").
std::vector<std::string> lost_nodes_in(const std::string& output, bool ranks_under_srun) {
  std::set<std::string> nodes;
  static const std::regex kRemote(R"(Remote daemon: \[\[\d+,\d+\],\d+\] on node (\S+))");
  static const std::regex kFailed(R"(ORTE daemon[^\n]*\n(?:[^\n]*\n){0,6}?[^\n]*on node (\S+))");
  static const std::regex kSrunKilled(R"(srun: error: (\S+): tasks? \d+(?:-\d+)?: Killed)");
  for (const std::regex* re : {&kRemote, &kFailed, &kSrunKilled}) {
    if (re == &kSrunKilled && ranks_under_srun)
      continue;  // a task is a rank, not a daemon
    for (std::sregex_iterator it(output.begin(), output.end(), *re), end; it != end; ++it) {
      std::string node = (*it)[1].str();
      while (!node.empty() && (node.back() == '.' || node.back() == ','))
        node.pop_back();
      nodes.insert(node);
    }
  }
  return {nodes.begin(), nodes.end()};
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
