#include "orchestrator/config/job.h"

#include <cctype>
#include <set>

#include "orchestrator/config/parsers.h"

namespace dojo::config {

const char* to_string(WorkloadType type) {
  return type == WorkloadType::kMlp ? "mlp" : "synthetic";
}

const char* to_string(Backend backend) {
  switch (backend) {
    case Backend::kAuto:
      return "auto";
    case Backend::kMpi:
      return "mpi";
    case Backend::kNccl:
      return "nccl";
  }
  return "?";
}

namespace detail {
namespace {

bool valid_env_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  }
  return true;
}

void parse_optimizer(MapReader r, OptimizerConfig& o) {
  r.optional_enum("type", o.type, {{"sgd", OptimizerType::kSgd}, {"adamw", OptimizerType::kAdamW}});
  if (r.optional("learning_rate", o.learning_rate)) {
    r.check(o.learning_rate > 0, "learning_rate", "must be greater than 0");
  }
  auto unit_interval = [&](const char* key, double& value) {
    if (r.optional(key, value))
      r.check(value >= 0 && value < 1, key, "must be in [0, 1)");
  };
  unit_interval("momentum", o.momentum);
  unit_interval("beta1", o.beta1);
  unit_interval("beta2", o.beta2);
  if (r.optional("epsilon", o.epsilon))
    r.check(o.epsilon > 0, "epsilon", "must be greater than 0");
  if (r.optional("weight_decay", o.weight_decay)) {
    r.check(o.weight_decay >= 0, "weight_decay", "must not be negative");
  }
  if (r.optional("warmup_steps", o.warmup_steps)) {
    r.check(o.warmup_steps >= 0, "warmup_steps", "must not be negative");
  }
  r.optional_enum("schedule", o.schedule,
                  {{"constant", LrSchedule::kConstant}, {"cosine", LrSchedule::kCosine}});
  if (r.optional("clip_grad_norm", o.clip_grad_norm)) {
    r.check(o.clip_grad_norm >= 0, "clip_grad_norm", "must not be negative (0 turns it off)");
  }
  r.finish();
}

void parse_workload(MapReader r, const std::filesystem::path& file, WorkloadConfig& w) {
  if (r.require("type") != nullptr) {
    r.optional_enum("type", w.type,
                    {{"mlp", WorkloadType::kMlp}, {"synthetic", WorkloadType::kSynthetic}});
  }
  r.optional_enum("device", w.device, {{"cpu", Device::kCpu}, {"gpu", Device::kGpu}});
  r.optional_enum("precision", w.precision, {{"f32", Precision::kF32}, {"bf16", Precision::kBf16}});

  // Keys of one workload type are errors on the other, with a message that says so.
  auto only_for = [&](const char* key, WorkloadType type) {
    const Node* value = r.get(key);
    if (value != nullptr && w.type != type) {
      r.error_at(*value, key, std::string("only applies to ") + to_string(type) + " workloads");
      return false;
    }
    return value != nullptr;
  };
  if (only_for("hidden_layers", WorkloadType::kMlp) &&
      r.optional("hidden_layers", w.hidden_layers)) {
    for (int width : w.hidden_layers) {
      if (!r.check(width >= 1, "hidden_layers", "every layer needs at least 1 unit"))
        break;
    }
  }
  if (only_for("dataset_dir", WorkloadType::kMlp)) {
    std::string dir;
    if (r.optional("dataset_dir", dir)) {
      w.dataset_dir = std::filesystem::path(dir).is_absolute() ? std::filesystem::path(dir)
                                                               : file.parent_path() / dir;
    }
  }
  if (only_for("model", WorkloadType::kSynthetic)) {
    r.optional_enum("model", w.model,
                    {{"resnet50", std::string("resnet50")},
                     {"resnet101", std::string("resnet101")},
                     {"bert-large", std::string("bert-large")},
                     {"gpt-1.3b", std::string("gpt-1.3b")}});
  }
  if (only_for("gflop_per_sample", WorkloadType::kSynthetic) &&
      r.optional("gflop_per_sample", w.gflop_per_sample)) {
    r.check(w.gflop_per_sample >= 0, "gflop_per_sample", "must not be negative");
  }
  double overhead_ms = 0;
  if (r.optional("step_overhead_ms", overhead_ms) &&
      r.check(overhead_ms >= 0, "step_overhead_ms", "must not be negative")) {
    w.step_overhead_ms = overhead_ms;
  }
  if (r.optional("epochs", w.epochs))
    r.check(w.epochs >= 1, "epochs", "must be at least 1");
  if (r.optional("max_steps", w.max_steps)) {
    r.check(w.max_steps >= 0, "max_steps", "must not be negative (0 runs every epoch)");
  }
  if (r.optional("global_batch", w.global_batch)) {
    r.check(w.global_batch >= 1, "global_batch", "must be at least 1");
  }
  std::int64_t seed = 1;
  if (r.optional("seed", seed) && r.check(seed >= 0, "seed", "must not be negative")) {
    w.seed = static_cast<std::uint64_t>(seed);
  }
  if (r.optional("threads_per_rank", w.threads_per_rank)) {
    r.check(w.threads_per_rank >= 1, "threads_per_rank", "must be at least 1");
  }
  r.optional_enum("non_finite", w.non_finite,
                  {{"error", NonFinitePolicy::kError}, {"skip", NonFinitePolicy::kSkip}});
  parse_optimizer(r.child("optimizer"), w.optimizer);
  r.finish();
}

void parse_resources(MapReader r, ResourcesConfig& res) {
  int ranks = 0;
  double h100e = 0;
  const bool have_ranks = r.optional("ranks", ranks);
  const bool have_h100e = r.optional("h100e", h100e);
  if (have_ranks && r.check(ranks >= 1, "ranks", "must be at least 1"))
    res.ranks = ranks;
  if (have_h100e && r.check(h100e > 0, "h100e", "must be greater than 0"))
    res.h100e = h100e;
  if (r.get("ranks") != nullptr && r.get("h100e") != nullptr) {
    r.check(false, "h100e", "give either ranks or h100e, not both");
  } else if (r.present() && r.get("ranks") == nullptr && r.get("h100e") == nullptr) {
    r.diagnostics().error(r.where(), r.path() + ": missing required key \"ranks\" (or \"h100e\")");
  }
  int per_node = 0;
  if (r.optional("ranks_per_node", per_node) &&
      r.check(per_node >= 1, "ranks_per_node", "must be at least 1")) {
    res.ranks_per_node = per_node;
  }
  if (r.optional("shares", res.shares)) {
    for (int share : res.shares) {
      if (!r.check(share >= 1, "shares", "every share must be at least 1"))
        break;
    }
    if (res.shares.empty())
      r.check(false, "shares", "must not be empty (leave it out for even shares)");
    if (res.ranks && !res.shares.empty() && static_cast<int>(res.shares.size()) != *res.ranks) {
      r.check(false, "shares",
              "has " + std::to_string(res.shares.size()) + " entries but the job asks for " +
                  std::to_string(*res.ranks) + " ranks");
    }
  }
  r.finish();
}

void parse_collectives(MapReader r, CollectivesConfig& c) {
  r.optional_enum("backend", c.backend,
                  {{"auto", Backend::kAuto}, {"mpi", Backend::kMpi}, {"nccl", Backend::kNccl}});
  if (r.optional("bucket_mib", c.bucket_mib)) {
    r.check(c.bucket_mib > 0 && c.bucket_mib <= 4096, "bucket_mib", "must be in (0, 4096]");
  }
  r.optional_enum("compression", c.compression,
                  {{"none", Compression::kNone}, {"bf16", Compression::kBf16}});
  if (r.optional("timeout_s", c.timeout_s)) {
    r.check(c.timeout_s > 0, "timeout_s", "must be greater than 0");
  }
  r.finish();
}

void parse_checkpoint(MapReader r, CheckpointConfig& c) {
  std::string dir;
  if (r.optional("dir", dir) && r.check(!dir.empty(), "dir", "must not be empty"))
    c.dir = dir;
  if (const Node* every = r.get("every_steps")) {
    if (every->kind == NodeKind::kScalar && !every->quoted && every->scalar == "auto") {
      c.automatic = true;
    } else if (every->kind != NodeKind::kScalar || every->quoted ||
               every->scalar.find_first_not_of("+-0123456789_") != std::string::npos) {
      r.error_at(*every, "every_steps", "expected a step count or auto, got " + every->describe());
    } else if (read_value(*every, r.path_of("every_steps"), r.diagnostics(), c.every_steps)) {
      c.automatic = false;
      r.check(c.every_steps >= 1, "every_steps", "must be at least 1 (or the word auto)");
    }
  }
  if (r.optional("keep", c.keep))
    r.check(c.keep >= 1, "keep", "must be at least 1");
  if (r.optional("save_time_s", c.save_time_s)) {
    r.check(c.save_time_s >= 0, "save_time_s", "must not be negative (0: measured)");
  }
  r.finish();
}

void parse_restarts(MapReader r, RestartsConfig& c) {
  if (r.optional("max", c.max))
    r.check(c.max >= 0, "max", "must not be negative");
  if (r.optional("backoff_s", c.backoff_s)) {
    r.check(c.backoff_s >= 0, "backoff_s", "must not be negative");
  }
  if (r.optional("backoff_max_s", c.backoff_max_s)) {
    r.check(c.backoff_max_s >= c.backoff_s, "backoff_max_s", "must be at least backoff_s");
  }
  for (auto [key, budget] : {std::pair<const char*, int*>{"user_error", &c.user_error},
                             {"killed", &c.killed},
                             {"hang", &c.hang},
                             {"node_lost", &c.node_lost},
                             {"launch_failed", &c.launch_failed}}) {
    if (r.optional(key, *budget))
      r.check(*budget >= 0, key, "must not be negative (0: no restart for this cause)");
  }
  r.finish();
}

void parse_stragglers(MapReader r, StragglersConfig& c) {
  if (r.optional("ratio", c.ratio))
    r.check(c.ratio > 1, "ratio", "must be greater than 1 (a rank this many times the median)");
  if (r.optional("steps", c.steps))
    r.check(c.steps >= 1, "steps", "must be at least 1");
  r.finish();
}

void parse_slurm(MapReader r, SlurmJobConfig& s) {
  r.optional_enum("launch", s.launch,
                  {{"mpirun", SlurmLaunch::kMpirun}, {"srun", SlurmLaunch::kSrun}});
  r.optional_enum("mpi", s.mpi, {{"pmix", std::string("pmix")}, {"pmi2", std::string("pmi2")}});
  for (auto [key, value] : {std::pair<const char*, std::string*>{"partition", &s.partition},
                            {"account", &s.account},
                            {"qos", &s.qos},
                            {"constraint", &s.constraint}}) {
    if (r.optional(key, *value)) {
      r.check(!value->empty() && value->find_first_of(" \t\n'\"\\$`") == std::string::npos, key,
              "must be one word");
    }
  }
  if (r.optional("signal_lead_s", s.signal_lead_s)) {
    r.check(s.signal_lead_s >= 1 && s.signal_lead_s <= 65535, "signal_lead_s",
            "must be in [1, 65535] (Slurm's --signal limit)");
  }
  r.optional("requeue", s.requeue);
  r.finish();
}

void parse_metrics(MapReader r, MetricsConfig& m) {
  r.optional("enabled", m.enabled);
  if (r.optional("bind", m.bind))
    r.check(!m.bind.empty(), "bind", "must not be empty");
  if (r.optional("port", m.port)) {
    r.check(m.port >= 0 && m.port <= 65535, "port", "must be in [0, 65535] (0 picks a free port)");
  }
  r.finish();
}

void parse_env(MapReader& job, std::map<std::string, std::string>& env) {
  job.string_map("env", valid_env_name, "not a valid environment variable name", env);
}

// `secret_env: [NAME, ...]`: names only; the values come from the
// launcher's environment when the job starts and are never written down.
void parse_secret_env(MapReader& job, const std::map<std::string, std::string>& env,
                      std::vector<std::string>& names) {
  const Node* node = job.get("secret_env");
  if (node == nullptr)
    return;
  const std::string path = job.path_of("secret_env");
  if (node->kind != NodeKind::kSequence) {
    job.error_at(*node, "secret_env",
                 "expected a list of variable names such as [HF_TOKEN], got " + node->describe() +
                     " (values come from the launcher's environment, never from this file)");
    return;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < node->items.size(); ++i) {
    const Node& item = *node->items[i];
    const std::string where = path + "[" + std::to_string(i) + "]";
    std::string name;
    if (!read_value(item, where, job.diagnostics(), name))
      continue;
    if (!valid_env_name(name)) {
      job.diagnostics().error(
          item.where, where + ": \"" + name + "\" is not a valid environment variable name");
    } else if (env.count(name) != 0) {
      job.diagnostics().error(item.where, where + ": " + name +
                                              " is also set in job.env; a secret takes its value "
                                              "from the launcher's environment only");
    } else if (!seen.insert(name).second) {
      job.diagnostics().error(item.where, where + ": " + name + " is listed twice");
    } else {
      names.push_back(name);
    }
  }
}

void parse_command(MapReader& job, std::vector<std::string>& command) {
  const Node* node = job.get("command");
  if (node == nullptr)
    return;
  if (node->kind == NodeKind::kScalar) {
    job.error_at(*node, "command",
                 "expected a list of arguments such as [python3, train.py] "
                 "(a command is never run through a shell)");
    return;
  }
  if (read_value(*node, job.path_of("command"), job.diagnostics(), command) && command.empty()) {
    job.error_at(*node, "command", "must name a program");
  }
}

}  // namespace

void parse_job(const Node& body, const std::filesystem::path& file, Diagnostics& diagnostics,
               JobConfig& out) {
  out.source = file;
  MapReader r(&body, "job", diagnostics);
  if (!r.present())
    return;
  if (r.required("name", out.name))
    check_identifier(*r.get("name"), "job.name", out.name, diagnostics);

  if (const Node* cluster = r.get("cluster")) {
    out.cluster_path = resolve_reference(*cluster, "job.cluster", file, diagnostics);
    if (!out.cluster_path.empty()) {
      Diagnostics cluster_diagnostics;
      ClusterConfig cluster_config;
      if (load_cluster_into(out.cluster_path, *cluster, cluster_diagnostics, cluster_config)) {
        out.cluster = std::move(cluster_config);
      }
      diagnostics.append(cluster_diagnostics);
    }
  }

  if (const Node* workload = r.get("workload")) {
    out.workload.emplace();
    parse_workload(MapReader(workload, "job.workload", diagnostics), file, *out.workload);
  }
  parse_command(r, out.command);
  if (out.workload && r.get("command") != nullptr) {
    r.check(false, "command", "give either workload or command, not both");
  } else if (!out.workload && r.get("command") == nullptr) {
    diagnostics.error(r.where(), "job: missing required key \"workload\" (or \"command\")");
  }

  parse_resources(MapReader(r.require("resources"), "job.resources", diagnostics, r.where()),
                  out.resources);
  if (out.workload && out.resources.ranks && out.workload->global_batch < *out.resources.ranks) {
    const Node* workload = r.get("workload");
    const MapEntry* batch =
        workload->kind == NodeKind::kMap ? workload->find("global_batch") : nullptr;
    diagnostics.error(batch != nullptr ? batch->value->where : workload->where,
                      "job.workload.global_batch: " + std::to_string(out.workload->global_batch) +
                          " samples cannot be shared by " + std::to_string(*out.resources.ranks) +
                          " ranks");
  }
  parse_collectives(r.child("collectives"), out.collectives);
  parse_checkpoint(r.child("checkpoint"), out.checkpoint);
  parse_restarts(r.child("restarts"), out.restarts);
  if (r.optional("hang_timeout_s", out.hang_timeout_s)) {
    r.check(out.hang_timeout_s > 0, "hang_timeout_s", "must be greater than 0");
  }
  if (r.optional("wall_time_s", out.wall_time_s)) {
    r.check(out.wall_time_s >= 0, "wall_time_s", "must not be negative (0: no limit)");
  }
  if (r.optional("stop_grace_s", out.stop_grace_s)) {
    r.check(out.stop_grace_s > 0, "stop_grace_s", "must be greater than 0");
  }
  parse_stragglers(r.child("stragglers"), out.stragglers);
  parse_slurm(r.child("slurm"), out.slurm);
  parse_metrics(r.child("metrics"), out.metrics);
  parse_env(r, out.env);
  parse_secret_env(r, out.env, out.secret_env);
  r.finish();
}

}  // namespace detail
}  // namespace dojo::config
