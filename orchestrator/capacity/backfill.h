#pragma once
// `dojo capacity backfill`: the capacity series over the whole timeline as
// OpenMetrics, for `promtool tsdb create-blocks-from openmetrics`.

#include <string>

#include "orchestrator/capacity/capacity.h"

namespace dojo::capacity {

/// The exporter's series (without allocated H100e, which has no history) at
/// midnight UTC every `step_days` from `from`, and on `to` itself, as an OpenMetrics
/// document ending in "# EOF": each family's samples together, each series'
/// samples together and in time order. Throws dojo::Error for an empty range
/// or a step below one day.
std::string openmetrics_backfill(const config::CapacityConfig& capacity, const config::Date& from,
                                 const config::Date& to, int step_days);

/// The default start of a backfill: the first pool's online date.
config::Date first_online(const config::CapacityConfig& capacity);

}  // namespace dojo::capacity
