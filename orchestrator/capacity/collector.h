#pragma once
// `dojo capacity serve`: the capacity report as Prometheus series, computed
// afresh at every scrape.

#include <prometheus/collectable.h>

#include <functional>
#include <optional>
#include <vector>

#include "orchestrator/capacity/capacity.h"

namespace dojo::capacity {

/// A collectable whose Collect() reports the fleet at the scrape's date (or a
/// fixed as-of date). Labels are bounded: cluster, pool, accelerator, state.
/// `allocated` is asked at every scrape (the launcher's ledger); nullopt
/// leaves the allocated and utilisation series out rather than reporting 0.
class Collector : public prometheus::Collectable {
 public:
  Collector(config::CapacityConfig capacity, std::optional<config::Date> fixed_as_of,
            std::function<std::optional<double>()> allocated);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  config::CapacityConfig capacity_;
  std::optional<config::Date> fixed_as_of_;
  std::function<std::optional<double>()> allocated_;
};

}  // namespace dojo::capacity
