#pragma once
// The capacity tracker: H100-equivalent compute installed, online and in use,
// against the plan, from the one inventory timeline of a capacity document.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/config/capacity.h"

namespace dojo::capacity {

/// The H100e factor of a pool's accelerator on the document's basis: dense
/// bf16 TFLOPS over the H100 SXM's 989.4, or the measured node-benchmark
/// figure. Throws dojo::Error for an accelerator without a measured figure
/// under the measured basis.
double h100e_factor(const config::CapacityConfig& capacity, const std::string& accelerator);

/// H100e of pools online by `date` and not retired (state ignored).
double installed_h100e(const config::CapacityConfig& capacity, const config::Date& date);
/// Installed H100e of pools whose state is up.
double online_h100e(const config::CapacityConfig& capacity, const config::Date& date);
/// The plan's target at `date`: the first milestone before it, the last after
/// it, linear or compound interpolation between milestones.
double plan_target(const config::PlanConfig& plan, const config::Date& date);

/// A node the launchers took out of service (the shared node blacklist of
/// `dojo nodes`): installed and up in the inventory, not counted online.
struct OutOfService {
  std::string host;
  double h100e = 0;
  std::string cause;   ///< node_lost, killed or hang
  std::string reason;  ///< the launcher's one line
};

struct ClusterCapacity {
  double installed_h100e = 0;
  double online_h100e = 0;
};

struct Report {
  config::Date as_of;
  double installed_h100e = 0;
  double online_h100e = 0;
  double allocated_h100e = 0;
  bool allocated_known = false;  ///< false when no ledger was read
  /// Blacklisted nodes' H100e, already taken out of online_h100e (the fleet
  /// total; per-cluster figures do not know a host's cluster).
  double out_of_service_h100e = 0;
  std::vector<OutOfService> out_of_service;
  std::optional<double> utilisation_ratio;  ///< allocated / online
  double plan_target_h100e = 0;
  double plan_final_h100e = 0;
  config::Date plan_final_date;
  double progress_ratio = 0;               ///< online / plan target
  double gap_h100e = 0;                    ///< plan target - online; positive is behind
  std::optional<double> growth_90d_ratio;  ///< online vs 90 days before, minus 1
  std::optional<double>
      qoq_growth_ratio;  ///< this quarter's end (or as_of) vs the last quarter's end
  std::optional<config::Date> next_milestone;
  std::optional<double> required_per_day_h100e;  ///< to reach the next milestone
  std::optional<config::Date> forecast_date;     ///< final target at the last 90 days' rate
  std::optional<double> spend_usd;               ///< spend over periods ended by as_of
  std::optional<double> usd_per_h100e;           ///< that spend over the H100e added in them
  std::optional<double> fleet_power_watts;
  std::optional<double> fleet_idle_hours_per_week;
  std::optional<double> fleet_energy_wh_per_week;
  std::optional<double> fleet_h100e;
  std::map<std::string, ClusterCapacity> clusters;
};

/// Everything the tracker reports for `as_of`; `allocated_h100e` comes from
/// the launcher's ledger (nullopt: not known), `out_of_service` from its node
/// blacklist (now only: pass none for another date).
Report report(const config::CapacityConfig& capacity, const config::Date& as_of,
              std::optional<double> allocated_h100e,
              const std::vector<OutOfService>& out_of_service = {});

std::string to_json(const Report& report);
std::string to_table(const Report& report);

}  // namespace dojo::capacity
