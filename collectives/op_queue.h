#pragma once
// A thread that runs a backend's operations one after another, in the order
// they were issued, while the issuing thread goes on computing.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "collectives/work.h"

namespace dojo::collectives {

class OpQueue {
 public:
  OpQueue();
  /// Stops after the queued operations, unless the thread is stuck (then it is
  /// left behind: a stuck MPI call cannot be interrupted).
  ~OpQueue();
  OpQueue(const OpQueue&) = delete;
  OpQueue& operator=(const OpQueue&) = delete;

  /// Runs `op` on the queue's thread; completes `work` when it returns, or
  /// fails it with what it throws.
  void post(std::shared_ptr<WorkState> work, std::function<void()> op);

  /// Runs `op` on the queue's thread and waits for it (for collective set-up
  /// and tear-down that must stay in order with queued operations).
  void run(std::function<void()> op);

  /// True when the thread finished every operation within `grace`.
  bool drain(std::chrono::milliseconds grace);

 private:
  struct Item {
    std::shared_ptr<WorkState> work;
    std::function<void()> op;
  };
  void loop();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> items_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dojo::collectives
