#pragma once
// Slurm allocations: inside one (SLURM_JOB_NODELIST set) the nodes come from it.

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dojo::launch {

/// Expands a Slurm hostlist: "gpu[01-03,07],login1,d1-[1-2]" names gpu01,
/// gpu02, gpu03, gpu07, login1, d1-1, d1-2 (zero padding kept). Throws
/// UsageError for a malformed list.
std::vector<std::string> expand_slurm_hostlist(const std::string& list);

/// Expands SLURM_TASKS_PER_NODE ("2(x3),1") into one count per node.
std::vector<int> expand_tasks_per_node(const std::string& text);

/// The allocation's hosts and slots from the environment, or nullopt when
/// not inside one. Slots: SLURM_TASKS_PER_NODE, else 1 per node.
std::optional<std::vector<std::pair<std::string, int>>> slurm_allocation();

}  // namespace dojo::launch
