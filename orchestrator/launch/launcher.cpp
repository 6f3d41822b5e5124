#include "orchestrator/launch/launcher.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>

#include "common/atomic_file.h"
#include "common/json.h"
#include "orchestrator/config/shares.h"
#include "orchestrator/heartbeat/heartbeat.h"
#include "orchestrator/launch/launch_error.h"
#include "orchestrator/launch/launch_support.h"
#include "orchestrator/launch/launcher_metrics.h"
#include "orchestrator/launch/ledger.h"
#include "orchestrator/launch/mpirun_command.h"
#include "orchestrator/launch/placement.h"
#include "orchestrator/launch/slurm.h"
#include "orchestrator/launch/supervisor.h"
#include "orchestrator/metrics/exporter.h"

namespace dojo::launch {
namespace {

std::string join(const std::vector<int>& values) {
  std::string text;
  for (int v : values)
    text += (text.empty() ? "" : ",") + std::to_string(v);
  return text;
}

}  // namespace

int launch(const LaunchOptions& options, std::ostream& out, std::ostream& err,
           const std::atomic<bool>* stop_requested) {
  // 1. The job: a file, or the defaults of a bare command (where --set still works).
  config::JobConfig job;
  std::string job_text;
  if (options.job_file) {
    job = config::load_job(*options.job_file, options.overrides);
    job_text = read_text(*options.job_file);
  } else {
    if (options.command.empty())
      throw UsageError("give a job file, or -- COMMAND ARGS...");
    job_text = "job:\n  name: " + name_from_command(options.command[0]) +
               "\n  command: [from-the-command-line]\n  resources: {ranks: " +
               std::to_string(std::max(options.np, 1)) + "}\n";
    job = config::load_job_text(job_text, std::filesystem::current_path() / "(command line)",
                                options.overrides);
  }
  if (!options.command.empty()) {  // -- COMMAND runs instead of whatever the file says
    job.workload.reset();
    job.command = options.command;
  }
  if (options.np > 0) {
    job.resources.ranks = options.np;
    job.resources.h100e.reset();
  }

  // 2. Where: -H / --hostfile, --cluster, the job's cluster, or this machine alone.
  config::ClusterConfig cluster;
  std::vector<std::pair<std::string, int>> given_hosts = options.hosts;
  if (given_hosts.empty()) {
    if (auto allocation = slurm_allocation())
      given_hosts = std::move(*allocation);
  }
  if (!given_hosts.empty()) {
    // -H, --hostfile or a Slurm allocation: those nodes, typed by the
    // cluster inventory when it knows them.
    config::ClusterConfig known;
    if (options.cluster_file) {
      known = config::load_cluster(*options.cluster_file);
    } else if (job.cluster) {
      known = *job.cluster;
    }
    cluster.name = options.hosts.empty() ? "slurm" : "hosts";
    cluster.catalog = known.catalog;
    cluster.network = known.network;
    for (const auto& [host, slots] : given_hosts) {
      const config::ClusterNode* node = known.find_node(host);
      cluster.nodes.push_back({host, slots, node != nullptr ? node->accelerator : "",
                               node != nullptr ? node->rack : "default", config::NodeState::kUp});
    }
  } else if (options.cluster_file) {
    cluster = config::load_cluster(*options.cluster_file);
  } else if (job.cluster) {
    cluster = *job.cluster;
  } else {
    cluster.name = "this-machine";
    const int wanted = job.resources.ranks.value_or(1);
    const int cores = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
    cluster.nodes.push_back(
        {"localhost", std::max(wanted, cores), "", "local", config::NodeState::kUp});
  }
  PlacementRequest request;
  request.ranks = job.resources.ranks.value_or(0);
  request.h100e = job.resources.h100e.value_or(0);
  request.ranks_per_node = job.resources.ranks_per_node.value_or(0);
  // Placement goes through the ledger, so two launchers never book the same slots.
  Ledger ledger(options.state_dir.empty() ? default_state_dir() : options.state_dir);
  const std::string job_id = job.name + "@" + this_host() + ":" + std::to_string(::getpid());
  auto place_with = [&](const Unavailable& unavailable) {
    return place(cluster, request, unavailable);
  };
  Placement placement;
  if (options.dry_run) {
    Unavailable held;
    for (const Booking& b : ledger.bookings()) {
      for (const auto& [host, n] : b.slots)
        held.held_slots[host] += n;
    }
    placement = place_with(held);
  } else {
    placement = ledger.book(job_id, place_with);
  }
  struct Release {
    Ledger& ledger;
    const std::string& id;
    bool active;
    ~Release() {
      if (!active)
        return;
      try {
        ledger.release(id);
      } catch (...) {
      }
    }
  } release{ledger, job_id, !options.dry_run};

  // 3. Batch shares: explicit, else by each rank's H100e factor.
  const int global_batch = job.workload ? job.workload->global_batch : 256;
  auto shares_for = [&](const Placement& p) {
    if (job.resources.shares.empty())
      return shares_by_factor(global_batch, p.rank_factors());
    if (static_cast<int>(job.resources.shares.size()) != p.ranks) {
      throw LaunchError("resources.shares has " + std::to_string(job.resources.shares.size()) +
                        " entries for " + std::to_string(p.ranks) + " ranks");
    }
    return job.workload ? config::split_batch(global_batch, p.ranks, job.resources.shares)
                        : job.resources.shares;
  };
  std::vector<int> shares = shares_for(placement);

  // 4. The command every rank runs, through `dojo exec`, which gives it the
  //    torchrun environment.
  const std::filesystem::path run_dir = std::filesystem::absolute(
      options.run_dir.empty() ? std::filesystem::path("runs") / job.name : options.run_dir);
  std::vector<std::string> program =
      options.exec_binary.empty()
          ? std::vector<std::string>{options.dojo_binary.string(), "exec", "--"}
          : std::vector<std::string>{options.exec_binary.string(), "--"};
  if (job.workload) {
    if (!options.job_file)
      throw UsageError("a built-in workload needs a job file");
    program.insert(program.end(), {options.dojo_binary.string(), "worker",
                                   std::filesystem::absolute(*options.job_file).string(),
                                   "--run-dir", run_dir.string()});
    for (const config::Override& o : options.overrides) {
      program.push_back("--set");
      program.push_back(o.flag.substr(6));  // the text after "--set "
    }
  } else {
    program.insert(program.end(), job.command.begin(), job.command.end());
  }
  std::vector<std::string> rank_hosts;
  for (const HostAllocation& h : placement.hosts)
    rank_hosts.insert(rank_hosts.end(), h.slots, h.host);
  const std::string master = placement.hosts.front().host;
  const bool local = std::all_of(placement.hosts.begin(), placement.hosts.end(),
                                 [](const HostAllocation& h) { return is_local(h.host); });

  MpirunSpec spec;
  spec.mpirun = options.mpirun;
  spec.hostfile = run_dir / "hostfile";
  spec.ranks = placement.ranks;
  spec.network_interface = cluster.network.interface;
  if (local && spec.network_interface == "lo")
    spec.network_interface.clear();
  spec.rsh_agent = options.rsh_agent;
  spec.as_root = ::geteuid() == 0;
  spec.env = job.env;
  spec.env["DOJO_JOB"] = job.name;
  spec.env["DOJO_RUN_DIR"] = run_dir.string();
  spec.env["DOJO_BATCH_SHARES"] = join(shares);
  spec.env["MASTER_ADDR"] = is_local(master) ? "127.0.0.1" : master;
  spec.env["MASTER_PORT"] = std::to_string(is_local(master) ? free_tcp_port() : 29500);
  spec.env["DOJO_ATTEMPT"] = "0";
  spec.program = program;
  // Secrets: mpirun passes them on from its environment (this launcher's), by
  // name, so their values never appear in a command line, a log or a file.
  for (const std::string& name : job.secret_env) {
    if (std::getenv(name.c_str()) == nullptr) {
      throw LaunchError("job " + job.name + ": secret_env names " + name +
                        ", which is not set in the launcher's environment");
    }
    spec.pass_env.push_back(name);
  }

  if (options.dry_run) {
    spec.env["DOJO_HEARTBEAT_ADDR"] = "LAUNCHER:PORT";
    out << "# placement: " << placement.ranks << " ranks on " << placement.hosts.size()
        << " node(s), " << std::fixed << std::setprecision(3) << placement.h100e << " H100e\n"
        << "# hostfile " << spec.hostfile.string() << "\n"
        << placement.hostfile() << "# batch shares " << join(shares) << "\n# command\n"
        << shell_words(mpirun_argv(spec)) << "\n";
    return 0;
  }

  // 5. The run directory, its owner's only: logs, configs, checkpoints.
  std::filesystem::create_directories(run_dir);
  std::filesystem::permissions(run_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);
  write_file_atomically((run_dir / "hostfile").string(), placement.hostfile());
  write_file_atomically((run_dir / "version").string(), options.version + "\n");
  write_file_atomically((run_dir / "job.yaml").string(), job_text);
  write_file_atomically(
      (run_dir / "config.resolved.yaml").string(),
      options.job_file ? config::resolved_yaml(*options.job_file, options.overrides) : job_text);
  std::string sets;
  for (const config::Override& o : options.overrides)
    sets += o.flag + "\n";
  write_file_atomically((run_dir / "overrides.txt").string(), sets);
  write_file_atomically((run_dir / "config_hash").string(), config_hash(job_text + sets) + "\n");
  EventLog events(run_dir / "events.jsonl");

  // Ranks reach the launcher over the cluster's network when it names an
  // interface, else through this host's name (or loopback for a local job).
  const std::string cluster_address = local ? "" : interface_address(cluster.network.interface);
  heartbeat::Receiver heartbeats(
      local ? "127.0.0.1" : (cluster_address.empty() ? "0.0.0.0" : cluster_address), 0);
  spec.env["DOJO_HEARTBEAT_ADDR"] =
      (local ? std::string("127.0.0.1")
             : (cluster_address.empty() ? this_host() : cluster_address)) +
      ":" + std::to_string(heartbeats.port());
  events.add("start", {{"job", json_string(job.name)},
                       {"ranks", std::to_string(placement.ranks)},
                       {"h100e", std::to_string(placement.h100e)},
                       {"run_dir", json_string(run_dir.string())}});
  std::string hosts_json = "[";
  for (const HostAllocation& h : placement.hosts) {
    hosts_json += (hosts_json.size() > 1 ? ", " : "") + std::string("{\"host\": ") +
                  json_string(h.host) + ", \"slots\": " + std::to_string(h.slots) + "}";
  }
  events.add("placement", {{"hosts", hosts_json + "]"}, {"shares", "[" + join(shares) + "]"}});

  // The launcher's own metrics, and file_sd targets Prometheus picks up.
  std::unique_ptr<LauncherMetrics> metrics;
  std::unique_ptr<metrics::Exporter> exporter;
  std::unique_ptr<FileSdTargets> targets;
  const std::filesystem::path state_dir =
      options.state_dir.empty() ? default_state_dir() : options.state_dir;
  if (job.metrics.enabled) {
    metrics = std::make_unique<LauncherMetrics>(job.name, placement.ranks, placement.h100e);
    exporter = std::make_unique<metrics::Exporter>(metrics::ExporterOptions{job.metrics.bind, 0});
    exporter->add(metrics->registry());
    write_file_atomically((run_dir / "launcher.port").string(),
                          std::to_string(exporter->port()) + "\n");
    targets = std::make_unique<FileSdTargets>(
        state_dir / "prometheus" / (job.name + "-" + std::to_string(::getpid()) + ".json"),
        job.name);
    targets->set("launcher", exporter->endpoint());
  }
  const std::string rank0_host = local ? "127.0.0.1" : master;
  bool job_target_known = false;

  std::map<std::string, int> host_failures;
  std::set<std::string> blacklist;
  // Takes a new placement (a spare, or after a pre-flight check failed).
  auto adopt = [&](Placement next) {
    placement = std::move(next);
    shares = shares_for(placement);
    rank_hosts.clear();
    for (const HostAllocation& h : placement.hosts)
      rank_hosts.insert(rank_hosts.end(), h.slots, h.host);
    spec.ranks = placement.ranks;
    spec.env["DOJO_BATCH_SHARES"] = join(shares);
    const std::string& first = placement.hosts.front().host;
    spec.env["MASTER_ADDR"] = is_local(first) ? "127.0.0.1" : first;
    write_file_atomically((run_dir / "hostfile").string(), placement.hostfile());
  };

  // An optional pre-flight check on every chosen node: a node that fails it
  // is marked down for this job and the job placed again without it.
  while (!options.preflight.empty()) {
    std::string failed_host;
    for (const HostAllocation& h : placement.hosts) {
      MpirunSpec check = spec;
      check.hostfile = run_dir / "preflight-hostfile";
      write_file_atomically(check.hostfile.string(), h.host + " slots=1\n");
      check.ranks = 1;
      check.env = {{"DOJO_PREFLIGHT_HOST", h.host}};
      check.program = options.preflight;
      AttemptOptions a;
      a.argv = mpirun_argv(check);
      a.log = run_dir / ("preflight-" + h.host + ".log");
      a.echo = false;
      a.rank_hosts = {h.host};
      a.wall_deadline_s = 60;
      a.stop_requested = stop_requested;
      const AttemptResult r = run_attempt(a);
      if (r.outcome != AttemptResult::Outcome::kCompleted) {
        failed_host = h.host;
        events.add("preflight_failed",
                   {{"host", json_string(h.host)}, {"reason", json_string(r.reason)}});
        err << "dojo launch: node " << h.host << " failed the pre-flight check (" << r.reason
            << "); marked down for this job\n";
        break;
      }
    }
    if (failed_host.empty())
      break;
    blacklist.insert(failed_host);
    adopt(ledger.book(job_id, [&](const Unavailable& held) {
      Unavailable u = held;
      u.blacklisted = blacklist;
      return place(cluster, request, u);
    }));
    events.add("placement", {{"hostfile", json_string(placement.hostfile())}});
  }
  const auto job_start = std::chrono::steady_clock::now();
  // Heartbeats are how hangs are seen; command jobs opt in by sending them.
  const bool watch = job.workload.has_value();
  for (int attempt = 0;; ++attempt) {
    spec.env["DOJO_ATTEMPT"] = std::to_string(attempt);
    const std::vector<std::string> argv = mpirun_argv(spec);
    write_file_atomically((run_dir / "command.txt").string(), shell_words(argv) + "\n");
    AttemptOptions a;
    a.argv = argv;
    a.log = run_dir / ("attempt-" + std::to_string(attempt) + ".log");
    a.ranks = placement.ranks;
    a.rank_hosts = rank_hosts;
    a.heartbeats = watch ? &heartbeats : nullptr;
    a.job = job.name;
    a.attempt = attempt;
    a.hang_timeout_s = job.hang_timeout_s;
    if (job.wall_time_s > 0) {
      a.wall_deadline_s = std::max(
          0.001,
          job.wall_time_s -
              std::chrono::duration<double>(std::chrono::steady_clock::now() - job_start).count());
    }
    a.stop_grace_s = options.stop_grace_s;
    a.stop_requested = stop_requested;
    auto last_renewal = std::chrono::steady_clock::now();
    a.on_tick = [&](double heartbeat_age) {
      if (std::chrono::steady_clock::now() - last_renewal > std::chrono::seconds(60)) {
        last_renewal = std::chrono::steady_clock::now();
        ledger.renew(job_id);
      }
      if (metrics)
        metrics->heartbeat_age(heartbeat_age);
      // Rank 0 records its exporter's port in the run directory once it serves.
      if (targets && !job_target_known) {
        std::ifstream port_file(run_dir / "metrics.port");
        int port = 0;
        if (port_file >> port && port > 0) {
          targets->set("job", rank0_host + ":" + std::to_string(port));
          job_target_known = true;
        }
      }
    };
    if (metrics) {
      metrics->state("running");
      metrics->attempt(attempt);
    }
    events.add("attempt", {{"attempt", std::to_string(attempt)}});
    const AttemptResult result = run_attempt(a);
    events.add(to_string(result.outcome),
               {{"attempt", std::to_string(attempt)},
                {"reason", json_string(result.reason)},
                {"ranks", "[" + join(result.failed_ranks) + "]"},
                {"exit_code", std::to_string(result.exit_code)},
                {"seconds", std::to_string(result.seconds)},
                {"first_step_seconds", std::to_string(result.first_step_seconds)}});
    switch (result.outcome) {
      case AttemptResult::Outcome::kCompleted:
        write_file_atomically((run_dir / "status").string(), "completed\n");
        if (metrics)
          metrics->state("completed");
        events.add("end", {{"status", json_string("completed")}});
        out << "dojo launch: job " << job.name << " completed (attempt " << attempt << ")\n";
        return 0;
      case AttemptResult::Outcome::kStopped:
        write_file_atomically((run_dir / "status").string(), "stopped\n");
        if (metrics)
          metrics->state("stopped");
        events.add("end", {{"status", json_string("stopped")}});
        err << "dojo launch: job " << job.name << " stopped on request\n";
        return 3;
      case AttemptResult::Outcome::kWallTime:
        write_file_atomically((run_dir / "status").string(), "failed\n");
        if (metrics)
          metrics->state("failed");
        events.add("end",
                   {{"status", json_string("failed")}, {"reason", json_string(result.reason)}});
        err << "dojo launch: job " << job.name << ": " << result.reason << "\n";
        return 1;
      default:
        break;
    }
    err << "dojo launch: job " << job.name << " attempt " << attempt << " "
        << to_string(result.outcome) << ": " << result.reason << "\n";
    if (attempt >= job.restarts.max || (stop_requested != nullptr && stop_requested->load())) {
      write_file_atomically((run_dir / "status").string(), "failed\n");
      if (metrics)
        metrics->state("failed");
      events.add("end",
                 {{"status", json_string("failed")}, {"reason", json_string(result.reason)}});
      err << "dojo launch: job " << job.name << " failed after " << attempt + 1 << " attempt(s)\n";
      return 1;
    }
    // A node that failed twice is replaced by a spare when the cluster has one.
    for (int r : result.failed_ranks) {
      if (r < 0 || r >= static_cast<int>(rank_hosts.size()))
        continue;
      const std::string host = rank_hosts[static_cast<std::size_t>(r)];
      if (++host_failures[host] != 2)
        continue;
      Unavailable failing;
      failing.blacklisted = blacklist;
      failing.blacklisted.insert(host);
      try {
        Placement replaced = ledger.book(job_id, [&](const Unavailable& held) {
          Unavailable u = held;
          u.blacklisted = failing.blacklisted;
          return place(cluster, request, u);
        });
        blacklist = failing.blacklisted;
        adopt(std::move(replaced));
        events.add("replaced",
                   {{"host", json_string(host)}, {"hostfile", json_string(placement.hostfile())}});
        err << "dojo launch: node " << host << " failed twice; the job moves to a spare\n";
        break;  // the ranks of this attempt no longer map onto the new hosts
      } catch (const LaunchError&) {
        events.add("no_spare", {{"host", json_string(host)}});
        err << "dojo launch: node " << host
            << " failed twice but the cluster has no spare; the job continues where it is\n";
      }
    }
    if (metrics) {
      metrics->state("restarting");
      metrics->restarted();
    }
    const double backoff =
        std::min(job.restarts.backoff_max_s, job.restarts.backoff_s * std::pow(2.0, attempt));
    events.add("restart",
               {{"attempt", std::to_string(attempt + 1)}, {"backoff_s", std::to_string(backoff)}});
    err << "dojo launch: restarting from the newest checkpoint in " << backoff << " s\n";
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(backoff);
    while (std::chrono::steady_clock::now() < until &&
           !(stop_requested && stop_requested->load())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace dojo::launch
