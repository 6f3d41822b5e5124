#pragma once
// The subcommands of `dojo`. Each lives in its own file and is listed once in
// commands.cpp; adding one touches no other.

#include <iosfwd>
#include <span>
#include <string>
#include <vector>

namespace dojo::cli {

/// Exit codes of every dojo command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  ///< a runtime failure
inline constexpr int kExitUsage = 2;    ///< a usage or configuration error

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

/// Pulls every `--set k=v` / `--set=k=v` out of `args`; throws UsageError
/// when a `--set` has no value.
std::vector<std::string> take_set_flags(std::vector<std::string>& args);

}  // namespace dojo::cli
