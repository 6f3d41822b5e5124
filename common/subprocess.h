#pragma once
// Runs a short helper program (squeue, scontrol, sbatch) and captures what it
// prints, with a deadline: a hung helper never hangs its caller.

#include <string>
#include <vector>

namespace dojo {

struct ProcessResult {
  bool started = false;    ///< false: the program could not be run (see output)
  bool timed_out = false;  ///< killed at the deadline
  int exit_code = -1;      ///< 128 + signal when killed by one
  std::string output;      ///< stdout and stderr together
};

/// Runs `argv` (searched on PATH) with stdin from /dev/null and waits up to
/// `timeout_s` seconds for it; past that it is killed. Never throws for the
/// program's own failures.
ProcessResult run_process(const std::vector<std::string>& argv, double timeout_s);

}  // namespace dojo
