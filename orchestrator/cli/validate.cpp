#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/flags.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/config/diagnostics.h"
#include "orchestrator/config/loader.h"

namespace dojo::cli {
namespace {

using namespace dojo::config;

std::string fixed(double value, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << value;
  return out.str();
}

std::string summarize(const AcceleratorCatalog& c) {
  std::string text = std::to_string(c.accelerators.size()) + " accelerators:";
  for (const Accelerator& a : c.accelerators) {
    text += " " + a.name + "=" +
            (a.h100e_measured ? "measured:" + fixed(a.measured_h100e.value_or(0), 6)
                              : fixed(a.h100e(), 3));
  }
  return text + " H100e";
}

std::string summarize(const ClusterConfig& c) {
  int up = 0;
  int slots = 0;
  double h100e = 0;
  for (const ClusterNode& n : c.nodes) {
    if (n.state != NodeState::kUp)
      continue;
    ++up;
    slots += n.slots;
    if (const Accelerator* a = c.catalog.find(n.accelerator))
      h100e += n.slots * a->h100e();
  }
  return "cluster \"" + c.name + "\": " + std::to_string(c.nodes.size()) + " nodes (" +
         std::to_string(up) + " up, " + std::to_string(slots) + " slots up, " +
         fixed(h100e, h100e < 10 ? 3 : 1) + " H100e)";
}

std::string summarize(const JobConfig& j) {
  std::string text = "job \"" + j.name + "\": ";
  text += j.workload ? std::string(to_string(j.workload->type)) + " workload"
                     : "command " + j.command[0];
  if (j.resources.ranks)
    text += " on " + std::to_string(*j.resources.ranks) + " ranks";
  if (j.resources.h100e)
    text += " on " + fixed(*j.resources.h100e, 1) + " H100e";
  text += j.cluster ? ", cluster \"" + j.cluster->name + "\"" : ", this machine";
  text += ", collectives " + std::string(to_string(j.collectives.backend));
  return text;
}

std::string summarize(const CapacityConfig& c) {
  std::size_t planned = 0;
  for (const Pool& p : c.pools)
    planned += p.planned ? 1 : 0;
  std::string text = "capacity \"" + c.name + "\": " + std::to_string(c.pools.size()) + " pools" +
                     (planned ? " (" + std::to_string(planned) + " planned)" : std::string()) +
                     ", " + std::to_string(c.plan.milestones.size()) + " plan milestones";
  if (!c.plan.milestones.empty()) {
    text += " up to " + fixed(c.plan.milestones.back().h100e, 0) + " H100e by " +
            c.plan.milestones.back().date.str();
  }
  return text;
}

}  // namespace

int run_validate(std::span<const std::string> args_in, Streams& io) {
  Flags flags("validate");
  std::vector<std::string> args, sets;
  flags.positionals("FILE", args);
  flags.list("--set", sets);
  flags.parse(args_in);
  std::vector<Override> overrides;
  for (const std::string& set : sets)
    overrides.push_back(parse_override(set));
  if (args.empty())
    throw UsageError("no files to validate");

  // Files often share a catalog or cluster: print each error once.
  std::set<std::string> printed;
  std::size_t errors = 0;
  std::size_t bad_files = 0;
  for (const std::string& file : args) {
    try {
      const Document document = load_document(file, overrides);
      const std::string summary = std::visit([](const auto& d) { return summarize(d); }, document);
      io.out << "ok: " << file << ": " << summary << "\n";
    } catch (const ConfigError& e) {
      ++bad_files;
      for (const Diagnostic& d : e.diagnostics()) {
        if (printed.insert(d.format()).second) {
          io.err << d.format() << "\n";
          ++errors;
        }
      }
    }
  }
  if (bad_files > 0) {
    io.err << errors << (errors == 1 ? " error" : " errors") << " in " << bad_files << " of "
           << args.size() << (args.size() == 1 ? " file" : " files") << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace dojo::cli
