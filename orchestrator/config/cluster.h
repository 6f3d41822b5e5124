#pragma once
// A cluster: its nodes, its network and how often its devices fail.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/config/accelerators.h"

namespace dojo::config {

/// The state words shared by cluster nodes and capacity pools.
enum class NodeState { kUp, kDrained, kDown };
const char* to_string(NodeState state);

struct ClusterNode {
  std::string host;
  int slots = 1;            ///< ranks the node can run (usually its accelerators)
  std::string accelerator;  ///< a name from the catalog
  std::string rack;         ///< default "default"
  NodeState state = NodeState::kUp;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const ClusterNode&) const = default;
};

/// One class of link: latency per hop and bandwidth per direction.
struct LinkClass {
  std::string technology;  ///< nvlink, pcie, shm, infiniband, ethernet, loopback
  double latency_us = 0;
  double bandwidth_gb_per_s = 0;  ///< gigabytes (1e9 bytes) per second
  int rails = 1;                  ///< inter_node only: NICs per node, each at bandwidth_gb_per_s
  double tree_latency_us = 0;     ///< inter_node only: per hop of the double binary tree
  /// intra_node only: the node's switch reduces in the network (NVLink SHARP,
  /// NCCL's NVLS algorithm), at this all-reduce bus bandwidth per device and
  /// latency. Defaults: about 480 GB/s busbw on 8 x H100 (NVIDIA/nccl-tests
  /// issue 212) and NCCL's tuner latency for NVLS, 23 us.
  bool nvls = false;
  double nvls_bandwidth_gb_per_s = 480.0;
  double nvls_latency_us = 23.0;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const LinkClass&) const = default;
};

struct NetworkConfig {
  std::string interface;         ///< NIC for MPI and NCCL traffic; "" lets them choose
  LinkClass intra_node;          ///< between devices of one node (bus bandwidth per device)
  LinkClass inter_node;          ///< between nodes (per rail; `rails` rails per node)
  double base_latency_us = 8.4;  ///< fixed cost of one collective (NCCL tuner, Simple)
  /// Open MPI MCA parameters for every attempt (mpirun --mca NAME VALUE;
  /// OMPI_MCA_NAME under srun), e.g. pml: ob1.
  std::map<std::string, std::string> mca;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const NetworkConfig&) const = default;
};

/// Llama 3 405B: 419 unexpected interruptions in 54 days on 16,384 H100s, so
/// one device fails every 16384 * 54 * 24 / 419 = 50,677 hours on average.
inline constexpr double kDefaultDeviceMtbfHours = 16384.0 * 54.0 * 24.0 / 419.0;

/// How nodes of a scheduler's allocation that the inventory does not list
/// are typed: `unlisted_nodes:` of a cluster. Without it such nodes are refused.
struct UnlistedNodes {
  std::string accelerator;  ///< a name from the catalog
  std::string interface;    ///< their NIC; "" lets MPI and NCCL choose (never loopback)

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const UnlistedNodes&) const = default;
};

/// `slurm:` of a cluster: what dojo may do to Slurm's view of the nodes.
struct SlurmClusterConfig {
  /// `scontrol update State=DRAIN` for a node that failed twice in a job.
  bool drain_failed_nodes = false;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const SlurmClusterConfig&) const = default;
};

/// A node implicated in a lost node, a killed rank or a hang is avoided by
/// later placements of every job for this long (`blacklist: cooldown_s`).
inline constexpr double kDefaultBlacklistCooldownSeconds = 3600;

struct ClusterConfig {
  std::filesystem::path source;
  std::string name;
  AcceleratorCatalog catalog;
  std::vector<ClusterNode> nodes;
  NetworkConfig network;
  double device_mtbf_hours = kDefaultDeviceMtbfHours;
  std::optional<UnlistedNodes> unlisted_nodes;
  SlurmClusterConfig slurm;
  double blacklist_cooldown_s = kDefaultBlacklistCooldownSeconds;  ///< 0: no blacklisting

  const ClusterNode* find_node(const std::string& host) const;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const ClusterConfig&) const = default;
};

/// Expands a host pattern with one numeric range, "gpu-[001-128]" style, into
/// its names (zero padding kept). A name without brackets is returned alone.
/// Returns nullopt and sets `error` for a malformed pattern.
std::optional<std::vector<std::string>> expand_host_pattern(const std::string& pattern,
                                                            std::string& error);

}  // namespace dojo::config
