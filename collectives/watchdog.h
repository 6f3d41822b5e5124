#pragma once
// Enforces the deadlines of in-flight collectives from a thread of its own,
// so that a deadline fires even when nobody waits on the operation.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "collectives/work.h"

namespace dojo::collectives {

class Watchdog {
 public:
  using Expired = std::function<void(const std::shared_ptr<WorkState>&)>;

  /// `on_expired` runs on the watchdog thread for each unfinished operation
  /// whose deadline has passed, once.
  explicit Watchdog(Expired on_expired);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void track(std::shared_ptr<WorkState> work);
  /// Stops the thread; no callback runs after it returns.
  void stop();

 private:
  void run();

  Expired on_expired_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::shared_ptr<WorkState>> tracked_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dojo::collectives
