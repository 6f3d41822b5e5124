#pragma once
// The little JSON and XML (SVG) text dojo writes by hand (events, summaries,
// results files, charts).

#include <string>

namespace dojo {

/// `text` as a JSON string literal, quotes included: quotes, backslashes
/// and control characters escaped.
std::string json_string(const std::string& text);

/// `text` escaped for XML character data and attribute values (&, <, >, ").
std::string xml_escape(const std::string& text);

}  // namespace dojo
