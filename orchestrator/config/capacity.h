#pragma once
// Fleet capacity: the inventory timeline, the growth plan and what was spent.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/config/accelerators.h"
#include "orchestrator/config/cluster.h"
#include "orchestrator/config/date.h"

namespace dojo::config {

/// Which H100e factors a capacity document accepts: the catalog's, as every
/// component counts them (Accelerator::h100e()), or only measured ones (every
/// accelerator of the catalog must have node-benchmark results).
enum class H100eBasis { kCatalog, kMeasured };
enum class Interpolation { kLinear, kCompound };

/// A pool's state from a date on (until the next change).
struct StateChange {
  Date since;
  NodeState state = NodeState::kUp;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const StateChange&) const = default;
};

/// A group of identical accelerators that came online together.
struct Pool {
  std::string name;
  std::string accelerator;  ///< a name from the catalog
  std::int64_t count = 0;
  Date online;
  std::optional<Date> retire;  ///< after online
  /// State changes in date order, none before `online`; up before the first.
  std::vector<StateChange> states;
  /// A delivery the plan expects, not one the source of the timeline states.
  bool planned = false;
  std::string cluster;  ///< label for dashboards; default "default"

  /// The state on `date`: the last change on or before it, else up.
  NodeState state_at(const Date& date) const;
  /// When the state on `date` began: that change's date, else `online`.
  Date state_since(const Date& date) const;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const Pool&) const = default;
};

struct Milestone {
  Date date;
  double h100e = 0;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const Milestone&) const = default;
};

struct PlanConfig {
  Interpolation interpolation = Interpolation::kLinear;
  std::vector<Milestone> milestones;  ///< strictly increasing dates

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const PlanConfig&) const = default;
};

/// Money spent on AI infrastructure over a period.
struct Spend {
  Date from;
  Date to;
  double usd = 0;
  std::string what;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const Spend&) const = default;
};

/// The idea of a vehicle fleet as distributed inference capacity.
struct VehicleFleet {
  std::int64_t vehicles = 0;
  double inference_kw_per_vehicle = 1.0;
  double driving_hours_per_day = 7.0;
  std::optional<double> h100e_per_vehicle;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const VehicleFleet&) const = default;
};

struct CapacityConfig {
  std::filesystem::path source;
  std::string name;
  AcceleratorCatalog catalog;
  H100eBasis basis = H100eBasis::kCatalog;
  std::vector<Pool> pools;
  PlanConfig plan;
  std::vector<Spend> spend;
  std::optional<VehicleFleet> vehicle_fleet;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const CapacityConfig&) const = default;
};

}  // namespace dojo::config
