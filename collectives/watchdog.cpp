#include "collectives/watchdog.h"

#include <algorithm>

namespace dojo::collectives {

Watchdog::Watchdog(Expired on_expired)
    : on_expired_(std::move(on_expired)), thread_([this] { run(); }) {}

Watchdog::~Watchdog() {
  stop();
}

void Watchdog::track(std::shared_ptr<WorkState> work) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tracked_.push_back(std::move(work));
  }
  changed_.notify_one();
}

void Watchdog::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && !thread_.joinable())
      return;
    stopping_ = true;
  }
  changed_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
    thread_.join();
}

void Watchdog::run() {
  using Clock = WorkState::Clock;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    std::erase_if(tracked_, [](const auto& w) { return w->finished(); });
    const Clock::time_point now = Clock::now();
    std::vector<std::shared_ptr<WorkState>> expired;
    Clock::time_point next = now + std::chrono::seconds(1);  // re-check finished work now and then
    for (const auto& w : tracked_) {
      if (w->deadline() <= now) {
        expired.push_back(w);
      } else {
        next = std::min(next, w->deadline());
      }
    }
    std::erase_if(tracked_, [&](const auto& w) {
      return std::find(expired.begin(), expired.end(), w) != expired.end();
    });
    if (!expired.empty()) {
      lock.unlock();
      for (const auto& w : expired)
        on_expired_(w);
      lock.lock();
      continue;
    }
    changed_.wait_until(lock, next);
  }
}

}  // namespace dojo::collectives
