#include <array>

#include "orchestrator/cli/command.h"

namespace dojo::cli {

// Each command is defined in its own file.
int run_validate(std::span<const std::string> args, Streams& io);
int run_version(std::span<const std::string> args, Streams& io);

std::span<const Command> commands() {
  static const std::array<Command, 2> kCommands = {{
      {"validate", "check config files (any kind) and print what they define",
       "dojo validate FILE... [--set key.path=value]...", run_validate},
      {"version", "print the version, git commit and build options", "dojo version", run_version},
  }};
  return kCommands;
}

}  // namespace dojo::cli
