#pragma once
// What one all-reduce costs on a cluster of N devices: the latency-bandwidth
// (alpha-beta) model of NCCL's three algorithms, and the choice between them
// per message size, as NCCL's tuner makes it.

#include <array>
#include <string>

#include "orchestrator/config/cluster.h"

namespace dojo::simulate {

enum class Algorithm { kRing, kTree, kHierarchical, kNvls };
inline constexpr std::array<Algorithm, 4> kAlgorithms = {
    Algorithm::kRing, Algorithm::kTree, Algorithm::kHierarchical, Algorithm::kNvls};
const char* to_string(Algorithm algorithm);

/// NCCL's wire protocols: LL (8-byte lines, half of them flags: lowest
/// latency, half the bandwidth), LL128 (120 of 128 bytes data) and Simple.
enum class Protocol { kLL, kLL128, kSimple };
inline constexpr std::array<Protocol, 3> kProtocols = {Protocol::kLL, Protocol::kLL128,
                                                       Protocol::kSimple};
const char* to_string(Protocol protocol);

/// NCCL's tuner gives the tree algorithm 92% of the ring's bus bandwidth.
inline constexpr double kTreeBandwidthFactor = 0.92;

/// N devices, `devices_per_node` to a node, and the links between them.
struct Topology {
  long devices = 1;          ///< N >= 1
  int devices_per_node = 1;  ///< g >= 1 (a job smaller than a node uses one node)
  config::NetworkConfig network;
  /// NCCL chooses among its protocols (GPU ranks). Off: Simple only, as for
  /// MPI on CPU ranks.
  bool nccl_protocols = true;

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
///   ring, 1 node b + 2(n-1) a_i + 2(n-1)/n S / B_i
///   ring, m > 1  b + (2(n-1) - 2m) max(a_i, o) + 2m a_n + 2(n-1)/n S / min(B_i, B_n)
///                (NCCL's tuner: 2m steps cross the network, and each other step
///                still costs the host's network overhead o, 1 us, 3 us for Simple)
///   tree         b + 2((g-1) a_i + ceil(log2 m) a_t) + 2 S / (0.92 B)   (a_t: tree hop)
///   hierarchical b + 2(g-1) a_i + 2(m-1) a_n + 2(g-1)/g S / B_i + 2(m-1)/m S / B_n
/// (reduce-scatter in the node, a ring over nodes on each device's shard
/// through its rail, all-gather in the node). 0 for one device.
/// NVLS, on nodes whose switch reduces (intra_node.nvls; Simple only; no base
/// latency, as in NCCL's tuner), with a_s and B_s its latency and bus
/// bandwidth:
///   one node     a_s + 2(g-1)/g S / B_s
///   NVLS-tree    a_s + 2 ceil(log2 m) a_t + max(2(g-1)/g S / B_s, 2 S / (0.92 B_n))
/// (the switch reduces in the node while a tree over the nodes' rails
/// carries the node's sum, pipelined). Infinite where the nodes lack it.
/// The network's latencies are those of the Simple protocol; LL and LL128
/// scale each by the ratio of NCCL's tuner figures for that link class
/// (NVLink ring 0.47 / 1.9 / 3.4 us, network ring 2.7 / 4.0 / 9.6, network
/// tree 5 / 8.5 / 50, base 3.6 / 10 / 8.4) and divide bandwidth by 2 (LL)
/// or 128/120 (LL128).
double allreduce_seconds(Algorithm algorithm, Protocol protocol, const Topology& topology,
                         double bytes);
/// The same with the Simple protocol.
double allreduce_seconds(Algorithm algorithm, const Topology& topology, double bytes);

struct AlgorithmChoice {
  Algorithm algorithm = Algorithm::kRing;
  Protocol protocol = Protocol::kSimple;
  double seconds = 0;
  std::array<double, 4> by_algorithm{};  ///< best seconds of each, in kAlgorithms order
  std::string name() const;              ///< "tree/LL128"
};

/// The fastest algorithm and protocol for `bytes`, as NCCL's tuner picks
/// them (ties go to the earlier in kAlgorithms, then kProtocols). GPU ranks
/// (nccl_protocols) are not offered the hierarchical form, which NCCL lacks;
/// its seconds stay infinite in by_algorithm.
AlgorithmChoice choose_algorithm(const Topology& topology, double bytes);

}  // namespace dojo::simulate
