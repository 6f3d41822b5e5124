#include "common/flags.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <sstream>

#include "common/error.h"
#include "common/numbers.h"

namespace dojo {

Flags::Flags(const std::string& name) : app_(std::make_unique<CLI::App>("", name)) {
  app_->set_help_flag();  // dojo prints the command's usage text itself
  app_->allow_windows_style_options(false);
  app_->positionals_at_end(false);
}

Flags::~Flags() = default;

void Flags::text(const std::string& names, std::string& value) {
  app_->add_option(names, value);
}

void Flags::list(const std::string& names, std::vector<std::string>& values) {
  app_->add_option(names, values)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void Flags::flag(const std::string& names, bool& value) {
  app_->add_flag(names, value);
}

void Flags::value(const std::string& names, std::function<void(const std::string&)> take) {
  app_->add_option_function<std::string>(names, std::move(take));
}

void Flags::number(const std::string& name, double& target, double min, double max) {
  value(name, [name, &target, min, max](const std::string& v) {
    target = number_flag(name, v, min, max);
  });
}

void Flags::choice(const std::string& name, std::string& target, std::vector<std::string> choices) {
  value(name, [name, &target, choices = std::move(choices)](const std::string& v) {
    target = choice_flag(name, v, choices);
  });
}

void Flags::positionals(const std::string& name, std::vector<std::string>& values) {
  app_->add_option(name, values);
}

void Flags::parse(std::span<const std::string> args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
  try {
    app_->parse(reversed);
  } catch (const CLI::ExtrasError&) {
    // The first argument nobody took: a flag we do not know, or one positional too many.
    for (const std::string& a : app_->remaining()) {
      if (a.size() > 1 && a[0] == '-')
        throw UsageError("unknown flag \"" + a + "\"");
      throw UsageError("unexpected argument \"" + a + "\"");
    }
    throw UsageError("unexpected arguments");
  } catch (const CLI::ArgumentMismatch& e) {
    // "--run-dir: 1 required TEXT missing": the flag came last, without its value.
    const std::string message = e.what();
    throw UsageError(message.substr(0, message.find(':')) + " needs a value");
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
}

std::int64_t integer_flag(const std::string& flag, const std::string& value, std::int64_t min,
                          std::int64_t max) {
  const std::optional<std::int64_t> n = parse_integer(value);
  if (!n || *n < min || *n > max) {
    throw UsageError(flag + " expects an integer from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", got \"" + value + "\"");
  }
  return *n;
}

double number_flag(const std::string& flag, const std::string& value, double min, double max) {
  const std::optional<double> x = parse_finite_double(value);
  if (!x || *x < min || *x > max) {
    std::ostringstream range;
    range << min << " to " << max;
    throw UsageError(flag + " expects a number from " + range.str() + ", got \"" + value + "\"");
  }
  return *x;
}

std::string choice_flag(const std::string& flag, const std::string& value,
                        const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end())
    return value;
  std::string list;
  for (std::size_t i = 0; i < choices.size(); ++i)
    list += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  throw UsageError(flag + " expects " + list + ", got \"" + value + "\"");
}

}  // namespace dojo
