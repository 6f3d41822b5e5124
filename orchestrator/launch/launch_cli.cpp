// The command line of `dojo launch` and dojo-launch: flags, host lists and
// hostfiles, signals.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/flags.h"
#include "common/numbers.h"
#include "orchestrator/launch/launcher.h"

namespace dojo::launch {
namespace {

/// The most ranks -np takes.
constexpr std::int64_t kMaxRanks = 1'000'000;

StopRequest g_stop;

/// A host's slot count, or 0 (refused by the callers) when it is not one.
int slots_of(const std::string& text) {
  const std::optional<std::int64_t> n = parse_integer(text);
  return n && *n >= 1 && *n <= kMaxRanks ? static_cast<int>(*n) : 0;
}
void request_stop(int sig) {
  g_stop.signal.store(sig);
  g_stop.requested.store(true);
}

}  // namespace

const char* const kLaunchUsage =
    "dojo launch [JOB.yaml] [--cluster C.yaml] [--dry-run] [--set key.path=value]... [-np N]\n"
    "                   [-H host:slots,...] [--hostfile F] [--run-dir DIR] [--rsh-agent A]\n"
    "                   [--state-dir DIR] [--preflight \"SHELL COMMAND\"] [--stop-grace S]\n"
    "                   [--slurm-launch mpirun|srun] [--fresh] [-- COMMAND ARGS...]\n"
    "                   (inside salloc or sbatch the allocation's nodes and tasks are used)";

LaunchOptions parse_launch_args(std::vector<std::string> args) {
  LaunchOptions options;
  // Everything after `--` is the command, passed on literally.
  const auto dashes = std::find(args.begin(), args.end(), "--");
  if (dashes != args.end()) {
    options.command.assign(dashes + 1, args.end());
    args.erase(dashes, args.end());
    if (options.command.empty())
      throw UsageError("-- needs a command after it");
  }
  // mpirun spells it -np; CLI11 takes single-dash flags of one letter only.
  for (std::string& a : args) {
    if (a == "-np")
      a = "--np";
  }
  Flags flags("launch");
  std::vector<std::string> positionals, sets;
  flags.positionals("JOB", positionals);
  flags.flag("--dry-run", options.dry_run);
  flags.flag("--fresh", options.fresh);
  flags.list("--set", sets);
  flags.value("--cluster", [&](const std::string& v) { options.cluster_file = v; });
  flags.value("--np,-n", [&](const std::string& v) {
    const std::optional<std::int64_t> n = parse_integer(v);
    if (!n || *n < 1 || *n > kMaxRanks)
      throw UsageError("-np expects a positive count, got \"" + v + "\"");
    options.np = static_cast<int>(*n);
  });
  flags.value("-H,--host", [&](const std::string& v) { options.hosts = parse_host_list(v); });
  flags.value("--hostfile", [&](const std::string& v) { options.hosts = read_hostfile(v); });
  flags.value("--run-dir", [&](const std::string& v) { options.run_dir = v; });
  flags.value("--state-dir", [&](const std::string& v) { options.state_dir = v; });
  flags.text("--mpirun", options.mpirun);
  flags.text("--rsh-agent", options.rsh_agent);
  flags.value("--stop-grace", [&](const std::string& v) {
    const std::optional<double> s = parse_finite_double(v);
    if (!s || *s <= 0)
      throw UsageError("--stop-grace expects seconds greater than 0, got \"" + v + "\"");
    options.stop_grace_s = *s;
  });
  flags.value("--slurm-launch", [&](const std::string& v) {
    if (v != "mpirun" && v != "srun")
      throw UsageError("--slurm-launch expects mpirun or srun, got \"" + v + "\"");
    options.slurm_launch = v == "srun" ? config::SlurmLaunch::kSrun : config::SlurmLaunch::kMpirun;
  });
  flags.value("--preflight", [&](const std::string& v) {
    // A shell command line, as written: quotes, pipes and && work as in a
    // terminal, run by /bin/sh on each node.
    if (v.find_first_not_of(" \t") == std::string::npos)
      throw UsageError("--preflight needs a command");
    options.preflight = {"/bin/sh", "-c", v};
  });
  flags.parse(args);
  if (positionals.size() > 1) {
    throw UsageError("one job file, please (got \"" + positionals[0] + "\" and \"" +
                     positionals[1] + "\")");
  }
  if (!positionals.empty())
    options.job_file = positionals[0];
  for (const std::string& set : sets)
    options.overrides.push_back(config::parse_override(set));
  return options;
}

int launch_main(const std::vector<std::string>& args, const std::string& version, std::ostream& out,
                std::ostream& err) {
  for (const std::string& a : args) {
    if (a == "--")
      break;
    if (a == "--help" || a == "-h") {
      out << "usage: " << kLaunchUsage
          << "\n       dojorun takes the same arguments (it runs dojo-launch, the same code; "
             "docs/LAUNCH.md)\n"
             "Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error,\n"
             "3 stopped on request with a checkpoint saved.\n";
      return 0;
    }
  }
  LaunchOptions options = parse_launch_args(args);
  options.version = version;
  char self[4096] = {};
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  const std::filesystem::path here =
      n > 0 ? std::filesystem::path(std::string(self, static_cast<std::size_t>(n))).parent_path()
            : std::filesystem::path();
  options.dojo_binary = here.empty() ? std::filesystem::path("dojo") : here / "dojo";
  if (!here.empty() && ::access((here / "dojo-exec").c_str(), X_OK) == 0) {
    options.exec_binary = here / "dojo-exec";
  }
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  // SIGHUP is salloc's kill signal; SIGUSR1 what `sbatch --signal=B:USR1@N` sends.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1})
    sigaction(sig, &action, nullptr);
  return launch(options, out, err, &g_stop);
}

std::vector<std::pair<std::string, int>> parse_host_list(const std::string& list) {
  std::vector<std::pair<std::string, int>> hosts;
  std::istringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty())
      continue;
    const std::size_t colon = item.rfind(':');
    int slots = 1;
    std::string host = item;
    if (colon != std::string::npos) {
      host = item.substr(0, colon);
      slots = slots_of(item.substr(colon + 1));
    }
    if (host.empty() || slots < 1)
      throw UsageError("-H expects host:slots,..., got \"" + item + "\"");
    hosts.emplace_back(host, slots);
  }
  if (hosts.empty())
    throw UsageError("-H names no host");
  return hosts;
}

std::vector<std::pair<std::string, int>> read_hostfile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in)
    throw UsageError("cannot read the hostfile " + path.string());
  std::vector<std::pair<std::string, int>> hosts;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string host, word;
    if (!(words >> host))
      continue;
    int slots = 1;
    while (words >> word) {
      if (word.rfind("slots=", 0) == 0) {
        slots = slots_of(word.substr(6));
      }
    }
    if (slots < 1)
      throw UsageError(path.string() + ":" + std::to_string(number) + ": bad slots");
    hosts.emplace_back(host, slots);
  }
  if (hosts.empty())
    throw UsageError(path.string() + ": the hostfile names no host");
  return hosts;
}

}  // namespace dojo::launch
