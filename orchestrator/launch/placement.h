#pragma once
// Placement: which nodes and slots a job gets, and each rank's batch share.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/config/cluster.h"

namespace dojo::launch {

struct PlacementRequest {
  int ranks = 0;  ///< exactly one of ranks and h100e is positive
  double h100e = 0;
  int ranks_per_node = 0;  ///< 0: up to each node's free slots
};

/// What is not free for this job: slots other jobs hold, nodes blacklisted
/// (failed preflight or failed twice).
struct Unavailable {
  std::map<std::string, int> held_slots;  ///< host -> slots booked by other jobs
  std::vector<std::string> holders;       ///< "JOB_ID holds host:n,..." for messages
  std::set<std::string> blacklisted;
};

struct HostAllocation {
  std::string host;
  int slots = 0;  ///< ranks on this host
  std::string accelerator;
  std::string rack;
  double h100e_factor = 1;  ///< 0 when no inventory types the node
};

struct Placement {
  std::vector<HostAllocation> hosts;  ///< in rank order: host 0 gets ranks 0..slots-1
  int ranks = 0;
  double h100e = 0;  ///< sum of the ranks' factors

  /// The OpenMPI hostfile: "host slots=N" per line.
  std::string hostfile() const;
  /// Hosts no inventory types (their H100e is not counted).
  std::vector<std::string> untyped_hosts() const;
  /// Each rank's H100e factor, by rank.
  std::vector<double> rank_factors() const;
};

/// Picks up nodes with free slots, preferring the fewest nodes and one rack.
/// Throws LaunchError saying what is available when the request cannot be met.
Placement place(const config::ClusterConfig& cluster, const PlacementRequest& request,
                const Unavailable& unavailable);

/// Batch shares in proportion to the ranks' H100e factors (to 1/1000), whole
/// samples adding up to `global_batch`.
std::vector<int> shares_by_factor(int global_batch, const std::vector<double>& factors);

}  // namespace dojo::launch
