#include "common/numbers.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <sstream>

#include "common/error.h"

namespace dojo {

std::optional<double> parse_finite_double(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_integer(const std::string& text) {
  std::int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+')
    ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || text.empty())
    return std::nullopt;
  return value;
}

std::optional<std::size_t> parse_byte_size(const std::string& text) {
  if (text.empty())
    return std::nullopt;
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0 || digits > 15)
    return std::nullopt;
  std::size_t value = static_cast<std::size_t>(std::stoull(text.substr(0, digits)));
  const std::string unit = text.substr(digits);
  if (unit.empty())
    return value;
  if (unit == "K" || unit == "k")
    return value << 10;
  if (unit == "M" || unit == "m")
    return value << 20;
  if (unit == "G" || unit == "g")
    return value << 30;
  return std::nullopt;
}

std::optional<std::int64_t> env_integer(const char* name, std::int64_t min, std::int64_t max) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0')
    return std::nullopt;
  const std::optional<std::int64_t> value = parse_integer(text);
  if (!value || *value < min || *value > max) {
    throw UsageError(std::string(name) + "=\"" + text + "\" is not an integer from " +
                     std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

std::optional<double> env_double(const char* name, double min, double max) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0')
    return std::nullopt;
  const std::optional<double> value = parse_finite_double(text);
  if (!value || *value < min || *value > max) {
    std::ostringstream range;
    range << min << " to " << max;
    throw UsageError(std::string(name) + "=\"" + text + "\" is not a number from " + range.str());
  }
  return value;
}

}  // namespace dojo
