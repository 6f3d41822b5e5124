#include "orchestrator/simulate/allreduce_model.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace dojo::simulate {

const char* to_string(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kRing:
      return "ring";
    case Algorithm::kTree:
      return "tree";
    case Algorithm::kHierarchical:
      return "hierarchical";
    case Algorithm::kNvls:
      return "nvls";
  }
  return "?";
}

const char* to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::kLL:
      return "LL";
    case Protocol::kLL128:
      return "LL128";
    case Protocol::kSimple:
      return "Simple";
  }
  return "?";
}

std::string AlgorithmChoice::name() const {
  return std::string(to_string(algorithm)) + "/" + to_string(protocol);
}

namespace {

// NCCL tuner latencies relative to Simple, and the share of bandwidth that
// carries data, per protocol (REFERENCE figures).
struct ProtocolScale {
  double intra, net_ring, net_tree, base, bandwidth;
  double net_overhead = 1;  ///< NCCL triples the network overhead for Simple
};

/// NCCL_NET_OVERHEAD's default on an Intel x86 host (2 on AMD), in us.
constexpr double kNetOverheadUs = 1.0;

ProtocolScale scale_of(Protocol protocol) {
  switch (protocol) {
    case Protocol::kLL:
      return {0.47 / 3.4, 2.7 / 9.6, 5.0 / 50.0, 3.6 / 8.4, 0.5};
    case Protocol::kLL128:
      return {1.9 / 3.4, 4.0 / 9.6, 8.5 / 50.0, 10.0 / 8.4, 120.0 / 128.0};
    case Protocol::kSimple:
      break;
  }
  return {1, 1, 1, 1, 1, 3};
}

}  // namespace

long Topology::nodes() const {
  return (devices + node_devices() - 1) / node_devices();
}

int Topology::node_devices() const {
  return static_cast<int>(std::min<long>(devices_per_node, devices));
}

void validate(const Topology& topology) {
  if (topology.devices < 1)
    throw Error("the simulation needs at least one device, got " +
                std::to_string(topology.devices));
  if (topology.devices_per_node < 1)
    throw Error("devices per node must be at least 1, got " +
                std::to_string(topology.devices_per_node));
  const auto check_link = [](const config::LinkClass& link, const char* name) {
    if (!(link.bandwidth_gb_per_s > 0))
      throw Error(std::string("network.") + name + ".bandwidth_gb_per_s must be greater than 0");
    if (!(link.latency_us >= 0))
      throw Error(std::string("network.") + name + ".latency_us must not be negative");
    if (!(link.tree_latency_us >= 0))
      throw Error(std::string("network.") + name + ".tree_latency_us must not be negative");
    if (link.rails < 1)
      throw Error(std::string("network.") + name + ".rails must be at least 1");
  };
  check_link(topology.network.intra_node, "intra_node");
  check_link(topology.network.inter_node, "inter_node");
  if (!(topology.network.base_latency_us >= 0))
    throw Error("network.base_latency_us must not be negative");
}

double allreduce_seconds(Algorithm algorithm, const Topology& topology, double bytes) {
  return allreduce_seconds(algorithm, Protocol::kSimple, topology, bytes);
}

double allreduce_seconds(Algorithm algorithm, Protocol protocol, const Topology& topology,
                         double bytes) {
  validate(topology);
  const ProtocolScale p = scale_of(protocol);
  const double n = static_cast<double>(topology.devices);
  if (topology.devices == 1)
    return 0.0;
  const double g = topology.node_devices();
  const double m = static_cast<double>(topology.nodes());
  const config::NetworkConfig& net = topology.network;
  const double base = net.base_latency_us * 1e-6 * p.base;
  const double a_i = net.intra_node.latency_us * 1e-6 * p.intra;
  const double a_n = net.inter_node.latency_us * 1e-6 * p.net_ring;
  const double a_tree = net.inter_node.tree_latency_us * 1e-6 * p.net_tree;
  const double b_i = net.intra_node.bandwidth_gb_per_s * 1e9 * p.bandwidth;
  const double b_n = net.inter_node.bandwidth_gb_per_s * 1e9 * net.inter_node.rails * p.bandwidth;
  const double b_bus = m > 1 ? std::min(b_i, b_n) : b_i;
  switch (algorithm) {
    case Algorithm::kNvls: {
      const config::LinkClass& in = net.intra_node;
      if (!in.nvls || !topology.nccl_protocols || protocol != Protocol::kSimple)
        return INFINITY;
      const double a_s = in.nvls_latency_us * 1e-6;
      const double in_node = 2 * (g - 1) / g * bytes / (in.nvls_bandwidth_gb_per_s * 1e9);
      if (m == 1)
        return a_s + in_node;
      return a_s + 2 * std::ceil(std::log2(m)) * a_tree +
             std::max(in_node, 2 * bytes / (kTreeBandwidthFactor * b_n));
    }
    case Algorithm::kRing: {
      if (m == 1)
        return base + 2 * (n - 1) * a_i + 2 * (n - 1) / n * bytes / b_bus;
      // NCCL's tuner for a ring across nodes: 2m of its 2(n-1) steps cross
      // the network, and every other step still posts to the network proxy,
      // so costs at least the host's network overhead.
      const double intra = std::max(a_i, kNetOverheadUs * 1e-6 * p.net_overhead);
      return base + (2 * (n - 1) - 2 * m) * intra + 2 * m * a_n + 2 * (n - 1) / n * bytes / b_bus;
    }
    case Algorithm::kTree:
      return base + 2 * ((g - 1) * a_i + std::ceil(std::log2(m)) * a_tree) +
             2 * bytes / (kTreeBandwidthFactor * b_bus);
    case Algorithm::kHierarchical:
      return base + 2 * (g - 1) * a_i + 2 * (m - 1) * a_n + 2 * (g - 1) / g * bytes / b_i +
             2 * (m - 1) / m * bytes / b_n;
  }
  return 0.0;
}

AlgorithmChoice choose_algorithm(const Topology& topology, double bytes) {
  AlgorithmChoice choice;
  bool first = true;
  for (std::size_t i = 0; i < kAlgorithms.size(); ++i) {
    choice.by_algorithm[i] = INFINITY;
    // NCCL has no hierarchical all-reduce (its two-level forms are the tree,
    // NVLS-tree and CollNet): on GPU ranks the tuner does not offer it.
    if (topology.nccl_protocols && kAlgorithms[i] == Algorithm::kHierarchical)
      continue;
    for (Protocol protocol : kProtocols) {
      if (!topology.nccl_protocols && protocol != Protocol::kSimple)
        continue;
      const double seconds = allreduce_seconds(kAlgorithms[i], protocol, topology, bytes);
      choice.by_algorithm[i] = std::min(choice.by_algorithm[i], seconds);
      if (first || seconds < choice.seconds) {
        choice.seconds = seconds;
        choice.algorithm = kAlgorithms[i];
        choice.protocol = protocol;
        first = false;
      }
    }
  }
  return choice;
}

}  // namespace dojo::simulate
