#include "orchestrator/config/capacity.h"

#include <set>

#include "orchestrator/config/parsers.h"

namespace dojo::config::detail {
namespace {

// Returns the list under `key` (required), reporting anything else.
const Node* require_list(MapReader& r, const char* key) {
  const Node* list = r.require(key);
  if (list != nullptr && list->kind != NodeKind::kSequence) {
    r.error_at(*list, key, "expected a list, got " + list->describe());
    return nullptr;
  }
  return list;
}

const std::initializer_list<std::pair<const char*, NodeState>> kStates = {
    {"up", NodeState::kUp}, {"drained", NodeState::kDrained}, {"down", NodeState::kDown}};

// `state: WORD` (the state since the pool came online) or a dated list
// `state: [{since: DATE, state: WORD}, ...]` in date order, none before online.
void parse_pool_state(MapReader& p, Diagnostics& diagnostics, Pool& pool, bool have_online) {
  const Node* node = p.get("state");
  if (node == nullptr)
    return;
  if (node->kind != NodeKind::kSequence) {
    NodeState state = NodeState::kUp;
    if (p.optional_enum("state", state, kStates) && have_online)
      pool.states.push_back({pool.online, state});
    return;
  }
  for (std::size_t i = 0; i < node->items.size(); ++i) {
    MapReader s(node->items[i].get(), p.path_of("state") + "[" + std::to_string(i) + "]",
                diagnostics);
    if (!s.present())
      continue;
    StateChange change;
    const bool have_since = s.required("since", change.since);
    s.optional_enum("state", change.state, kStates);
    s.require("state");
    if (have_since && have_online) {
      s.check(change.since >= pool.online, "since",
              "state change on " + change.since.str() + " is before the pool came online on " +
                  pool.online.str());
    }
    if (have_since && !pool.states.empty()) {
      s.check(change.since > pool.states.back().since, "since",
              "state changes must be in date order: " + change.since.str() +
                  " does not come after " + pool.states.back().since.str());
    }
    s.finish();
    if (have_since)
      pool.states.push_back(change);
  }
}

void parse_pools(MapReader& r, const AcceleratorCatalog& catalog, Diagnostics& diagnostics,
                 std::vector<Pool>& out) {
  const Node* list = require_list(r, "pools");
  if (list == nullptr)
    return;
  std::set<std::string> names;
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    MapReader p(list->items[i].get(), r.path_of("pools") + "[" + std::to_string(i) + "]",
                diagnostics);
    if (!p.present())
      continue;
    Pool pool;
    if (p.required("name", pool.name) &&
        check_identifier(*p.get("name"), p.path_of("name"), pool.name, diagnostics)) {
      p.check(names.insert(pool.name).second, "name", "pool \"" + pool.name + "\" is listed twice");
    }
    if (p.required("accelerator", pool.accelerator)) {
      check_accelerator(p, "accelerator", pool.accelerator, catalog);
    }
    if (p.required("count", pool.count)) {
      p.check(pool.count >= 1, "count", "must be at least 1, got " + std::to_string(pool.count));
    }
    const bool have_online = p.required("online", pool.online);
    Date retire;
    if (p.optional("retire", retire)) {
      pool.retire = retire;
      if (have_online) {
        p.check(
            retire > pool.online, "retire",
            "retire date " + retire.str() + " is not after the online date " + pool.online.str());
      }
    }
    parse_pool_state(p, diagnostics, pool, have_online);
    p.optional("planned", pool.planned);
    pool.cluster = "default";
    if (p.optional("cluster", pool.cluster)) {
      check_identifier(*p.get("cluster"), p.path_of("cluster"), pool.cluster, diagnostics);
    }
    p.finish();
    out.push_back(std::move(pool));
  }
}

void parse_plan(MapReader r, Diagnostics& diagnostics, PlanConfig& plan) {
  if (!r.present())
    return;
  r.optional_enum("interpolation", plan.interpolation,
                  {{"linear", Interpolation::kLinear}, {"compound", Interpolation::kCompound}});
  const Node* list = require_list(r, "milestones");
  if (list != nullptr) {
    if (list->items.empty())
      r.error_at(*list, "milestones", "the plan has no milestones");
    for (std::size_t i = 0; i < list->items.size(); ++i) {
      MapReader m(list->items[i].get(), r.path_of("milestones") + "[" + std::to_string(i) + "]",
                  diagnostics);
      if (!m.present())
        continue;
      Milestone milestone;
      const bool have_date = m.required("date", milestone.date);
      if (m.required("h100e", milestone.h100e)) {
        m.check(milestone.h100e > 0, "h100e", "must be greater than 0");
      }
      if (have_date && !plan.milestones.empty() && milestone.date <= plan.milestones.back().date) {
        m.check(false, "date",
                "milestones must be in date order: " + milestone.date.str() +
                    " does not come after " + plan.milestones.back().date.str());
      }
      m.finish();
      if (have_date)
        plan.milestones.push_back(milestone);
    }
  }
  r.finish();
}

void parse_spend(MapReader& r, Diagnostics& diagnostics, std::vector<Spend>& out) {
  const Node* list = r.get("spend");
  if (list == nullptr)
    return;
  if (list->kind != NodeKind::kSequence) {
    r.error_at(*list, "spend", "expected a list, got " + list->describe());
    return;
  }
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    MapReader s(list->items[i].get(), r.path_of("spend") + "[" + std::to_string(i) + "]",
                diagnostics);
    if (!s.present())
      continue;
    Spend spend;
    const bool have_from = s.required("from", spend.from);
    if (s.required("to", spend.to) && have_from) {
      s.check(spend.to >= spend.from, "to", "period ends before it starts");
    }
    if (s.required("usd", spend.usd))
      s.check(spend.usd >= 0, "usd", "must not be negative");
    s.optional("what", spend.what);
    s.finish();
    out.push_back(std::move(spend));
  }
}

void parse_vehicle_fleet(MapReader r, std::optional<VehicleFleet>& out) {
  if (!r.present())
    return;
  VehicleFleet fleet;
  if (r.required("vehicles", fleet.vehicles)) {
    r.check(fleet.vehicles >= 0, "vehicles", "must not be negative");
  }
  if (r.optional("inference_kw_per_vehicle", fleet.inference_kw_per_vehicle)) {
    r.check(fleet.inference_kw_per_vehicle > 0, "inference_kw_per_vehicle",
            "must be greater than 0");
  }
  if (r.optional("driving_hours_per_day", fleet.driving_hours_per_day)) {
    r.check(fleet.driving_hours_per_day >= 0 && fleet.driving_hours_per_day <= 24,
            "driving_hours_per_day", "must be in [0, 24]");
  }
  double factor = 0;
  if (r.optional("h100e_per_vehicle", factor) &&
      r.check(factor >= 0, "h100e_per_vehicle", "must not be negative")) {
    fleet.h100e_per_vehicle = factor;
  }
  r.finish();
  out = fleet;
}

}  // namespace

void parse_capacity(const Node& body, const std::filesystem::path& file, Diagnostics& diagnostics,
                    CapacityConfig& out) {
  out.source = file;
  MapReader r(&body, "capacity", diagnostics);
  if (!r.present())
    return;
  if (r.required("name", out.name)) {
    check_identifier(*r.get("name"), "capacity.name", out.name, diagnostics);
  }
  out.catalog = load_referenced_catalog(r, "accelerators", file);
  if (const Node* basis = r.get("basis");
      basis != nullptr && basis->kind == NodeKind::kScalar && basis->scalar == "bf16_tflops") {
    r.error_at(*basis, "basis",
               "basis bf16_tflops is gone: it ignored the catalog's declared h100e factors, so "
               "capacity and placement counted on two bases; use catalog (each accelerator's "
               "h100e, else bf16_tflops / 989.4) or measured");
  } else {
    r.optional_enum("basis", out.basis,
                    {{"catalog", H100eBasis::kCatalog}, {"measured", H100eBasis::kMeasured}});
  }
  if (out.basis == H100eBasis::kMeasured) {
    for (const Accelerator& a : out.catalog.accelerators) {
      if (!a.h100e_measured) {
        r.check(false, "basis",
                "basis measured needs measured results for every accelerator; \"" + a.name +
                    "\" in " + out.catalog.source.filename().string() + " has none");
        break;
      }
    }
  }
  parse_pools(r, out.catalog, diagnostics, out.pools);
  parse_plan(MapReader(r.require("plan"), "capacity.plan", diagnostics, r.where()), diagnostics,
             out.plan);
  parse_spend(r, diagnostics, out.spend);
  parse_vehicle_fleet(r.child("vehicle_fleet"), out.vehicle_fleet);
  r.finish();
}

}  // namespace dojo::config::detail

namespace dojo::config {

NodeState Pool::state_at(const Date& date) const {
  NodeState state = NodeState::kUp;
  for (const StateChange& change : states) {
    if (change.since > date)
      break;
    state = change.state;
  }
  return state;
}

Date Pool::state_since(const Date& date) const {
  Date since = online;
  for (const StateChange& change : states) {
    if (change.since > date)
      break;
    since = change.since;
  }
  return since;
}

}  // namespace dojo::config
