// `dojo report RUN_DIR`: where a run's time went, from its goodput ledger.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/flags.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/launch/goodput.h"

namespace dojo::cli {
namespace {

using json = nlohmann::json;

std::string first_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string fixed(double value, int decimals = 2) {
  if (!std::isfinite(value))
    return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  return text;
}

void print_table(const std::filesystem::path& dir, const std::string& status,
                 const launch::GoodputLedger& ledger, std::ostream& out) {
  const launch::GoodputTotals t = ledger.totals();
  out << "run " << dir.string() << ": " << (status.empty() ? "status unknown" : status) << ", "
      << ledger.attempts().size() << " attempt(s)\n";
  out << "goodput " << fixed(t.ratio(), 3) << ": " << fixed(t.productive_seconds)
      << " s productive of " << fixed(t.total_seconds) << " s\n\n";
  char row[160];
  std::snprintf(row, sizeof(row), "%-12s %10s %7s\n", "badput", "seconds", "share");
  out << row;
  for (const auto& [cause, seconds] : t.badput_seconds) {
    const double share = t.total_seconds > 0 ? 100.0 * seconds / t.total_seconds : 0.0;
    std::snprintf(row, sizeof(row), "%-12s %10.2f %6.1f%%\n", launch::to_string(cause), seconds,
                  share);
    out << row;
  }
  out << "lost work: " << t.lost_steps << " step(s) done twice\n\n";
  std::snprintf(row, sizeof(row), "%-8s %-14s %9s %12s %12s %10s %13s %9s\n", "attempt", "cause",
                "seconds", "first_step_s", "resumed_from", "last_step", "checkpoint_s", "detect_s");
  out << row;
  for (const launch::AttemptRecord& a : ledger.attempts()) {
    std::snprintf(row, sizeof(row), "%-8d %-14s %9.2f %12s %12lld %10lld %13.2f %9.2f\n", a.attempt,
                  a.cause.c_str(), a.seconds,
                  a.first_step_seconds >= 0 ? fixed(a.first_step_seconds).c_str() : "-",
                  static_cast<long long>(a.resumed_from), static_cast<long long>(a.last_step),
                  a.checkpoint_seconds, a.detect_seconds);
    out << row;
  }
}

}  // namespace

int run_report(std::span<const std::string> args, Streams& io) {
  std::vector<std::string> dirs;
  std::string format = "table";
  Flags flags("report");
  flags.positionals("RUN_DIR", dirs);
  flags.choice("--format", format, {"table", "json"});
  flags.parse(args);
  if (dirs.size() != 1)
    throw UsageError("expects one RUN_DIR");
  const std::filesystem::path dir = dirs.front();
  const std::filesystem::path path = dir / "goodput.json";
  std::ifstream in(path);
  if (!in) {
    throw Error(path.string() +
                " cannot be read: not a run directory of dojo launch, or no attempt of it has "
                "ended yet");
  }
  const json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded())
    throw Error(path.string() + ": not JSON");
  launch::GoodputLedger ledger;
  try {
    ledger = launch::GoodputLedger::from_json(doc);
  } catch (const Error& e) {
    throw Error(path.string() + ": " + e.what());
  }
  const std::string status = first_line(dir / "status");
  if (format == "json") {
    json report = launch::goodput_json(ledger);
    report["run_dir"] = dir.string();
    report["status"] = status.empty() ? json(nullptr) : json(status);
    report["attempt_records"] = doc.at("attempts");
    io.out << report.dump(2) << "\n";
    return kExitOk;
  }
  print_table(dir, status, ledger, io.out);
  return kExitOk;
}

}  // namespace dojo::cli
