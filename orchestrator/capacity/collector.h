#pragma once
// `dojo capacity serve`: the capacity report as Prometheus series, computed
// afresh at every scrape.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

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

  /// The report the series are made of: the scrape's date (or the fixed
  /// one), with the ledger and blacklist when that date is today.
  Report current() const;
  const config::CapacityConfig& capacity() const { return capacity_; }

  /// Adds per-node series from a cluster inventory:
  /// dojo_capacity_node_h100e{cluster, node, accelerator, state}, each node's
  /// slots times its accelerator's factor on the capacity document's basis.
  /// Throws dojo::Error (naming the node) for an accelerator without a factor.
  void add_nodes(const config::ClusterConfig& cluster);

  /// Where the nodes out of service now come from (the launchers' node
  /// blacklist), asked at every scrape of the live date; their H100e are not
  /// counted online, and dojo_capacity_out_of_service_h100e{cause} says why.
  void set_out_of_service(std::function<std::vector<OutOfService>()> source) {
    out_of_service_ = std::move(source);
  }

  /// Changes whenever Collect() could: the date, or the size or modification
  /// time of a state file (the ledger, the blacklist; missing ones count as
  /// such). For Exporter::cache_while.
  std::string version(const std::vector<std::filesystem::path>& state_files) const;

 private:
  config::CapacityConfig capacity_;
  std::optional<config::Date> fixed_as_of_;
  std::function<std::optional<double>()> allocated_;
  std::function<std::vector<OutOfService>()> out_of_service_;
  struct NodeSeries {
    std::string cluster, node, accelerator, state;
    double h100e = 0;
  };
  std::vector<NodeSeries> nodes_;

  void inventory_series(const Report& r, const config::Date& as_of,
                        std::vector<prometheus::MetricFamily>& out) const;
  void plan_series(const Report& r, std::vector<prometheus::MetricFamily>& out) const;
  void other_series(const Report& r, const config::Date& as_of,
                    std::vector<prometheus::MetricFamily>& out) const;
};

}  // namespace dojo::capacity
