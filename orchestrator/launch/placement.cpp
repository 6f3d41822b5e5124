#include "orchestrator/launch/placement.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/batch_shares.h"
#include "orchestrator/launch/launch_error.h"

namespace dojo::launch {
namespace {

struct Candidate {
  const config::ClusterNode* node;
  int usable;
  double factor;
};

std::string fixed(double value, int digits) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

// Takes nodes from `pool` (best first) until the request is met; empty when it cannot be.
std::vector<std::pair<const Candidate*, int>> fill(const std::vector<const Candidate*>& pool,
                                                   const PlacementRequest& request) {
  std::vector<std::pair<const Candidate*, int>> taken;
  int ranks = 0;
  double h100e = 0;
  for (const Candidate* c : pool) {
    int use = c->usable;
    if (request.ranks > 0)
      use = std::min(use, request.ranks - ranks);
    if (request.h100e > 0) {
      use = std::min(use, static_cast<int>(std::ceil((request.h100e - h100e) / c->factor - 1e-9)));
    }
    if (use <= 0)
      continue;
    taken.emplace_back(c, use);
    ranks += use;
    h100e += use * c->factor;
    const bool met = request.ranks > 0 ? ranks >= request.ranks : h100e >= request.h100e - 1e-9;
    if (met)
      return taken;
  }
  return {};
}

/// " (held by JOB: host:n, ...; ...)" when other jobs hold slots.
std::string holders(const Unavailable& unavailable) {
  if (unavailable.holders.empty())
    return "";
  std::string text;
  for (const std::string& h : unavailable.holders)
    text += (text.empty() ? "" : "; ") + h;
  return " (held: " + text + ")";
}

/// "; 2 node(s) have no accelerator type to count H100e by (a, ...)", or "".
std::string untyped_text(const std::vector<std::string>& untyped) {
  if (untyped.empty())
    return "";
  return "; " + std::to_string(untyped.size()) +
         " node(s) have no accelerator type to count H100e by (" + untyped.front() +
         (untyped.size() > 1 ? ", ..." : "") + ")";
}

}  // namespace

std::string Placement::hostfile() const {
  std::string text;
  for (const HostAllocation& h : hosts)
    text += h.host + " slots=" + std::to_string(h.slots) + "\n";
  return text;
}

std::vector<std::string> Placement::untyped_hosts() const {
  std::vector<std::string> untyped;
  for (const HostAllocation& h : hosts) {
    if (h.h100e_factor <= 0)
      untyped.push_back(h.host);
  }
  return untyped;
}

std::vector<double> Placement::rank_factors() const {
  std::vector<double> factors;
  for (const HostAllocation& h : hosts)
    factors.insert(factors.end(), h.slots, h.h100e_factor);
  return factors;
}

Placement place(const config::ClusterConfig& cluster, const PlacementRequest& request,
                const Unavailable& unavailable) {
  if ((request.ranks > 0) == (request.h100e > 0)) {
    throw LaunchError("a placement asks for either ranks or h100e");
  }
  std::vector<Candidate> candidates;
  int free_total = 0, held_total = 0, unusable_nodes = 0;
  std::vector<std::string> untyped;
  double free_h100e = 0;
  for (const config::ClusterNode& node : cluster.nodes) {
    const config::Accelerator* a = cluster.catalog.find(node.accelerator);
    // A node no inventory types counts 0 H100e: it cannot serve an H100e request.
    const double factor = a != nullptr ? a->h100e() : 0.0;
    if (factor <= 0 && request.h100e > 0) {
      untyped.push_back(node.host);
      continue;
    }
    if (node.state != config::NodeState::kUp || unavailable.blacklisted.count(node.host) != 0) {
      ++unusable_nodes;
      continue;
    }
    const auto held = unavailable.held_slots.find(node.host);
    const int held_here = held != unavailable.held_slots.end() ? held->second : 0;
    held_total += std::min(held_here, node.slots);
    int usable = node.slots - held_here;
    if (request.ranks_per_node > 0)
      usable = std::min(usable, request.ranks_per_node);
    if (usable <= 0)
      continue;
    candidates.push_back(Candidate{&node, usable, factor});
    free_total += usable;
    free_h100e += usable * factor;
  }
  // Best first: the most compute per node, so the fewest nodes serve the job.
  std::vector<const Candidate*> order;
  for (const Candidate& c : candidates)
    order.push_back(&c);
  std::stable_sort(order.begin(), order.end(), [](const Candidate* a, const Candidate* b) {
    const double wa = a->usable * a->factor, wb = b->usable * b->factor;
    if (wa != wb)
      return wa > wb;
    if (a->usable != b->usable)  // untyped nodes (factor 0): the most slots first
      return a->usable > b->usable;
    return a->node->host < b->node->host;
  });

  // One rack if any rack can hold the job, choosing the one that needs the fewest nodes.
  std::vector<std::pair<const Candidate*, int>> best;
  std::set<std::string> racks;
  for (const Candidate& c : candidates)
    racks.insert(c.node->rack);
  for (const std::string& rack : racks) {
    std::vector<const Candidate*> in_rack;
    for (const Candidate* c : order) {
      if (c->node->rack == rack)
        in_rack.push_back(c);
    }
    auto taken = fill(in_rack, request);
    if (!taken.empty() && (best.empty() || taken.size() < best.size()))
      best = std::move(taken);
  }
  if (best.empty())
    best = fill(order, request);
  if (best.empty()) {
    const std::string wanted = request.ranks > 0 ? std::to_string(request.ranks) + " ranks"
                                                 : fixed(request.h100e, 1) + " H100e";
    throw LaunchError("cannot place " + wanted + " on cluster \"" + cluster.name +
                      "\": " + std::to_string(free_total) + " slots (" + fixed(free_h100e, 1) +
                      " H100e) are free on " + std::to_string(candidates.size()) + " up nodes; " +
                      std::to_string(held_total) + " slots are held by other jobs and " +
                      std::to_string(unusable_nodes) + " nodes are drained, down or blacklisted" +
                      holders(unavailable) + untyped_text(untyped));
  }
  Placement placement;
  for (const auto& [candidate, ranks] : best) {
    const config::ClusterNode& node = *candidate->node;
    placement.hosts.push_back(
        HostAllocation{node.host, ranks, node.accelerator, node.rack, candidate->factor});
    placement.ranks += ranks;
    placement.h100e += ranks * candidate->factor;
  }
  return placement;
}

std::vector<int> shares_by_factor(int global_batch, const std::vector<double>& factors) {
  std::vector<int> weights;
  for (double f : factors)
    weights.push_back(std::max(1, static_cast<int>(std::lround(f * 1000))));
  return split_batch(global_batch, static_cast<int>(factors.size()), weights);
}

}  // namespace dojo::launch
