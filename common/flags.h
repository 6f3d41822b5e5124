#pragma once
// The one command-line parser of every dojo command: CLI11, with dojo's
// errors. Each command declares its flags next to its usage text; bad flags
// and bad values become UsageError (exit 2) with a message that names the flag.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dojo {

class Flags {
 public:
  /// `name`: the command, for messages. Help is the command's usage text,
  /// printed by the caller, so CLI11's own --help is off.
  explicit Flags(const std::string& name);

  CLI::App& app() { return app_; }
  /// A flag with a value kept as text; read it with the typed helpers below,
  /// which name the flag in their errors.
  CLI::Option* text(const std::string& names, std::string& value);
  CLI::Option* text(const std::string& names, std::optional<std::string>& value);
  /// A flag given any number of times (--set a=1 --set b=2).
  CLI::Option* list(const std::string& names, std::vector<std::string>& values);
  CLI::Option* flag(const std::string& names, bool& value);
  /// Positional arguments, in order.
  CLI::Option* positionals(const std::string& name, std::vector<std::string>& values);

  /// Parses `args` (the command's arguments, in order). Throws UsageError:
  /// `unknown flag "--x"`, `--x needs a value`, ...
  void parse(std::span<const std::string> args);

 private:
  CLI::App app_;
};

/// `value` of `flag` as an integer in [min, max]; UsageError otherwise:
/// `-n expects an integer from 1 to 1000, got "x"`.
std::int64_t integer_flag(const std::string& flag, const std::string& value, std::int64_t min,
                          std::int64_t max);
/// `value` of `flag` as a finite number in [min, max]; UsageError otherwise.
double number_flag(const std::string& flag, const std::string& value, double min, double max);

}  // namespace dojo
