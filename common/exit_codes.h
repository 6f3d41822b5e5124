#pragma once
// The exit codes of every dojo program and of the ranks it starts, in one
// place: the launcher reads them back from the ranks, scripts and schedulers
// from dojo.

namespace dojo {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  ///< a runtime failure
inline constexpr int kExitUsage = 2;    ///< a usage or configuration error
/// Stopped on request (a signal, a scheduler, --stop-after-steps) after a
/// checkpoint was saved: the job can continue from it.
inline constexpr int kExitStopped = 3;
/// A rank that DOJO_FAULT_EXIT_AT_STEP made exit (reliability tests only).
inline constexpr int kExitInjectedFault = 17;
/// The program to run could not be started (as a shell says: not found or
/// not executable).
inline constexpr int kExitCannotExec = 127;
/// 128 + SIGKILL: the rank shim killed itself because its parent died.
inline constexpr int kExitParentDied = 137;

}  // namespace dojo
