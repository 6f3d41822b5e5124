#pragma once
// The one command-line parser of every dojo command: CLI11, with dojo's
// errors. Each command declares its flags next to its usage text; bad flags
// and bad values become UsageError (exit 2) with a message that names the flag.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace dojo {

/// `value` of `flag` as an integer in [min, max]; UsageError otherwise:
/// `-n expects an integer from 1 to 1000, got "x"`.
std::int64_t integer_flag(const std::string& flag, const std::string& value, std::int64_t min,
                          std::int64_t max);
/// `value` of `flag` as a finite number in [min, max]; UsageError otherwise.
double number_flag(const std::string& flag, const std::string& value, double min, double max);

/// `value` of `flag` when it is one of `choices`; UsageError otherwise:
/// `--format expects table, json or csv, got "xml"`.
std::string choice_flag(const std::string& flag, const std::string& value,
                        const std::vector<std::string>& choices);

class Flags {
 public:
  /// `name`: the command, for messages. Help is the command's usage text,
  /// printed by the caller, so CLI11's own --help is off.
  explicit Flags(const std::string& name);
  ~Flags();
  Flags(const Flags&) = delete;
  Flags& operator=(const Flags&) = delete;

  /// A flag with a value taken as it is (a path, a name).
  void text(const std::string& names, std::string& value);
  /// A flag given any number of times (--set a=1 --set b=2).
  void list(const std::string& names, std::vector<std::string>& values);
  void flag(const std::string& names, bool& value);
  /// Positional arguments, in order.
  void positionals(const std::string& name, std::vector<std::string>& values);
  /// A flag whose value `take` converts and checks when it is parsed,
  /// throwing UsageError with its own message for a bad one.
  void value(const std::string& names, std::function<void(const std::string&)> take);
  /// An integer flag in [min, max] (integer_flag's message names it).
  template <typename Int>
  void integer(const std::string& name, Int& target, std::int64_t min, std::int64_t max) {
    value(name, [name, &target, min, max](const std::string& v) {
      target = static_cast<Int>(integer_flag(name, v, min, max));
    });
  }
  /// A number flag in [min, max] (number_flag's message names it).
  void number(const std::string& name, double& target, double min, double max);
  /// A flag that takes one of `choices` (choice_flag's message names it).
  void choice(const std::string& name, std::string& target, std::vector<std::string> choices);

  /// Parses `args` (the command's arguments, in order). Throws UsageError:
  /// `unknown flag "--x"`, `--x needs a value`, or the flag's own message.
  void parse(std::span<const std::string> args);

 private:
  std::unique_ptr<CLI::App> app_;  // CLI11 stays out of this header: it is slow to compile
};

}  // namespace dojo
