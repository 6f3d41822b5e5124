#include "collectives/op_queue.h"

namespace dojo::collectives {

OpQueue::OpQueue() : thread_([this] { loop(); }) {}

OpQueue::~OpQueue() {
  const bool idle = drain(std::chrono::seconds(5));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (idle) {
    thread_.join();
  } else {
    thread_.detach();
  }
}

void OpQueue::post(std::shared_ptr<WorkState> work, std::function<void()> op) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    items_.push_back(Item{std::move(work), std::move(op)});
  }
  changed_.notify_all();
}

void OpQueue::run(std::function<void()> op) {
  CollectiveContext context;
  context.op = "setup";
  auto work = std::make_shared<WorkState>(context, WorkState::Clock::duration::max());
  post(work, std::move(op));
  work->wait_until(WorkState::Clock::time_point::max());
  work->rethrow_if_failed();
}

bool OpQueue::drain(std::chrono::milliseconds grace) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, grace, [&] { return items_.empty() && !busy_; });
}

void OpQueue::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || !items_.empty(); });
    if (items_.empty())
      return;  // stopping
    Item item = std::move(items_.front());
    items_.pop_front();
    busy_ = true;
    lock.unlock();
    // An operation whose deadline already failed it is skipped: its peers
    // have moved on or are gone.
    if (!item.work->finished()) {
      try {
        item.op();
        item.work->complete();
      } catch (...) {
        item.work->fail(std::current_exception());
      }
    }
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

}  // namespace dojo::collectives
