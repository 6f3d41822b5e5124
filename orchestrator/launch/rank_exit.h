#pragma once
// The rank shim's watch over its rank: the command runs as its child, stop
// signals are passed on to it, and the moment it ends the launcher is told
// (a dojo-exit line to DOJO_HEARTBEAT_ADDR), so that a failed rank ends the
// attempt without waiting for mpirun's teardown.

#include <string>
#include <vector>

namespace dojo::launch {

/// Whether the launcher asked to be told of rank exits: DOJO_HEARTBEAT_ADDR
/// and DOJO_JOB are set.
bool rank_exit_wanted();

/// Runs `argv` as a child (killed with this process), passes SIGTERM, SIGINT,
/// SIGHUP, SIGUSR1, SIGUSR2 and SIGCONT on to it, reports its end, then ends
/// the same way: returns its exit code, or dies of its signal. Returns 127 with
/// `error` set when the command cannot be run (the child says so and exits 127).
int run_and_report_exit(const std::vector<std::string>& argv, std::string& error);

}  // namespace dojo::launch
