#pragma once
// The subcommands of `dojo`. Each lives in its own file and is listed once in
// commands.cpp; adding one touches no other.

#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "common/exit_codes.h"

namespace dojo::cli {

struct Streams {
  std::ostream& out;
  std::ostream& err;
};

struct Command {
  const char* name;
  const char* summary;  ///< one line for `dojo --help`
  const char* usage;    ///< shown by `dojo COMMAND --help` and on usage errors
  /// Runs with the arguments after the command name. Throws UsageError or
  /// ConfigError for bad input (exit 2) and other dojo::Error for failures (exit 1).
  int (*run)(std::span<const std::string> args, Streams& io);
};

/// Every built-in command, in the order `dojo --help` lists them.
std::span<const Command> commands();

}  // namespace dojo::cli
