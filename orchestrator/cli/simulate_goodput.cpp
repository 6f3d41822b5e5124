// `dojo simulate goodput`: the planner's failure model alone, for measured
// inputs: the goodput a job should see at a checkpoint interval, save time,
// restart time and failure rate (scripts/soak compares it with what it
// measured). And the reading of a run's measured costs (--from-run).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/error.h"
#include "common/flags.h"
#include "common/numbers.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/cli/run_costs.h"
#include "orchestrator/reliability/young_daly.h"

namespace dojo::cli {

launch::MeasuredCosts measured_costs_of_run(const std::string& run_dir) {
  const std::filesystem::path path = std::filesystem::path(run_dir) / "goodput.json";
  std::ifstream in(path);
  if (!in) {
    throw UsageError("--from-run: " + path.string() +
                     " cannot be read (a run directory of dojo launch whose first attempt ended)");
  }
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  try {
    if (doc.is_discarded())
      throw Error("not JSON");
    return launch::measured_costs(launch::GoodputLedger::from_json(doc));
  } catch (const Error& e) {
    throw UsageError("--from-run: " + path.string() + ": " + e.what());
  }
}

int run_simulate_goodput(std::span<const std::string> args, Streams& io) {
  std::optional<double> interval, save, restart, mtbf;
  std::string from_run, format = "table";
  Flags flags("simulate goodput");
  auto number = [&](const std::string& flag, std::optional<double>& target) {
    flags.value(flag, [flag, &target](const std::string& v) {
      const std::optional<double> x = parse_finite_double(v);
      if (!x || *x < 0)
        throw UsageError(flag + " expects seconds (a number >= 0), got \"" + v + "\"");
      target = *x;
    });
  };
  number("--interval-s", interval);
  number("--save-s", save);
  number("--restart-s", restart);
  number("--mtbf-s", mtbf);
  flags.text("--from-run", from_run);
  flags.choice("--format", format, {"table", "json"});
  flags.parse(args);
  if (!from_run.empty()) {
    const launch::MeasuredCosts m = measured_costs_of_run(from_run);
    if (!save && m.saves > 0)
      save = m.save_seconds;
    if (!restart && m.restarts > 0)
      restart = m.restart_seconds;
  }
  if (!interval || !save || !restart || !mtbf) {
    throw UsageError(
        "simulate goodput needs --interval-s, --save-s, --restart-s and --mtbf-s (--from-run "
        "RUN_DIR gives the save and restart times a run measured)");
  }
  const double goodput = reliability::expected_goodput(*interval, *save, *restart, *mtbf);
  if (format == "json") {
    io.out << nlohmann::json{{"goodput", goodput},
                             {"interval_seconds", *interval},
                             {"save_seconds", *save},
                             {"restart_seconds", *restart},
                             {"job_mtbf_seconds", *mtbf}}
                  .dump()
           << "\n";
  } else {
    io.out << "expected goodput " << goodput << " (checkpoint every " << *interval
           << " s of work, save " << *save << " s, restart " << *restart << " s, job MTBF " << *mtbf
           << " s)\n";
  }
  return kExitOk;
}

}  // namespace dojo::cli
