#include "collectives/work.h"

#include <string>

namespace dojo::collectives {

WorkState::WorkState(CollectiveContext context, Clock::duration deadline_after)
    : context_(std::move(context)), started_(Clock::now()) {
  // A deadline of "forever" must not overflow the clock.
  deadline_ = deadline_after >= Clock::time_point::max() - started_ ? Clock::time_point::max()
                                                                    : started_ + deadline_after;
}

void WorkState::complete() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_)
      return;
    finished_ = true;
    finished_at_ = Clock::now();
  }
  changed_.notify_all();
}

void WorkState::fail(std::exception_ptr error) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_)
      return;
    finished_ = true;
    finished_at_ = Clock::now();
    error_ = std::move(error);
  }
  changed_.notify_all();
}

WorkState::Clock::time_point WorkState::finished_at() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_at_;
}

bool WorkState::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_;
}

bool WorkState::wait_until(Clock::time_point until) const {
  std::unique_lock<std::mutex> lock(mutex_);
  if (until == Clock::time_point::max()) {
    changed_.wait(lock, [&] { return finished_; });
    return true;
  }
  return changed_.wait_until(lock, until, [&] { return finished_; });
}

bool WorkState::failed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_ != nullptr;
}

void WorkState::rethrow_if_failed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_)
    std::rethrow_exception(error_);
}

void Work::wait(std::chrono::milliseconds timeout) const {
  if (!state_)
    return;
  const auto now = WorkState::Clock::now();
  const auto until = timeout == kNoTimeout || timeout >= WorkState::Clock::time_point::max() - now
                         ? WorkState::Clock::time_point::max()
                         : now + timeout;
  if (!state_->wait_until(until)) {
    throw CollectiveError(state_->context(), "still running after the caller's wait of " +
                                                 std::to_string(timeout.count()) + " ms");
  }
  state_->rethrow_if_failed();
}

bool Work::completed() const {
  return !state_ || state_->finished();
}

}  // namespace dojo::collectives
