#pragma once
// The little JSON dojo writes by hand (events, summaries, results files).

#include <string>

namespace dojo {

/// `text` as a JSON string literal, quotes included: quotes, backslashes
/// and control characters escaped.
std::string json_string(const std::string& text);

}  // namespace dojo
