// `dojo capacity report|chart|serve|backfill`: the fleet's H100-equivalents against the plan.
#include <signal.h>
#include <unistd.h>

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
#include "orchestrator/cli/command.h"
#include "orchestrator/config/loader.h"
#include "orchestrator/launch/ledger.h"
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

}  // namespace

int run_capacity(std::span<const std::string> args, Streams& io) {
  if (args.empty())
    throw UsageError("which capacity command? (report, chart, serve, backfill)");
  const bool chart = args[0] == "chart";
  const bool serve = args[0] == "serve";
  const bool backfill = args[0] == "backfill";
  if (args[0] != "report" && !chart && !serve && !backfill) {
    throw UsageError("unknown capacity command \"" + args[0] +
                     "\" (report, chart, serve, backfill)");
  }
  Flags flags("capacity " + args[0]);
  std::string config_text, as_of_text, from_text, step_days_text, out_text, listen_text,
      render_cache_text, basic_auth_text, state_dir_text, format = "table";
  std::vector<std::string> cluster_texts;
  flags.text("--config", config_text);
  flags.text("--as-of", as_of_text);
  flags.text("--state-dir", state_dir_text);
  if (backfill) {
    flags.text("--from", from_text);
    flags.text("--step-days", step_days_text);
  }
  if (chart || backfill)
    flags.text("--out", out_text);
  if (serve) {
    flags.text("--listen", listen_text);
    flags.text("--render-cache", render_cache_text);
    flags.list("--cluster", cluster_texts);
    flags.text("--basic-auth-file", basic_auth_text);
  }
  if (!chart && !serve && !backfill)
    flags.text("--format", format);
  flags.parse(args.subspan(1));

  const std::filesystem::path config_file =
      config_text.empty() ? default_capacity_config() : std::filesystem::path(config_text);
  config::Date as_of = config::Date::today();
  std::optional<config::Date> fixed_as_of;
  if (!as_of_text.empty()) {
    const auto date = config::Date::parse(as_of_text);
    if (!date)
      throw UsageError("--as-of expects a date as YYYY-MM-DD, got \"" + as_of_text + "\"");
    as_of = *date;
    fixed_as_of = *date;
  }
  std::optional<config::Date> from;
  if (!from_text.empty()) {
    from = config::Date::parse(from_text);
    if (!from)
      throw UsageError("--from expects a date as YYYY-MM-DD, got \"" + from_text + "\"");
  }
  int step_days = 1;
  if (!step_days_text.empty()) {
    const auto days = parse_integer(step_days_text);
    if (!days || *days < 1 || *days > 9999)
      throw UsageError("--step-days expects a whole number of days from 1, got \"" +
                       step_days_text + "\"");
    step_days = static_cast<int>(*days);
  }
  std::optional<metrics::ExporterOptions> listen;
  if (!listen_text.empty())
    listen = parse_listen(listen_text);
  if (!render_cache_text.empty() && render_cache_text != "on" && render_cache_text != "off")
    throw UsageError("--render-cache expects on or off, got \"" + render_cache_text + "\"");
  const bool render_cache = render_cache_text != "off";
  if (format != "table" && format != "json")
    throw UsageError("--format expects table or json, got \"" + format + "\"");
  const std::filesystem::path basic_auth_file = basic_auth_text;
  const std::vector<std::filesystem::path> cluster_files(cluster_texts.begin(),
                                                         cluster_texts.end());
  const std::filesystem::path state_dir =
      state_dir_text.empty() ? launch::default_state_dir() : std::filesystem::path(state_dir_text);
  const std::filesystem::path out_file = out_text;
  if (chart && out_file.empty())
    throw UsageError("capacity chart needs --out FILE.svg");
  if (backfill && out_file.empty())
    throw UsageError("capacity backfill needs --out FILE");
  if (serve && !listen)
    throw UsageError("capacity serve needs --listen HOST:PORT");
  const config::CapacityConfig capacity = config::load_capacity(config_file);
  if (serve) {
    if (!basic_auth_file.empty())
      listen->basic_auth = read_basic_auth(basic_auth_file);
    // Block the stop signals before the exporter's threads start, so they
    // inherit the mask and only sigwait below sees them.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    auto collector = std::make_shared<capacity::Collector>(
        capacity, fixed_as_of, [state_dir] { return ledger_allocated(state_dir); });
    for (const auto& file : cluster_files)
      collector->add_nodes(config::load_cluster(file));
    metrics::Exporter exporter(*listen);
    exporter.add(collector);
    if (render_cache) {
      exporter.cache_while(
          [collector, ledger = state_dir / "ledger.tsv"] { return collector->version(ledger); });
    }
    io.out << "dojo capacity: serving http://" << exporter.endpoint() << "/metrics"
           << (listen->basic_auth.empty() ? "" : " (basic auth)") << std::endl;
    int sig = 0;
    sigwait(&stop, &sig);
    io.out << "dojo capacity: stopped by signal " << sig << std::endl;
    return kExitOk;
  }
  if (backfill) {
    const config::Date start = from ? *from : capacity::first_online(capacity);
    write_file_atomically(out_file.string(),
                          capacity::openmetrics_backfill(capacity, start, as_of, step_days));
    io.out << "wrote " << out_file.string() << " (" << start.str() << " to " << as_of.str()
           << ", every " << step_days << (step_days == 1 ? " day" : " days")
           << "); load it with: promtool tsdb create-blocks-from openmetrics " << out_file.string()
           << " DATA_DIR\n";
    return kExitOk;
  }
  // Allocated H100e: the launchers' live bookings, when a ledger exists.
  const capacity::Report r = capacity::report(capacity, as_of, ledger_allocated(state_dir));
  if (chart) {
    write_file_atomically(out_file.string(), capacity::chart_svg(capacity, r));
    io.out << "wrote " << out_file.string() << "\n";
    return kExitOk;
  }
  io.out << (format == "json" ? capacity::to_json(r) : capacity::to_table(r));
  return kExitOk;
}

}  // namespace dojo::cli
