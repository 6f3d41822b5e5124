#pragma once
// Why an attempt ended, in one word an admin can count and budget restarts
// by, and what mpirun's, srun's or the kernel's words say about it.

#include <string>
#include <vector>

namespace dojo::launch {

enum class Cause {
  kCompleted,     ///< every rank exited 0
  kUserError,     ///< a rank exited non-zero by itself
  kKilled,        ///< a rank died of a signal (the OOM killer's, when seen)
  kHang,          ///< no progress for hang_timeout_s
  kNodeLost,      ///< an Open MPI daemon, a Slurm step or a host went away
  kStopped,       ///< a stop signal, a scheduler, a revoked allocation
  kLaunchFailed,  ///< the ranks could not be started
  kWallTime,      ///< the job's wall_time_s ran out
};

/// Every cause, in the order above (for metrics with one series each).
inline constexpr Cause kAllCauses[] = {Cause::kCompleted,    Cause::kUserError, Cause::kKilled,
                                       Cause::kHang,         Cause::kNodeLost,  Cause::kStopped,
                                       Cause::kLaunchFailed, Cause::kWallTime};

/// "completed", "user_error", "killed", "hang", "node_lost", "stopped",
/// "launch_failed", "wall_time".
const char* to_string(Cause cause);

/// The signal a rank died of: from "exited on signal 9 (Killed)", srun's
/// "task 1: Killed" or "Segmentation fault", else a launcher exit code of
/// 128 + N; 0 when none.
int rank_signal_in(const std::string& output, int exit_code);

/// Whether the ranks could not be started: the program not found or not
/// executable (dojo-exec's exit 127), or mpirun's or srun's own words.
bool launch_failed_in(const std::string& output, int exit_code);

/// What the launcher reads from mpirun's or srun's output when an attempt
/// fails. `ranks_under_srun`: srun started the ranks, so its tasks are ranks.
/// The ranks reported failed ("Process name: [[1234,1],3]", "rank 3 with
/// PID", srun's "tasks 2-3: Exited with exit code 7").
std::vector<int> failed_ranks_in(const std::string& output, bool ranks_under_srun);
/// The nodes whose Open MPI daemon (or its Slurm step) went away.
std::vector<std::string> lost_nodes_in(const std::string& output, bool ranks_under_srun);

/// Processes the kernel's OOM killer has killed on this machine since boot
/// (/proc/vmstat oom_kill, memory cgroups' included); -1 where unknown.
long oom_kills();

}  // namespace dojo::launch
