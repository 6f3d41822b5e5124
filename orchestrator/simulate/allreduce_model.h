#pragma once
// What one all-reduce costs on a cluster of N devices: the latency-bandwidth
// (alpha-beta) model of NCCL's three algorithms, and the choice between them
// per message size, as NCCL's tuner makes it.

#include <array>
#include <string>

#include "orchestrator/config/cluster.h"

namespace dojo::simulate {

enum class Algorithm { kRing, kTree, kHierarchical };
inline constexpr std::array<Algorithm, 3> kAlgorithms = {Algorithm::kRing, Algorithm::kTree,
                                                         Algorithm::kHierarchical};
const char* to_string(Algorithm algorithm);

/// NCCL's tuner gives the tree algorithm 92% of the ring's bus bandwidth.
inline constexpr double kTreeBandwidthFactor = 0.92;

/// N devices, `devices_per_node` to a node, and the links between them.
struct Topology {
  long devices = 1;          ///< N >= 1
  int devices_per_node = 1;  ///< g >= 1 (a job smaller than a node uses one node)
  config::NetworkConfig network;

  long nodes() const;        ///< ceil(N / g)
  int node_devices() const;  ///< min(g, N)
};

/// Throws dojo::Error naming the field for a topology the model cannot cost:
/// no devices, or a zero or negative bandwidth, or a negative latency.
void validate(const Topology& topology);

/// Seconds for one all-reduce of `bytes` with `algorithm`. With n devices on
/// m nodes of g, alpha the per-hop latencies, B_i the intra-node bus
/// bandwidth per device, B_n = rails x the rail bandwidth per node, and the
/// base latency b:
///   ring         b + 2(n-m) a_i + 2(m-1) a_n + 2(n-1)/n S / B   (B = B_i, or min(B_i, B_n) across
///   nodes) tree         b + 2((g-1) a_i + ceil(log2 m) a_t) + 2 S / (0.92 B)   (a_t: tree hop)
///   hierarchical b + 2(g-1) a_i + 2(m-1) a_n + 2(g-1)/g S / B_i + 2(m-1)/m S / B_n
/// (reduce-scatter in the node, a ring over nodes on each device's shard
/// through its rail, all-gather in the node). 0 for one device.
double allreduce_seconds(Algorithm algorithm, const Topology& topology, double bytes);

struct AlgorithmChoice {
  Algorithm algorithm = Algorithm::kRing;
  double seconds = 0;
  std::array<double, 3> by_algorithm{};  ///< seconds of each, in kAlgorithms order
};

/// The fastest algorithm for `bytes` (ties go to the earlier in kAlgorithms).
AlgorithmChoice choose_algorithm(const Topology& topology, double bytes);

}  // namespace dojo::simulate
