// `dojo worker JOB.yaml`: one rank of a job with a built-in workload, under mpirun.
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "collectives/backends/mpi/mpi_bootstrap.h"
#include "collectives/communicator.h"
#include "common/error.h"
#include "common/fault.h"
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

std::optional<int> env_int(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0')
    return std::nullopt;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 1 || value > 1'000'000'000) {
    throw UsageError(std::string(name) + "=\"" + text + "\" is not a positive sample count");
  }
  return static_cast<int>(value);
}

}  // namespace

int run_worker(std::span<const std::string> args_in, Streams& io) {
  std::vector<std::string> args(args_in.begin(), args_in.end());
  std::vector<config::Override> overrides;
  for (const std::string& set : take_set_flags(args))
    overrides.push_back(config::parse_override(set));
  std::string job_file;
  train::WorkerOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--run-dir" && i + 1 < args.size()) {
      options.run_dir = args[++i];
    } else if (args[i] == "--stop-after-steps" && i + 1 < args.size()) {
      char* end = nullptr;
      const long long n = std::strtoll(args[++i].c_str(), &end, 10);
      if (*end != '\0' || n < 1)
        throw UsageError("--stop-after-steps expects a positive step count");
      options.stop_after_steps = n;
    } else if (!args[i].empty() && args[i][0] == '-') {
      throw UsageError("unknown flag or missing value: \"" + args[i] + "\"");
    } else if (job_file.empty()) {
      job_file = args[i];
    } else {
      throw UsageError("one job file, please (got \"" + job_file + "\" and \"" + args[i] + "\")");
    }
  }
  if (job_file.empty())
    throw UsageError("which job? (dojo worker JOB.yaml)");
  const config::JobConfig job = config::load_job(job_file, overrides);
  if (!job.workload) {
    throw UsageError("job \"" + job.name +
                     "\" runs a command, not a built-in workload: launch it with dojorun");
  }
  options.batch_share = env_int("DOJO_BATCH_SHARE");
  if (const char* address = std::getenv("DOJO_HEARTBEAT_ADDR"))
    options.heartbeat_address = address;
  if (const char* attempt = std::getenv("DOJO_ATTEMPT"))
    options.attempt = std::atoi(attempt);
  // Fault injection for tests. DOJO_FAULT_RANK picks the rank (default all),
  // DOJO_FAULT_ATTEMPTS the attempts ("0,1"; default the first).
  const char* rank = std::getenv("DOJO_FAULT_RANK");
  const char* my_rank = std::getenv("OMPI_COMM_WORLD_RANK");
  const char* attempts = std::getenv("DOJO_FAULT_ATTEMPTS");
  const std::string list = "," + std::string(attempts != nullptr ? attempts : "0") + ",";
  const bool fault_here =
      list.find("," + std::to_string(options.attempt) + ",") != std::string::npos &&
      (rank == nullptr || (my_rank != nullptr && std::string(rank) == my_rank));
  if (const char* step = std::getenv("DOJO_FAULT_EXIT_AT_STEP"); step != nullptr && fault_here)
    options.fault_exit_at_step = std::atoll(step);
  // DOJO_FAULT_KILL=POINT:HIT: SIGKILL at the HIT-th visit of a fault point
  // (step.compute, step.allreduce, checkpoint.write).
  if (const char* kill = std::getenv("DOJO_FAULT_KILL"); kill != nullptr && fault_here) {
    const std::string spec = kill;
    const std::size_t colon = spec.rfind(':');
    const long hit = colon == std::string::npos ? 0 : std::atol(spec.c_str() + colon + 1);
    if (hit < 1)
      throw UsageError("DOJO_FAULT_KILL expects POINT:HIT, got \"" + spec + "\"");
    arm_kill_fault(spec.substr(0, colon), hit);
  }
  if (options.run_dir.empty()) {
    const char* from_launcher = std::getenv("DOJO_RUN_DIR");
    options.run_dir = from_launcher != nullptr && *from_launcher != '\0'
                          ? std::filesystem::path(from_launcher)
                          : std::filesystem::path("runs") / job.name;
  }

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
      return train::kExitStopped;
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
