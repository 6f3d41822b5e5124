#pragma once
// The XML (SVG) text dojo writes: the capacity and scale-planner charts. JSON
// is written and read through nlohmann-json.

#include <string>

namespace dojo {

/// `text` escaped for XML character data and attribute values (&, <, >, ").
std::string xml_escape(const std::string& text);

}  // namespace dojo
