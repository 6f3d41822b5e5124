#pragma once
// Work: the handle of an asynchronous collective.

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>

#include "collectives/error.h"

namespace dojo::collectives {

/// Shared state of one operation, between the caller, the backend that runs
/// it and the watchdog that enforces its deadline.
class WorkState {
 public:
  using Clock = std::chrono::steady_clock;

  WorkState(CollectiveContext context, Clock::duration deadline_after);

  /// Marks the operation done (no-op once failed).
  void complete();
  /// Stores `error`; waiters rethrow it. The first outcome wins.
  void fail(std::exception_ptr error);

  bool finished() const;
  /// Waits until finished or `until`; returns finished().
  bool wait_until(Clock::time_point until) const;
  /// Rethrows the stored error, if any.
  void rethrow_if_failed() const;
  /// Whether it finished with an error.
  bool failed() const;

  const CollectiveContext& context() const { return context_; }
  Clock::time_point started() const { return started_; }
  /// When it completed or failed (meaningful once finished()).
  Clock::time_point finished_at() const;
  Clock::time_point deadline() const { return deadline_; }

 private:
  CollectiveContext context_;
  Clock::time_point started_;
  Clock::time_point deadline_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool finished_ = false;
  Clock::time_point finished_at_;
  std::exception_ptr error_;
};

/// The handle of an asynchronous collective; copies refer to the same operation.
class Work {
 public:
  static constexpr std::chrono::milliseconds kNoTimeout = std::chrono::milliseconds::max();

  Work() = default;
  explicit Work(std::shared_ptr<WorkState> state) : state_(std::move(state)) {}

  /// Waits until the operation completes. Throws the error it completed with.
  /// Throws CollectiveError when `timeout` passes first; the operation goes on
  /// (its own deadline still applies). A default Work is already complete.
  void wait(std::chrono::milliseconds timeout = kNoTimeout) const;

  /// True once the operation has completed or failed.
  bool completed() const;

  const std::shared_ptr<WorkState>& state() const { return state_; }

 private:
  std::shared_ptr<WorkState> state_;
};

}  // namespace dojo::collectives
