#pragma once
// `dojo capacity serve`: the capacity report as Prometheus series, computed
// afresh at every scrape.

#include <prometheus/collectable.h>

#include <functional>
#include <optional>
#include <vector>

#include "orchestrator/capacity/capacity.h"
#include "orchestrator/config/cluster.h"

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

  /// Adds per-node series from a cluster inventory:
  /// dojo_capacity_node_h100e{cluster, node, accelerator, state}, each node's
  /// slots times its accelerator's factor on the capacity document's basis.
  /// Throws dojo::Error (naming the node) for an accelerator without a factor.
  void add_nodes(const config::ClusterConfig& cluster);

  /// Changes whenever Collect() could: the date, or the ledger's size or
  /// modification time (`ledger` empty: no ledger). For Exporter::cache_while.
  std::string version(const std::filesystem::path& ledger) const;

 private:
  config::CapacityConfig capacity_;
  std::optional<config::Date> fixed_as_of_;
  std::function<std::optional<double>()> allocated_;
  struct NodeSeries {
    std::string cluster, node, accelerator, state;
    double h100e = 0;
  };
  std::vector<NodeSeries> nodes_;
};

}  // namespace dojo::capacity
