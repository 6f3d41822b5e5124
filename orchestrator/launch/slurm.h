#pragma once
// Slurm as the owner of the nodes: inside an allocation (SLURM_JOB_ID and
// SLURM_JOB_NODELIST set) the job's nodes, slots and default rank count come
// from it, and the allocation is watched so that a revoked one stops the job.

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dojo::launch {

/// What Slurm granted, as its environment says.
struct SlurmAllocation {
  std::string job_id;  ///< SLURM_JOB_ID
  /// Each node and its slots: SLURM_TASKS_PER_NODE, or the GPUs per node
  /// when the allocation has GPUs (one rank per GPU).
  std::vector<std::pair<std::string, int>> nodes;
  int ntasks = 0;         ///< SLURM_NTASKS (0 when Slurm did not set it)
  int gpus_per_node = 0;  ///< from SLURM_GPUS_PER_NODE or SLURM_GPUS_ON_NODE; 0: none
  int restart_count = 0;  ///< SLURM_RESTART_COUNT: how often the job was requeued
  /// One rank per GPU puts more ranks on a node than Slurm's task count there:
  /// mpirun then needs --oversubscribe, srun --overcommit.
  bool slots_beyond_tasks = false;
  std::string nodelist;        ///< SLURM_JOB_NODELIST as Slurm wrote it
  std::string tasks_per_node;  ///< SLURM_TASKS_PER_NODE as Slurm wrote it

  /// The ranks a job runs when it does not say: one per GPU, else SLURM_NTASKS.
  int default_ranks() const;
  int slots() const;
  /// "Slurm job 12 grants 4 tasks on 1 node (SLURM_NTASKS=4, ...)".
  std::string describe() const;
};

/// The allocation from the environment, or nullopt when not inside one.
/// Throws UsageError when Slurm's variables do not agree with each other.
std::optional<SlurmAllocation> slurm_allocation();

/// A GPU count as Slurm writes it: "8", "h100:8", "gpu:h100:8"; 0 when empty.
int parse_gpu_count(const std::string& text);

/// How the job stands in Slurm, asked of squeue.
struct SlurmJobState {
  bool known = false;  ///< false: Slurm could not be asked (or did not answer in time)
  bool alive = false;  ///< running (or suspended, or completing its steps)
  std::string
      state;  ///< Slurm's word: RUNNING, CANCELLED, ...; "GONE" when Slurm no longer knows the job
};
SlurmJobState slurm_job_state(const std::string& job_id);

/// Drains a node through scontrol; returns "" or what scontrol said.
std::string drain_slurm_node(const std::string& host, const std::string& reason);

}  // namespace dojo::launch
