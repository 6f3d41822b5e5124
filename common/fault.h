#pragma once
// Fault injection for reliability tests: named points in the code where a
// process can be made to die by a real SIGKILL, the N-th time it gets there.
// Unarmed (the normal case) a fault point costs one relaxed atomic load.

#include <string>

namespace dojo {

/// Arms the fault point `point` to SIGKILL this process on its `hit`-th
/// visit (1 = the first). One point at a time; re-arming replaces it.
void arm_kill_fault(const std::string& point, long hit);

/// Arms `point` to stall this process's calling thread forever on its
/// `hit`-th visit (a rank stuck outside any collective, still alive).
void arm_stall_fault(const std::string& point, long hit);

/// A place a test may kill (or stall) this process: "step.compute", "step.allreduce",
/// "checkpoint.write". Before dying it writes one line to stderr naming the
/// point, the hit and the wall-clock time in milliseconds since the epoch.
void fault_point(const char* point);

}  // namespace dojo
