#include "common/numbers.h"

#include <cmath>
#include <exception>

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

}  // namespace dojo
