#pragma once
// The capacity tracker: H100-equivalent compute installed, online and in use,
// against the plan, from the one inventory timeline of a capacity document.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/config/capacity.h"

namespace dojo::capacity {

/// A forecast further out than this is "not at the current rate": a date
/// decades away says only that the rate is too slow, and no chart or
/// timestamp should carry it.
inline constexpr std::int64_t kForecastHorizonDays = 3653;  // 10 years

/// The H100e factor of a pool's accelerator: the catalog's one factor
/// (config::Accelerator::h100e()), as placement, validate and the planner
/// count it. Throws dojo::Error for an accelerator not in the catalog.
double h100e_factor(const config::CapacityConfig& capacity, const std::string& accelerator);

/// H100e of pools online by `date` and not retired (state ignored).
double installed_h100e(const config::CapacityConfig& capacity, const config::Date& date);
/// Installed H100e of pools up on `date`.
double online_h100e(const config::CapacityConfig& capacity, const config::Date& date);
/// Every date on which installed or online H100e can change (a pool's online,
/// retire and state-change dates), in order: between two, nothing changes.
std::vector<config::Date> change_dates(const config::CapacityConfig& capacity);
/// The plan's target on `date`: none before the first milestone (the plan
/// has not started), the last milestone's after it, linear or compound
/// interpolation between milestones.
std::optional<double> plan_target(const config::PlanConfig& plan, const config::Date& date);

/// A node the launchers took out of service (the shared node blacklist of
/// `dojo nodes`): installed and up in the inventory, not counted online.
struct OutOfService {
  std::string host;
  double h100e = 0;
  std::string cause;   ///< node_lost, killed or hang
  std::string reason;  ///< the launcher's one line
};

/// What only the present knows: the launchers' ledger and node blacklist.
/// A report of any other date gets none, so the past is never today.
struct Live {
  std::optional<double> allocated_h100e;  ///< nullopt: no ledger read
  std::vector<OutOfService> out_of_service;
};

/// Installed H100e not online, and why: a pool drained, down or retired, or
/// a node the launchers blacklisted.
struct NotOnline {
  std::string pool;   ///< the pool; for a blacklisted node, its host
  std::string state;  ///< drained, down, retired or blacklisted
  double h100e = 0;
  config::Date since;  ///< the state's start (blacklisted: the as-of date)
  std::string detail;  ///< blacklisted: cause and reason
};

/// A pool that counts online after the as-of date by the inventory's dated
/// changes: a new pool, or one that returns from drained or down.
struct Delivery {
  std::string pool;
  config::Date date;  ///< when it counts online
  double h100e = 0;
  bool planned = false;  ///< planned rather than stated by the source
  config::Date arrives;  ///< its online date (before `date` when it burns in first)
};

struct ClusterCapacity {
  double installed_h100e = 0;
  double online_h100e = 0;
};

struct Report {
  config::Date as_of;
  bool live = false;  ///< the ledger and blacklist were read (the as-of date is today)
  double installed_h100e = 0;
  double online_h100e = 0;                ///< up pools, less blacklisted nodes
  double planned_online_h100e = 0;        ///< the part of online from planned pools
  std::optional<double> allocated_h100e;  ///< null: unknown (see allocated_note)
  std::string allocated_note;             ///< why allocated is unknown
  /// Blacklisted nodes' H100e, already taken out of online_h100e (the fleet
  /// total; per-cluster figures do not know a host's cluster).
  double out_of_service_h100e = 0;
  std::vector<OutOfService> out_of_service;
  std::vector<NotOnline> not_online;
  std::optional<double> utilisation_ratio;  ///< allocated / online
  std::optional<config::Date> plan_start;   ///< the first milestone's date
  std::optional<double> plan_target_h100e;  ///< null before the plan starts
  double plan_final_h100e = 0;
  config::Date plan_final_date;
  std::optional<double> progress_ratio;    ///< online / plan target
  std::optional<double> gap_h100e;         ///< plan target - online; positive is behind
  std::optional<double> growth_90d_ratio;  ///< online vs 90 days before, minus 1
  std::optional<double> growth_qoq_ratio;  ///< this quarter's end (or as_of) vs the last's
  /// The next milestone after as_of, and when online is expected to reach it:
  /// by the committed deliveries when they reach it, else at the last 90
  /// days' rate (null: not within the forecast horizon).
  std::optional<config::Milestone> next_milestone;
  std::optional<double> required_per_day_h100e;  ///< to reach the next milestone
  std::optional<config::Date> milestone_expected;
  std::string milestone_expected_by;          ///< "online", "committed deliveries" or "90-day rate"
  std::optional<double> milestone_slip_days;  ///< expected - due; positive is late
  /// The last milestone on or before as_of, and the H100e online still lacks
  /// to meet it (0 when met): a milestone missed.
  std::optional<config::Milestone> last_milestone;
  std::optional<double> milestone_shortfall_h100e;
  /// When the last 90 days' rate reaches the final target: never before
  /// as_of, null once reached, beyond kForecastHorizonDays or at a rate <= 0.
  std::optional<config::Date> forecast_date;
  /// The first day online reached the final target, once it has.
  std::optional<config::Date> final_reached_date;
  std::vector<Delivery> deliveries;  ///< after as_of, within the horizon, in date order
  double committed_h100e = 0;        ///< the deliveries' H100e
  std::optional<config::Date> committed_final_date;  ///< deliveries reach the final target
  std::optional<double> spend_usd;                   ///< spend over periods ended by as_of
  std::optional<double> usd_per_h100e;               ///< over the H100e installed in those periods
  std::optional<double> fleet_power_watts;
  std::optional<double> fleet_idle_hours_per_week;
  std::optional<double> fleet_energy_wh_per_week;
  std::optional<double> fleet_h100e;
  std::map<std::string, ClusterCapacity> clusters;
};

/// Everything the tracker reports for `as_of`. `live` carries the ledger and
/// blacklist; pass it only when `as_of` is today (describes_now()).
Report report(const config::CapacityConfig& capacity, const config::Date& as_of,
              const std::optional<Live>& live);

/// Whether a report of `as_of` describes the present (the ledger and the
/// blacklist apply): `as_of` is today.
bool describes_now(const config::Date& as_of);

std::string to_json(const Report& report);
std::string to_table(const Report& report);

/// 85000 -> "85,000"; `decimals` after the point.
std::string thousands(double value, int decimals = 0);

}  // namespace dojo::capacity
