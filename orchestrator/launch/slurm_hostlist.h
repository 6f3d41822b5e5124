#pragma once
// Slurm's compact node and task lists, as Slurm writes them into a job's
// environment (SLURM_JOB_NODELIST, SLURM_TASKS_PER_NODE): read by the
// launcher and by the rank shim under srun.

#include <string>
#include <vector>

namespace dojo::launch {

/// Expands a Slurm hostlist: "gpu[01-03,07],login1,d1-[1-2]" names gpu01,
/// gpu02, gpu03, gpu07, login1, d1-1, d1-2. Throws UsageError when malformed.
std::vector<std::string> expand_slurm_hostlist(const std::string& list);

/// The inverse: names ending in digits of one width under one prefix are
/// folded into ranges ("gpu[001-003,007],login1"); other names stay whole.
std::string compress_slurm_hostlist(const std::vector<std::string>& hosts);

/// Expands SLURM_TASKS_PER_NODE ("2(x3),1") into one count per node.
std::vector<int> expand_tasks_per_node(const std::string& text);

}  // namespace dojo::launch
