// `dojo capacity report|chart`: the fleet's H100-equivalents against the plan.
#include <unistd.h>

#include <filesystem>
#include <ostream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "orchestrator/capacity/capacity.h"
#include "orchestrator/capacity/chart.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/config/loader.h"
#include "orchestrator/launch/ledger.h"

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

}  // namespace

int run_capacity(std::span<const std::string> args, Streams& io) {
  if (args.empty())
    throw UsageError("which capacity command? (report, chart)");
  const bool chart = args[0] == "chart";
  if (args[0] != "report" && !chart)
    throw UsageError("unknown capacity command \"" + args[0] + "\" (report, chart)");
  std::filesystem::path config_file = default_capacity_config();
  config::Date as_of = config::Date::today();
  std::string format = "table";
  std::filesystem::path state_dir = launch::default_state_dir();
  std::filesystem::path out_file;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (i + 1 >= args.size())
      throw UsageError("unknown flag or missing value: \"" + flag + "\"");
    const std::string& value = args[++i];
    if (flag == "--config") {
      config_file = value;
    } else if (flag == "--as-of") {
      const auto date = config::Date::parse(value);
      if (!date)
        throw UsageError("--as-of expects a date as YYYY-MM-DD, got \"" + value + "\"");
      as_of = *date;
    } else if (flag == "--out" && chart) {
      out_file = value;
    } else if (flag == "--format" && !chart) {
      if (value != "table" && value != "json") {
        throw UsageError("--format expects table or json, got \"" + value + "\"");
      }
      format = value;
    } else if (flag == "--state-dir") {
      state_dir = value;
    } else {
      throw UsageError("unknown flag \"" + flag + "\"");
    }
  }
  if (chart && out_file.empty())
    throw UsageError("capacity chart needs --out FILE.svg");
  const config::CapacityConfig capacity = config::load_capacity(config_file);
  // Allocated H100e: the launchers' live bookings, when a ledger exists.
  std::optional<double> allocated;
  if (std::filesystem::exists(state_dir / "ledger.tsv")) {
    double total = 0;
    for (const launch::Booking& b : launch::Ledger(state_dir).bookings())
      total += b.h100e;
    allocated = total;
  }
  const capacity::Report r = capacity::report(capacity, as_of, allocated);
  if (chart) {
    write_file_atomically(out_file.string(), capacity::chart_svg(capacity, r));
    io.out << "wrote " << out_file.string() << "\n";
    return kExitOk;
  }
  io.out << (format == "json" ? capacity::to_json(r) : capacity::to_table(r));
  return kExitOk;
}

}  // namespace dojo::cli
