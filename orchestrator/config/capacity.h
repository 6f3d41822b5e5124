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

/// How H100e factors are computed: from dense bf16 TFLOPS, or from the
/// node-benchmark results the catalog's `measured_results` point to.
enum class H100eBasis { kBf16Tflops, kMeasured };
enum class Interpolation { kLinear, kCompound };

/// A group of identical accelerators that came online together.
struct Pool {
  std::string name;
  std::string accelerator;  ///< a name from the catalog
  std::int64_t count = 0;
  Date online;
  std::optional<Date> retire;  ///< after online
  NodeState state = NodeState::kUp;
  std::string cluster;  ///< label for dashboards; default "default"
};

struct Milestone {
  Date date;
  double h100e = 0;
};

struct PlanConfig {
  Interpolation interpolation = Interpolation::kLinear;
  std::vector<Milestone> milestones;  ///< strictly increasing dates
};

/// Money spent on AI infrastructure over a period.
struct Spend {
  Date from;
  Date to;
  double usd = 0;
  std::string what;
};

/// The idea of a vehicle fleet as distributed inference capacity.
struct VehicleFleet {
  std::int64_t vehicles = 0;
  double inference_kw_per_vehicle = 1.0;
  double driving_hours_per_day = 7.0;
  std::optional<double> h100e_per_vehicle;
};

struct CapacityConfig {
  std::filesystem::path source;
  std::string name;
  AcceleratorCatalog catalog;
  H100eBasis basis = H100eBasis::kBf16Tflops;
  std::vector<Pool> pools;
  PlanConfig plan;
  std::vector<Spend> spend;
  std::optional<VehicleFleet> vehicle_fleet;
};

}  // namespace dojo::config
