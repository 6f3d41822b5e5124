#pragma once
// `dojo capacity chart`: the capacity timeline as an SVG, readable at a glance.

#include <string>

#include "orchestrator/capacity/capacity.h"

namespace dojo::capacity {

/// At most this many points per drawn line, whatever the timeline: the chart
/// stays small and fast for any input.
inline constexpr std::size_t kChartMaxPoints = 400;
/// At most this many milestones are labelled (the first, the last and evenly
/// spaced ones between).
inline constexpr std::size_t kChartMaxLabels = 8;

/// Installed and online H100e as steps from a few quarters before the plan
/// starts to the as-of date, the committed deliveries after it, the plan
/// through its milestones, the forecast at the last 90 days' rate, and the
/// as-of date, on labelled quarters and H100e with thousands separators; a
/// legend lists exactly what is drawn. A complete SVG document.
std::string chart_svg(const config::CapacityConfig& capacity, const Report& report);

}  // namespace dojo::capacity
