#pragma once
// Starting an attempt's mpirun (or srun) as the leader of a process group of
// its own, so that the whole attempt can be signalled at once.

#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace dojo::launch {

/// mpirun as the leader of its own process group, its stdout and stderr into
/// one pipe, killed with the launcher. Returns the child's pid and the pipe's
/// read end. Throws LaunchError when it cannot fork.
std::pair<pid_t, int> start_group(const std::vector<std::string>& args,
                                  const std::map<std::string, std::string>& env);

}  // namespace dojo::launch
