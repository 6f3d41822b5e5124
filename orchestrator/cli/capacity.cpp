// `dojo capacity report|chart|serve|backfill`: the fleet's H100-equivalents against the plan.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/flags.h"
#include "common/numbers.h"
#include "orchestrator/capacity/backfill.h"
#include "orchestrator/capacity/capacity.h"
#include "orchestrator/capacity/chart.h"
#include "orchestrator/capacity/collector.h"
#include "orchestrator/capacity/page.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/config/loader.h"
#include "orchestrator/launch/ledger.h"
#include "orchestrator/launch/node_blacklist.h"
#include "orchestrator/metrics/exporter.h"

namespace dojo::cli {
namespace {

// The shipped seed: in the working directory's configs/, else next to the
// source tree this dojo was built in (build/bin/dojo -> ../../configs).
std::filesystem::path default_capacity_config() {
  const std::filesystem::path relative = "configs/capacity/tesla-2024.yaml";
  if (std::filesystem::exists(relative))
    return relative;
  char self[4096] = {};
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    const auto candidate =
        std::filesystem::path(std::string(self, static_cast<std::size_t>(n))).parent_path() / ".." /
        ".." / relative;
    if (std::filesystem::exists(candidate))
      return candidate.lexically_normal();
  }
  return relative;
}

// "HOST:PORT", HOST an IPv4 literal or a bracketed IPv6 one.
metrics::ExporterOptions parse_listen(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const bool digits = !port.empty() && port.size() <= 5 &&
                      port.find_first_not_of("0123456789") == std::string::npos;
  if (host.empty() || !digits || *parse_integer(port) > 65535) {
    throw UsageError("--listen expects HOST:PORT (127.0.0.1:9400, [::1]:9400), got \"" + text +
                     "\"");
  }
  metrics::ExporterOptions options;
  options.bind = host;
  options.port = static_cast<int>(*parse_integer(port));
  return options;
}

// "user:password" from the first line of `file`, kept off the command line.
std::string read_basic_auth(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line))
    throw Error(file.string() + ": cannot read the basic-auth credentials");
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  if (line.find(':') == std::string::npos || line.front() == ':')
    throw Error(file.string() + ":1: basic-auth credentials must read user:password");
  return line;
}

std::optional<double> ledger_allocated(const std::filesystem::path& state_dir) {
  if (!std::filesystem::exists(state_dir / "ledger.tsv"))
    return std::nullopt;
  double total = 0;
  for (const launch::Booking& b : launch::Ledger(state_dir).bookings())
    total += b.h100e;
  return total;
}

/// The launchers' blacklisted nodes, out of service now.
std::vector<capacity::OutOfService> blacklisted(const std::filesystem::path& state_dir) {
  std::vector<capacity::OutOfService> nodes;
  if (!std::filesystem::exists(state_dir / "blacklist.tsv"))
    return nodes;
  for (const launch::BlacklistEntry& e : launch::NodeBlacklist(state_dir).active())
    nodes.push_back({e.host, e.h100e, e.cause, e.reason});
  return nodes;
}

config::Date date_arg(const std::string& flag, const std::string& value) {
  const auto date = config::Date::parse(value);
  if (!date)
    throw UsageError(flag + " expects a date as YYYY-MM-DD, got \"" + value + "\"");
  return *date;
}

/// The flags of one capacity command, converted and checked.
struct CapacityArgs {
  std::string command;  ///< report, chart, serve, backfill
  std::filesystem::path config_file = default_capacity_config();
  config::Date as_of = config::Date::today();
  std::optional<config::Date> fixed_as_of;  ///< --as-of given
  std::filesystem::path state_dir = launch::default_state_dir();
  std::string format = "table";
  std::filesystem::path out_file;
  std::optional<config::Date> from;
  int step_days = 1;
  std::optional<metrics::ExporterOptions> listen;
  std::string render_cache = "on";
  std::vector<std::string> cluster_files;
  std::filesystem::path basic_auth_file;
};

CapacityArgs parse_capacity_args(std::span<const std::string> args) {
  CapacityArgs a;
  a.command = args[0];
  const bool chart = a.command == "chart", serve = a.command == "serve",
             backfill = a.command == "backfill";
  Flags flags("capacity " + a.command);
  flags.value("--config", [&](const std::string& v) { a.config_file = v; });
  flags.value("--as-of",
              [&](const std::string& v) { a.as_of = *(a.fixed_as_of = date_arg("--as-of", v)); });
  flags.value("--state-dir", [&](const std::string& v) { a.state_dir = v; });
  if (backfill) {
    flags.value("--from", [&](const std::string& v) { a.from = date_arg("--from", v); });
    flags.value("--step-days", [&](const std::string& v) {
      const auto days = parse_integer(v);
      if (!days || *days < 1 || *days > 9999)
        throw UsageError("--step-days expects a whole number of days from 1, got \"" + v + "\"");
      a.step_days = static_cast<int>(*days);
    });
  }
  if (chart || backfill)
    flags.value("--out", [&](const std::string& v) { a.out_file = v; });
  if (serve) {
    flags.value("--listen", [&](const std::string& v) { a.listen = parse_listen(v); });
    flags.choice("--render-cache", a.render_cache, {"on", "off"});
    flags.list("--cluster", a.cluster_files);
    flags.value("--basic-auth-file", [&](const std::string& v) { a.basic_auth_file = v; });
  }
  if (a.command == "report")
    flags.choice("--format", a.format, {"table", "json"});
  flags.parse(args.subspan(1));
  if (chart && a.out_file.empty())
    throw UsageError("capacity chart needs --out FILE.svg");
  if (backfill && a.out_file.empty())
    throw UsageError("capacity backfill needs --out FILE");
  if (serve && !a.listen)
    throw UsageError("capacity serve needs --listen HOST:PORT");
  return a;
}

/// The ledger and the blacklist, when the report is of today: they describe
/// the present, and a report of another date must not borrow them.
std::optional<capacity::Live> live_state(const CapacityArgs& a) {
  if (!capacity::describes_now(a.as_of))
    return std::nullopt;
  return capacity::Live{ledger_allocated(a.state_dir), blacklisted(a.state_dir)};
}

/// Serves the report as Prometheus gauges until SIGINT or SIGTERM.
int serve(const config::CapacityConfig& capacity, CapacityArgs& a, Streams& io) {
  if (!a.basic_auth_file.empty())
    a.listen->basic_auth = read_basic_auth(a.basic_auth_file);
  // Block the stop signals before the exporter's threads start, so they
  // inherit the mask and only sigwait below sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto collector = std::make_shared<capacity::Collector>(
      capacity, a.fixed_as_of, [state_dir = a.state_dir] { return ledger_allocated(state_dir); });
  for (const auto& file : a.cluster_files)
    collector->add_nodes(config::load_cluster(file));
  collector->set_out_of_service([state_dir = a.state_dir] { return blacklisted(state_dir); });
  metrics::Exporter exporter(*a.listen);
  exporter.add(collector);
  exporter.add_page("/", "text/html; charset=utf-8", [collector] {
    return capacity::html_page(collector->capacity(), collector->current());
  });
  exporter.add_page("/report.json", "application/json",
                    [collector] { return capacity::to_json(collector->current()); });
  if (a.render_cache == "on") {
    exporter.cache_while(
        [collector, files = std::vector<std::filesystem::path>{a.state_dir / "ledger.tsv",
                                                               a.state_dir / "blacklist.tsv"}] {
          return collector->version(files);
        });
  }
  io.out << "dojo capacity: serving http://" << exporter.endpoint() << "/metrics and the page at /"
         << (a.listen->basic_auth.empty() ? "" : " (basic auth)") << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  io.out << "dojo capacity: stopped by signal " << sig << std::endl;
  return kExitOk;
}

/// Writes the series history as OpenMetrics for promtool.
int backfill(const config::CapacityConfig& capacity, const CapacityArgs& a, Streams& io) {
  const config::Date start = a.from ? *a.from : capacity::first_online(capacity);
  write_file_atomically(a.out_file.string(),
                        capacity::openmetrics_backfill(capacity, start, a.as_of, a.step_days));
  io.out << "wrote " << a.out_file.string() << " (" << start.str() << " to " << a.as_of.str()
         << ", every " << a.step_days << (a.step_days == 1 ? " day" : " days")
         << "); load it with: promtool tsdb create-blocks-from openmetrics " << a.out_file.string()
         << " DATA_DIR\n";
  return kExitOk;
}

}  // namespace

int run_capacity(std::span<const std::string> args, Streams& io) {
  static const std::vector<std::string> kCommands = {"report", "chart", "serve", "backfill"};
  if (args.empty())
    throw UsageError("which capacity command? (report, chart, serve, backfill)");
  if (std::find(kCommands.begin(), kCommands.end(), args[0]) == kCommands.end()) {
    throw UsageError("unknown capacity command \"" + args[0] +
                     "\" (report, chart, serve, backfill)");
  }
  CapacityArgs a = parse_capacity_args(args);
  const config::CapacityConfig capacity = config::load_capacity(a.config_file);
  if (a.command == "serve")
    return serve(capacity, a, io);
  if (a.command == "backfill")
    return backfill(capacity, a, io);
  const capacity::Report r = capacity::report(capacity, a.as_of, live_state(a));
  if (a.command == "chart") {
    write_file_atomically(a.out_file.string(), capacity::chart_svg(capacity, r));
    io.out << "wrote " << a.out_file.string() << "\n";
    return kExitOk;
  }
  io.out << (a.format == "json" ? capacity::to_json(r) : capacity::to_table(r));
  return kExitOk;
}

}  // namespace dojo::cli
