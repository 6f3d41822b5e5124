#include "orchestrator/config/cluster.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "orchestrator/config/parsers.h"

namespace dojo::config {

const char* to_string(NodeState state) {
  switch (state) {
    case NodeState::kUp:
      return "up";
    case NodeState::kDrained:
      return "drained";
    case NodeState::kDown:
      return "down";
  }
  return "?";
}

namespace {

/// Open MPI parameter names are lower-case words joined by underscores
/// (pml, btl_tcp_if_include).
bool valid_mca_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

const ClusterNode* ClusterConfig::find_node(const std::string& host) const {
  for (const ClusterNode& node : nodes) {
    if (node.host == host)
      return &node;
  }
  return nullptr;
}

std::optional<std::vector<std::string>> expand_host_pattern(const std::string& pattern,
                                                            std::string& error) {
  const std::size_t open = pattern.find('[');
  if (open == std::string::npos) {
    if (pattern.find(']') != std::string::npos) {
      error = "unbalanced ']' in host pattern";
      return std::nullopt;
    }
    return std::vector<std::string>{pattern};
  }
  const std::size_t dash = pattern.find('-', open);
  const std::size_t close = pattern.find(']', open);
  if (close == std::string::npos || dash == std::string::npos || dash > close ||
      pattern.find('[', open + 1) != std::string::npos) {
    error = "a host pattern holds one range such as node-[01-16]";
    return std::nullopt;
  }
  const std::string first_text = pattern.substr(open + 1, dash - open - 1);
  const std::string last_text = pattern.substr(dash + 1, close - dash - 1);
  int first = 0;
  int last = 0;
  auto number = [](const std::string& text, int& out) {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && ec == std::errc() && ptr == text.data() + text.size() && out >= 0;
  };
  if (!number(first_text, first) || !number(last_text, last) || last < first) {
    error = "host range [" + first_text + "-" + last_text + "] must be two numbers, low to high";
    return std::nullopt;
  }
  // 100,000 names is beyond any fleet this tool plans for; more is a typo.
  if (last - first >= 100'000) {
    error = "host range expands to more than 100000 names";
    return std::nullopt;
  }
  const std::size_t width = first_text.size() > 1 && first_text[0] == '0' ? first_text.size() : 0;
  std::vector<std::string> names;
  for (int i = first; i <= last; ++i) {
    std::string digits = std::to_string(i);
    if (digits.size() < width)
      digits.insert(0, width - digits.size(), '0');
    names.push_back(pattern.substr(0, open) + digits + pattern.substr(close + 1));
  }
  return names;
}

namespace detail {
namespace {

void parse_link(MapReader r, LinkClass& link, const char* default_technology, bool has_rails) {
  link.technology = default_technology;
  r.optional_enum("technology", link.technology,
                  {{"nvlink", std::string("nvlink")},
                   {"pcie", std::string("pcie")},
                   {"shm", std::string("shm")},
                   {"infiniband", std::string("infiniband")},
                   {"ethernet", std::string("ethernet")},
                   {"loopback", std::string("loopback")}});
  if (r.optional("latency_us", link.latency_us)) {
    r.check(link.latency_us >= 0, "latency_us", "must not be negative");
  }
  if (r.optional("bandwidth_gb_per_s", link.bandwidth_gb_per_s)) {
    r.check(link.bandwidth_gb_per_s > 0, "bandwidth_gb_per_s", "must be greater than 0");
  }
  if (has_rails && r.optional("rails", link.rails))
    r.check(link.rails >= 1, "rails", "must be at least 1");
  if (has_rails && r.optional("tree_latency_us", link.tree_latency_us))
    r.check(link.tree_latency_us >= 0, "tree_latency_us", "must not be negative");
  if (!has_rails) {
    r.optional("nvls", link.nvls);
    if (r.optional("nvls_bandwidth_gb_per_s", link.nvls_bandwidth_gb_per_s)) {
      r.check(link.nvls_bandwidth_gb_per_s > 0, "nvls_bandwidth_gb_per_s",
              "must be greater than 0");
    }
    if (r.optional("nvls_latency_us", link.nvls_latency_us))
      r.check(link.nvls_latency_us >= 0, "nvls_latency_us", "must not be negative");
  }
  r.finish();
}

void parse_nodes(MapReader& r, const AcceleratorCatalog& catalog, Diagnostics& diagnostics,
                 std::vector<ClusterNode>& out) {
  const Node* list = r.require("nodes");
  if (list == nullptr)
    return;
  if (list->kind != NodeKind::kSequence) {
    r.error_at(*list, "nodes", "expected a list of nodes, got " + list->describe());
    return;
  }
  if (list->items.empty())
    r.error_at(*list, "nodes", "the cluster has no nodes");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    MapReader n(list->items[i].get(), r.path_of("nodes") + "[" + std::to_string(i) + "]",
                diagnostics);
    if (!n.present())
      continue;
    ClusterNode node;
    std::string pattern;
    const bool have_host = n.required("host", pattern);
    if (n.optional("slots", node.slots))
      n.check(node.slots >= 1, "slots", "must be at least 1");
    if (n.required("accelerator", node.accelerator)) {
      check_accelerator(n, "accelerator", node.accelerator, catalog);
    }
    node.rack = "default";
    n.optional("rack", node.rack);
    n.optional_enum(
        "state", node.state,
        {{"up", NodeState::kUp}, {"drained", NodeState::kDrained}, {"down", NodeState::kDown}});
    n.finish();
    if (!have_host)
      continue;
    std::string error;
    const auto hosts = expand_host_pattern(pattern, error);
    if (!hosts) {
      n.check(false, "host", error);
      continue;
    }
    for (const std::string& host : *hosts) {
      if (host.empty() || host.find_first_of(" \t\n/:,") != std::string::npos) {
        n.check(false, "host", "\"" + host + "\" is not a valid host name");
        break;
      }
      if (!seen.insert(host).second) {
        n.check(false, "host", "host \"" + host + "\" is listed twice");
        break;
      }
      node.host = host;
      out.push_back(node);
    }
  }
}

}  // namespace

void parse_cluster(const Node& body, const std::filesystem::path& file, Diagnostics& diagnostics,
                   ClusterConfig& out) {
  out.source = file;
  MapReader r(&body, "cluster", diagnostics);
  if (!r.present())
    return;
  if (r.required("name", out.name))
    check_identifier(*r.get("name"), "cluster.name", out.name, diagnostics);
  out.catalog = load_referenced_catalog(r, "accelerators", file);
  parse_nodes(r, out.catalog, diagnostics, out.nodes);

  // Defaults: NVLink Simple-protocol ring latency from NCCL's tuner and the
  // ring all-reduce bus bandwidth measured on 8 x H100 (about 370 GB/s, of
  // 450 GB/s NVLink per direction); one NDR 400 Gb/s InfiniBand rail as
  // measured (46-48 GB/s) with NCCL's Simple network ring latency; NCCL's
  // Simple base latency per collective, and its Simple network tree latency
  // per hop. See REFERENCE figures.
  out.network.intra_node = LinkClass{"nvlink", 3.4, 370.0, 1, 0.0};
  out.network.inter_node = LinkClass{"infiniband", 9.6, 46.0, 1, 50.0};
  MapReader net = r.child("network");
  net.optional("interface", out.network.interface);
  if (net.optional("base_latency_us", out.network.base_latency_us))
    net.check(out.network.base_latency_us >= 0, "base_latency_us", "must not be negative");
  parse_link(net.child("intra_node"), out.network.intra_node, "nvlink", false);
  parse_link(net.child("inter_node"), out.network.inter_node, "infiniband", true);
  net.string_map("mca", valid_mca_name, "not an Open MPI parameter name (lower case, digits, _)",
                 out.network.mca);
  net.finish();

  MapReader unlisted = r.child("unlisted_nodes");
  if (unlisted.present()) {
    UnlistedNodes u;
    if (unlisted.required("accelerator", u.accelerator))
      check_accelerator(unlisted, "accelerator", u.accelerator, out.catalog);
    if (unlisted.optional("interface", u.interface)) {
      unlisted.check(u.interface != "lo" && !u.interface.empty(), "interface",
                     "must name a NIC the nodes share, not loopback");
    }
    unlisted.finish();
    out.unlisted_nodes = u;
  }
  MapReader slurm = r.child("slurm");
  slurm.optional("drain_failed_nodes", out.slurm.drain_failed_nodes);
  slurm.finish();
  MapReader blacklist = r.child("blacklist");
  if (blacklist.optional("cooldown_s", out.blacklist_cooldown_s)) {
    blacklist.check(out.blacklist_cooldown_s >= 0, "cooldown_s",
                    "must not be negative (0: no node is blacklisted)");
  }
  blacklist.finish();

  if (r.optional("device_mtbf_hours", out.device_mtbf_hours)) {
    r.check(out.device_mtbf_hours > 0, "device_mtbf_hours", "must be greater than 0");
  }
  r.finish();
}

}  // namespace detail
}  // namespace dojo::config
