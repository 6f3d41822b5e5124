// The command line of `dojo launch` and dojo-launch: flags, host lists and
// hostfiles, signals.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "orchestrator/launch/launcher.h"

namespace dojo::launch {
namespace {

std::atomic<bool> g_stop{false};
void request_stop(int) {
  g_stop.store(true);
}

int count_arg(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  const long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < 1 || n > 1'000'000) {
    throw UsageError(flag + " expects a positive count, got \"" + value + "\"");
  }
  return static_cast<int>(n);
}

}  // namespace

LaunchOptions parse_launch_args(std::vector<std::string> args) {
  LaunchOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      options.command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      args.resize(i);
      if (options.command.empty())
        throw UsageError("-- needs a command after it");
      break;
    }
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size())
        throw UsageError(a + " needs a value");
      return args[++i];
    };
    if (a == "--dry-run") {
      options.dry_run = true;
    } else if (a == "--set") {
      options.overrides.push_back(config::parse_override(value()));
    } else if (a.rfind("--set=", 0) == 0) {
      options.overrides.push_back(config::parse_override(a.substr(6)));
    } else if (a == "--cluster") {
      options.cluster_file = value();
    } else if (a == "-np" || a == "-n") {
      options.np = count_arg(a, value());
    } else if (a == "-H" || a == "--host") {
      options.hosts = parse_host_list(value());
    } else if (a == "--hostfile") {
      options.hosts = read_hostfile(value());
    } else if (a == "--run-dir") {
      options.run_dir = value();
    } else if (a == "--state-dir") {
      options.state_dir = value();
    } else if (a == "--mpirun") {
      options.mpirun = value();
    } else if (a == "--rsh-agent") {
      options.rsh_agent = value();
    } else if (a == "--preflight") {
      // Words split on spaces, never through a shell.
      std::istringstream words(value());
      std::string word;
      options.preflight.clear();
      while (words >> word)
        options.preflight.push_back(word);
      if (options.preflight.empty())
        throw UsageError("--preflight needs a command");
    } else if (!a.empty() && a[0] == '-') {
      throw UsageError("unknown flag \"" + a + "\"");
    } else if (!options.job_file) {
      options.job_file = a;
    } else {
      throw UsageError("one job file, please (got \"" + options.job_file->string() + "\" and \"" +
                       a + "\")");
    }
  }
  return options;
}

int launch_main(const std::vector<std::string>& args, const std::string& version, std::ostream& out,
                std::ostream& err) {
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
  for (int sig : {SIGINT, SIGTERM})
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
      try {
        slots = std::stoi(item.substr(colon + 1));
      } catch (...) {
        slots = 0;
      }
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
        try {
          slots = std::stoi(word.substr(6));
        } catch (...) {
          slots = 0;
        }
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
