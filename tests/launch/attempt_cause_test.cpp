// attempt_cause: what mpirun's, srun's and the kernel's words say about why
// an attempt ended.
#include <doctest/doctest.h>

#include <csignal>

#include "orchestrator/launch/attempt_cause.h"

using namespace dojo::launch;

TEST_CASE("the signal a rank died of is read from mpirun, srun or the exit code") {
  CHECK(rank_signal_in("mpirun noticed that process rank 1 with PID 42 on node n1 exited on "
                       "signal 9 (Killed).",
                       137) == SIGKILL);
  CHECK(rank_signal_in("exited on signal 11 (Segmentation fault).", 1) == SIGSEGV);
  CHECK(rank_signal_in("srun: error: n2: task 1: Killed\n", 137) == SIGKILL);
  CHECK(rank_signal_in("srun: error: n2: task 0: Segmentation fault (core dumped)\n", 139) ==
        SIGSEGV);
  CHECK(rank_signal_in("", 134) == SIGABRT);
  CHECK(rank_signal_in("a rank said: exit 7", 7) == 0);
  CHECK(rank_signal_in("", 0) == 0);
}

TEST_CASE("a launch that could not start its ranks is recognised") {
  CHECK(launch_failed_in("dojo-exec: cannot run /no/such: No such file or directory", 127));
  CHECK(launch_failed_in("", 127));
  CHECK(launch_failed_in("ORTE was unable to reliably start one or more daemons.", 1));
  CHECK(launch_failed_in("srun: error: Unable to create step for job 12: Invalid", 1));
  CHECK_FALSE(launch_failed_in("Traceback: ValueError", 1));
  CHECK_FALSE(launch_failed_in("", 7));
}

TEST_CASE("every cause has its word") {
  std::string words;
  for (Cause c : kAllCauses)
    words += std::string(to_string(c)) + " ";
  CHECK(words == "completed user_error killed hang node_lost stopped launch_failed wall_time ");
}

TEST_CASE("the kernel's OOM kill counter is read where the kernel has one") {
  CHECK(oom_kills() >= -1);
}
