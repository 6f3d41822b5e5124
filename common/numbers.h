#pragma once
// Reading numbers from text the strict way: the whole text, nothing after it.

#include <optional>
#include <string>

namespace dojo {

/// `text` as a finite double when all of it is one ("2.5", "1e-3"); nullopt
/// for "", "2.5x", "nan", "inf" or anything std::stod refuses.
std::optional<double> parse_finite_double(const std::string& text);

}  // namespace dojo
