#pragma once
// `dojo capacity serve`'s page at `/`: the chart, the figures, the slip and
// what is not online, as one self-contained HTML document (no script).

#include <string>

#include "orchestrator/capacity/capacity.h"

namespace dojo::capacity {

/// The page for `report`. Every figure sits in an element whose `data-key`
/// is the JSON report's key for it, so a reader (or a test) can match them.
std::string html_page(const config::CapacityConfig& capacity, const Report& report);

}  // namespace dojo::capacity
