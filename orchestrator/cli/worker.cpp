// `dojo worker JOB.yaml`: one rank of a job with a built-in workload, under mpirun.
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "collectives/backends/mpi/mpi_bootstrap.h"
#include "collectives/communicator.h"
#include "common/error.h"
#include "common/fault.h"
#include "common/flags.h"
#include "common/numbers.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/config/loader.h"
#include "orchestrator/train/trainer.h"

namespace dojo::cli {
namespace {

std::atomic<bool> g_stop_requested{false};

// SIGTERM, SIGINT and SIGUSR1 (which mpirun forwards to its ranks) ask the
// worker to save a checkpoint and stop at the end of the current step.
void request_stop(int) {
  g_stop_requested.store(true);
}

/// The maximum of a batch share and of an attempt number from the launcher.
constexpr std::int64_t kMaxShare = 1'000'000'000;
constexpr std::int64_t kMaxAttempt = 1'000'000;

struct WorkerArgs {
  std::string job_file;
  std::vector<config::Override> overrides;
  std::string run_dir;
  std::optional<std::int64_t> stop_after_steps;
};

WorkerArgs parse_worker_args(std::span<const std::string> args) {
  Flags flags("worker");
  WorkerArgs w;
  std::vector<std::string> positionals, sets;
  flags.positionals("JOB", positionals);
  flags.list("--set", sets);
  flags.text("--run-dir", w.run_dir);
  flags.value("--stop-after-steps", [&](const std::string& v) {
    w.stop_after_steps = integer_flag("--stop-after-steps", v, 1, INT64_MAX);
  });
  flags.parse(args);
  if (positionals.empty())
    throw UsageError("which job? (dojo worker JOB.yaml)");
  if (positionals.size() > 1) {
    throw UsageError("one job file, please (got \"" + positionals[0] + "\" and \"" +
                     positionals[1] + "\")");
  }
  w.job_file = positionals[0];
  for (const std::string& set : sets)
    w.overrides.push_back(config::parse_override(set));
  return w;
}

/// Fault injection for the reliability tests, from the environment.
/// DOJO_FAULT_RANK picks the rank (default all), DOJO_FAULT_ATTEMPTS the
/// attempts ("0,1"; default the first); DOJO_FAULT_EXIT_AT_STEP,
/// DOJO_FAULT_CLOCK_SKEW, DOJO_FAULT_KILL=POINT:HIT (SIGKILL at the HIT-th
/// visit of step.compute, step.allreduce or checkpoint.write) and
/// DOJO_FAULT_STALL=POINT:HIT (stuck there for good) say what happens.
void arm_faults(train::WorkerOptions& options) {
  const std::optional<std::int64_t> fault_rank = env_integer("DOJO_FAULT_RANK", 0, 1 << 30);
  // RANK from dojo-exec (under mpirun or srun), else Open MPI's own.
  std::optional<std::int64_t> my_rank = env_integer("RANK", 0, 1 << 30);
  if (!my_rank)
    my_rank = env_integer("OMPI_COMM_WORLD_RANK", 0, 1 << 30);
  const char* attempts = std::getenv("DOJO_FAULT_ATTEMPTS");
  const std::string list = "," + std::string(attempts != nullptr ? attempts : "0") + ",";
  const bool here = list.find("," + std::to_string(options.attempt) + ",") != std::string::npos &&
                    (!fault_rank || fault_rank == my_rank);
  if (!here)
    return;
  options.fault_exit_at_step = env_integer("DOJO_FAULT_EXIT_AT_STEP", 1, INT64_MAX);
  options.clock_skew = env_double("DOJO_FAULT_CLOCK_SKEW", 1e-6, 1e6).value_or(1.0);
  for (const auto& [variable, arm] : {std::pair{"DOJO_FAULT_KILL", &arm_kill_fault},
                                      std::pair{"DOJO_FAULT_STALL", &arm_stall_fault}}) {
    const char* value = std::getenv(variable);
    if (value == nullptr)
      continue;
    const std::string spec = value;
    const std::size_t colon = spec.rfind(':');
    const std::optional<std::int64_t> hit =
        colon == std::string::npos ? std::nullopt : parse_integer(spec.substr(colon + 1));
    if (!hit || *hit < 1)
      throw UsageError(std::string(variable) + " expects POINT:HIT, got \"" + spec + "\"");
    arm(spec.substr(0, colon), static_cast<long>(*hit));
  }
}

/// What the launcher tells a rank through the environment.
train::WorkerOptions worker_options(const WorkerArgs& w, const config::JobConfig& job) {
  train::WorkerOptions options;
  options.stop_after_steps = w.stop_after_steps;
  options.batch_share = env_integer("DOJO_BATCH_SHARE", 1, kMaxShare);
  if (const char* address = std::getenv("DOJO_HEARTBEAT_ADDR"))
    options.heartbeat_address = address;
  options.attempt = static_cast<int>(env_integer("DOJO_ATTEMPT", 0, kMaxAttempt).value_or(0));
  arm_faults(options);
  const char* from_launcher = std::getenv("DOJO_RUN_DIR");
  options.run_dir = !w.run_dir.empty() ? std::filesystem::path(w.run_dir)
                    : from_launcher != nullptr && *from_launcher != '\0'
                        ? std::filesystem::path(from_launcher)
                        : std::filesystem::path("runs") / job.name;
  return options;
}

}  // namespace

int run_worker(std::span<const std::string> args, Streams& io) {
  const WorkerArgs w = parse_worker_args(args);
  const config::JobConfig job = config::load_job(w.job_file, w.overrides);
  if (!job.workload) {
    throw UsageError("job \"" + job.name +
                     "\" runs a command, not a built-in workload: launch it with dojorun");
  }
  train::WorkerOptions options = worker_options(w, job);

  // SIGUSR2 is the launcher's request for the flight recorder during a hang:
  // ignored until the trainer's responder answers it, never fatal.
  ::signal(SIGUSR2, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1})
    sigaction(sig, &action, nullptr);
  options.stop_requested = &g_stop_requested;

  collectives::mpi::MpiSession session(nullptr, nullptr);
  collectives::mpi::MpiBootstrap bootstrap;
  collectives::CommunicatorOptions comm_options;
  comm_options.timeout = std::chrono::duration<double>(job.collectives.timeout_s);
  try {
    auto comm = collectives::create_communicator(config::to_string(job.collectives.backend),
                                                 bootstrap, comm_options);
    const train::TrainSummary summary = train::train(job, *comm, options, io.out);
    if (summary.stopped)
      return kExitStopped;
    if (bootstrap.rank() == 0) {
      io.out << "done: " << summary.steps << " steps, "
             << (job.workload->type == config::WorkloadType::kMlp
                     ? "test accuracy " + std::to_string(summary.test_accuracy).substr(0, 6) + ", "
                     : std::string())
             << static_cast<long long>(summary.samples_per_second) << " samples/s, summary in "
             << (options.run_dir / "summary.json").string() << std::endl;
    }
    return kExitOk;
  } catch (const Error& e) {
    // Name the rank, and write the line whole: under mpirun the ranks' stderr
    // streams are merged, and a line written in pieces comes out interleaved.
    io.err << ("dojo worker: rank " + std::to_string(bootstrap.rank()) + " on " + this_host() +
               ": " + e.what() + "\n")
           << std::flush;
    // The other ranks would wait for this one in their next collective, and
    // MPI_Finalize for them: end the whole job now.
    if (bootstrap.size() > 1)
      collectives::mpi::MpiSession::abort_job(kExitFailure);
    return kExitFailure;
  }
}

}  // namespace dojo::cli
