#include <array>

#include "orchestrator/cli/command.h"
#include "orchestrator/launch/launcher.h"

namespace dojo::cli {

// Each command is defined in its own file.
int run_bench(std::span<const std::string> args, Streams& io);
int run_capacity(std::span<const std::string> args, Streams& io);
int run_checkpoint(std::span<const std::string> args, Streams& io);
int run_exec(std::span<const std::string> args, Streams& io);
int run_launch(std::span<const std::string> args, Streams& io);
int run_slurm(std::span<const std::string> args, Streams& io);
int run_nodes(std::span<const std::string> args, Streams& io);
int run_report(std::span<const std::string> args, Streams& io);
int run_flight(std::span<const std::string> args, Streams& io);
int run_submit(std::span<const std::string> args, Streams& io);
int run_simulate(std::span<const std::string> args, Streams& io);
int run_validate(std::span<const std::string> args, Streams& io);
int run_version(std::span<const std::string> args, Streams& io);
int run_worker(std::span<const std::string> args, Streams& io);

std::span<const Command> commands() {
  static const std::array<Command, 14> kCommands = {{
      {"bench", "benchmarks: allreduce (nccl-tests style, beside raw MPI; under mpirun), node",
       "dojo bench allreduce [-b MIN] [-e MAX] [-f FACTOR] [-n ITERS] [-w WARMUP] [-c 0|1]\n"
       "                     [--dtype f32|f16|bf16|f64|i32|i64] [--op sum|avg|min|max]\n"
       "                     [--backend mpi|nccl|auto] [--fused N | --model "
       "resnet50|resnet101|bert-large|gpt-1.3b]\n"
       "                     [--bucket-mib MIB] [--csv]\n"
       "                     [--timeout-s SECONDS]   (run under mpirun; sizes take K, M, G)\n"
       "       dojo bench node [--out FILE.json] [--gemm-size N] [--seconds S] [--threads N]\n"
       "                     [--reference-tflops T] [--accelerator NAME]",
       run_bench},
      {"capacity", "the fleet's H100-equivalents against the plan (report, chart, serve, backfill)",
       "dojo capacity report [--config FILE] [--as-of YYYY-MM-DD] [--format table|json]\n"
       "                            [--state-dir DIR]\n"
       "       dojo capacity chart --out FILE.svg [--config FILE] [--as-of YYYY-MM-DD]\n"
       "                           [--state-dir DIR]\n"
       "       dojo capacity serve --listen HOST:PORT [--basic-auth-file FILE] [--cluster "
       "C.yaml]...\n"
       "                           [--config FILE] [--as-of YYYY-MM-DD] [--state-dir DIR]\n"
       "                           [--render-cache on|off]\n"
       "       dojo capacity backfill --out FILE [--from YYYY-MM-DD] [--as-of YYYY-MM-DD]\n"
       "                           [--step-days N] [--config FILE]",
       run_capacity},
      {"checkpoint", "check checkpoints: each reads back whole with a matching checksum",
       "dojo checkpoint verify FILE_OR_DIR...", run_checkpoint},
      {"exec", "run a command with its rank's torchrun environment (used by dojo launch)",
       "dojo exec -- COMMAND ARGS...   (under mpirun)", run_exec},
      {"flight",
       "a hung attempt's flight-recorder verdict again, and each rank's latest collectives",
       "dojo flight RUN_DIR [--records N]", run_flight},
      {"launch", "place, start and supervise a job through mpirun (scripts/dojorun)",
       launch::kLaunchUsage, run_launch},
      {"nodes", "the node blacklist every job shares: list it, or clear a node",
       "dojo nodes [--state-dir DIR]\n"
       "       dojo nodes clear HOST [--state-dir DIR]",
       run_nodes},
      {"report", "where a run's time went: goodput, badput by cause, each attempt",
       "dojo report RUN_DIR [--format table|json]", run_report},
      {"simulate", "plan a job at any scale: step time, scaling, failures, goodput (and calibrate)",
       "dojo simulate --job J.yaml [--cluster C.yaml] (--h100e N[,N...] | --devices N[,N...])\n"
       "                     [--format table|json|csv] [--accelerator NAME] [--mfu F]\n"
       "                     [--per-device-batch N] [--save-s S] [--restart-s S] [--set k=v]...\n"
       "                     [--from-run RUN_DIR]   (its measured save and restart times)\n"
       "       dojo simulate goodput --interval-s I --save-s C --restart-s R --mtbf-s M\n"
       "                     [--from-run RUN_DIR] [--format table|json]   (the failure model "
       "alone)\n"
       "       dojo simulate chart --out FILE.svg --job J.yaml [--cluster C.yaml] [--from H100E]\n"
       "                     [--to H100E] [--points N] (and the options above)\n"
       "       dojo simulate calibrate BENCH.csv [--min-bytes SIZE] [--format yaml|json]\n"
       "                     (BENCH.csv from dojo bench allreduce --csv)\n"
       "       dojo simulate calibrate-step STEPS.csv|RUN_DIR... [--gflop-per-sample G]\n"
       "                     [--peak-tflops T] [--predict-batch B] [--format table|json]\n"
       "                     (STEPS.csv: per_device_batch,step_seconds; a RUN_DIR's summary.json)",
       run_simulate},
      {"slurm", "slurm.conf lines from a cluster inventory: billing in H100e, NodeName lines",
       "dojo slurm billing --cluster C.yaml\n"
       "       dojo slurm nodes --cluster C.yaml",
       run_slurm},
      {"submit", "submit a job to Slurm as an sbatch script (requeued jobs resume)",
       "dojo submit JOB.yaml [--cluster C.yaml] [--set key.path=value]... [--run-dir DIR]\n"
       "                   [--exclude HOSTLIST]... [--dry-run] [--sbatch PATH]",
       run_submit},
      {"validate", "check config files (any kind) and print what they define",
       "dojo validate FILE... [--set key.path=value]...", run_validate},
      {"version", "print the version, git commit and build options", "dojo version", run_version},
      {"worker", "run one rank of a job with a built-in workload (under mpirun)",
       "dojo worker JOB.yaml [--set key.path=value]... [--run-dir DIR] [--stop-after-steps N]",
       run_worker},
  }};
  return kCommands;
}

}  // namespace dojo::cli
