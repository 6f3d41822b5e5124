#pragma once
// `dojo capacity chart`: the capacity timeline as an SVG, readable at a glance.

#include <string>

#include "orchestrator/capacity/capacity.h"

namespace dojo::capacity {

/// Installed and online H100e over time (daily steps), the plan through its
/// milestones, the forecast at the last 90 days' rate, and the as-of date,
/// with dated axes, labelled milestones and a legend. A complete SVG document.
std::string chart_svg(const config::CapacityConfig& capacity, const Report& report);

}  // namespace dojo::capacity
