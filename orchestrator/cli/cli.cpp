#include "orchestrator/cli/cli.h"

#include <iostream>

#include "common/error.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/config/diagnostics.h"
#include "orchestrator/config/reader.h"

namespace dojo::cli {
namespace {

void print_help(std::ostream& out) {
  out << "usage: dojo COMMAND [ARGS...]\n\n"
         "Orchestrates data-parallel training on H100-equivalent clusters.\n\n"
         "commands:\n";
  for (const Command& c : commands()) {
    std::string name = c.name;
    name.resize(12, ' ');
    out << "  " << name << c.summary << "\n";
  }
  out << "\nRun 'dojo COMMAND --help' for a command's arguments.\n"
         "Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error,\n"
         "3 stopped on request with a checkpoint saved (dojo launch, dojo worker).\n";
}

const Command* find_command(const std::string& name) {
  for (const Command& c : commands()) {
    if (name == c.name)
      return &c;
  }
  return nullptr;
}

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    print_help(err);
    return kExitUsage;
  }
  const std::string& name = args[0];
  if (name == "--help" || name == "-h" || name == "help") {
    print_help(out);
    return kExitOk;
  }
  const Command* command = find_command(name == "--version" ? "version" : name);
  if (command == nullptr) {
    std::vector<std::string> names;
    for (const Command& c : commands())
      names.emplace_back(c.name);
    const std::string suggestion = config::closest_match(name, names);
    err << "dojo: unknown command \"" << name << "\""
        << (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)")
        << "\nRun 'dojo --help' for the list of commands.\n";
    return kExitUsage;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const std::string& a : rest) {
    if (a == "--")
      break;  // what follows is a command's own arguments
    if (a == "--help" || a == "-h") {
      out << "usage: " << command->usage << "\n";
      return kExitOk;
    }
  }
  Streams io{out, err};
  try {
    return command->run(rest, io);
  } catch (const config::ConfigError& e) {
    err << e.what() << "\n";
    return kExitUsage;
  } catch (const UsageError& e) {
    err << "dojo " << command->name << ": " << e.what() << "\nusage: " << command->usage << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    err << "dojo " << command->name << ": error: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace dojo::cli
