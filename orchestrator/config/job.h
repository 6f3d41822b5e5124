#pragma once
// A training job: what runs, on how much of which cluster, and how it is kept alive.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/config/cluster.h"

namespace dojo::config {

enum class WorkloadType { kMlp, kSynthetic };
enum class Device { kCpu, kGpu };
enum class Precision { kF32, kBf16 };
enum class OptimizerType { kSgd, kAdamW };
enum class LrSchedule { kConstant, kCosine };
enum class NonFinitePolicy { kError, kSkip };

struct OptimizerConfig {
  OptimizerType type = OptimizerType::kSgd;
  double learning_rate = 0.05;
  double momentum = 0.9;  ///< SGD
  double beta1 = 0.9;     ///< AdamW
  double beta2 = 0.999;   ///< AdamW
  double epsilon = 1e-8;  ///< AdamW
  double weight_decay = 0.0;
  int warmup_steps = 0;
  LrSchedule schedule = LrSchedule::kCosine;
  double clip_grad_norm = 0.0;  ///< 0 turns clipping off

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const OptimizerConfig&) const = default;
};

struct WorkloadConfig {
  WorkloadType type = WorkloadType::kMlp;
  Device device = Device::kCpu;
  Precision precision = Precision::kF32;
  std::vector<int> hidden_layers{256, 128, 100};                           ///< mlp
  std::filesystem::path dataset_dir{"/usr/share/datasets/fashion-mnist"};  ///< mlp
  std::string model = "resnet50";  ///< synthetic: gradient shapes
  double gflop_per_sample = 0;     ///< synthetic: 0 = the model's own
  /// The scale planner's per-step cost that does not shrink with the batch
  /// (optimizer, kernel launches, input pipeline, synchronisation); unset:
  /// the planner's default (dojo simulate calibrate-step measures it).
  std::optional<double> step_overhead_ms;
  int epochs = 10;
  std::int64_t max_steps = 0;  ///< 0: run all epochs
  int global_batch = 256;      ///< samples per step over all ranks
  std::uint64_t seed = 1;
  int threads_per_rank = 1;  ///< OpenBLAS threads on CPU
  NonFinitePolicy non_finite = NonFinitePolicy::kError;
  OptimizerConfig optimizer;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const WorkloadConfig&) const = default;
};

struct ResourcesConfig {
  std::optional<int> ranks;  ///< exactly one of ranks and h100e is set
  std::optional<double> h100e;
  std::optional<int> ranks_per_node;
  std::vector<int> shares;  ///< explicit per-rank batch shares; empty = by H100e or even

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const ResourcesConfig&) const = default;
};

enum class Backend { kAuto, kMpi, kNccl };
enum class Compression { kNone, kBf16 };

struct CollectivesConfig {
  Backend backend = Backend::kAuto;
  double bucket_mib = 25;  ///< PyTorch DDP's default bucket size
  Compression compression = Compression::kNone;
  double timeout_s = 300;  ///< deadline on every collective

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const CollectivesConfig&) const = default;
};

struct CheckpointConfig {
  std::filesystem::path dir{"checkpoints"};  ///< relative to the run directory
  bool automatic = true;                     ///< `every_steps: auto`: the Young-Daly interval
  int every_steps = 0;                       ///< when not automatic
  int keep = 3;
  double save_time_s = 0;  ///< expected save time for `auto`; 0 = measured

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const CheckpointConfig&) const = default;
};

/// `restarts:` how often a job restarts: at most `max` times in all, and
/// at most as often as the budget of each attempt's cause allows.
struct RestartsConfig {
  int max = 10;
  double backoff_s = 5;
  double backoff_max_s = 300;
  int user_error = 1;     ///< a rank exited non-zero by itself: mostly a bug that will recur
  int killed = 3;         ///< a rank died of a signal (the OOM killer, an admin, a crash)
  int hang = 3;           ///< no progress for hang_timeout_s
  int node_lost = 5;      ///< a node went away: another attempt, often on a spare, is cheap
  int launch_failed = 1;  ///< the ranks could not be started

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const RestartsConfig&) const = default;
};

struct MetricsConfig {
  bool enabled = true;
  std::string bind = "127.0.0.1";
  int port = 0;  ///< 0: a free port, recorded in the run directory

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const MetricsConfig&) const = default;
};

/// `stragglers:` a rank whose compute time per step stays above `ratio`
/// times the ranks' median for `steps` steps is reported (once an attempt).
struct StragglersConfig {
  double ratio = 1.5;
  int steps = 20;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const StragglersConfig&) const = default;
};

/// How ranks start inside a Slurm allocation.
enum class SlurmLaunch {
  kMpirun,  ///< mpirun, which starts its daemons through Slurm (srun)
  kSrun,    ///< srun --mpi=MPI: Slurm starts every rank itself
};

/// `slurm:` of a job: how it runs inside an allocation and what `dojo submit`
/// asks for.
struct SlurmJobConfig {
  SlurmLaunch launch = SlurmLaunch::kMpirun;
  std::string mpi = "pmix";  ///< srun --mpi (pmix or pmi2)
  std::string partition;     ///< sbatch --partition, when given
  std::string account;       ///< sbatch --account, when given
  std::string qos;           ///< sbatch --qos, when given
  std::string constraint;    ///< sbatch --constraint (node features), when given
  /// sbatch --signal=B:USR1@LEAD: seconds before the time limit at which the
  /// job checkpoints and stops.
  int signal_lead_s = 120;
  bool requeue = true;  ///< sbatch --requeue

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const SlurmJobConfig&) const = default;
};

/// Slurm's default KillWait: the seconds between SIGTERM and SIGKILL.
inline constexpr double kSlurmDefaultKillWaitSeconds = 30;

struct JobConfig {
  std::filesystem::path source;
  std::string name;
  std::filesystem::path cluster_path;      ///< empty: this machine alone
  std::optional<ClusterConfig> cluster;    ///< loaded when cluster_path is set
  std::optional<WorkloadConfig> workload;  ///< exactly one of workload and command
  std::vector<std::string> command;
  ResourcesConfig resources;
  CollectivesConfig collectives;
  CheckpointConfig checkpoint;
  RestartsConfig restarts;
  double hang_timeout_s = 120;  ///< shorter than the collective deadline
  double wall_time_s = 0;       ///< 0: no limit
  /// After a stop request, how long the ranks get to checkpoint and exit
  /// before they are killed: inside Slurm's default KillWait (30 s).
  double stop_grace_s = 20;
  StragglersConfig stragglers;
  SlurmJobConfig slurm;
  MetricsConfig metrics;
  std::map<std::string, std::string> env;
  /// Variables exported to every rank with their values from the launcher's
  /// environment; the values are never written to the run directory.
  std::vector<std::string> secret_env;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const JobConfig&) const = default;
};

const char* to_string(WorkloadType type);
const char* to_string(Backend backend);

}  // namespace dojo::config
