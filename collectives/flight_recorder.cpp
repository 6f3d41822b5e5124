#include "collectives/flight_recorder.h"

#include <chrono>
#include <cstdio>

namespace dojo::collectives {

const char* to_string(FlightRecord::State state) {
  switch (state) {
    case FlightRecord::State::kRunning:
      return "running";
    case FlightRecord::State::kCompleted:
      return "completed";
    case FlightRecord::State::kFailed:
      return "failed";
  }
  return "?";
}

void FlightRecorder::add(std::shared_ptr<WorkState> work, const char* dtype, int bucket) {
  std::lock_guard<std::mutex> lock(mutex_);
  ring_[next_] = {std::move(work), dtype, bucket};
  next_ = (next_ + 1) % kCapacity;
  count_ = count_ < kCapacity ? count_ + 1 : kCapacity;
}

std::vector<FlightRecord> FlightRecorder::snapshot() const {
  const auto now = WorkState::Clock::now();
  auto ago = [&](WorkState::Clock::time_point t) {
    return std::chrono::duration<double>(now - t).count();
  };
  std::vector<FlightRecord> out;
  std::lock_guard<std::mutex> lock(mutex_);
  out.reserve(count_);
  for (std::size_t i = 0; i < count_; ++i) {
    const Entry& e = ring_[(next_ + kCapacity - count_ + i) % kCapacity];
    FlightRecord r;
    const CollectiveContext& c = e.work->context();
    r.seq = c.seq;
    r.op = c.op;
    r.bytes = c.bytes;
    r.dtype = e.dtype;
    r.bucket = e.bucket;
    r.started_ago = ago(e.work->started());
    if (e.work->finished()) {
      r.finished_ago = ago(e.work->finished_at());
      r.state = e.work->failed() ? FlightRecord::State::kFailed : FlightRecord::State::kCompleted;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string format_record(const FlightRecord& r) {
  char text[200];
  std::snprintf(text, sizeof(text), "%llu %s %llu %s %d %.6f %.6f %s",
                static_cast<unsigned long long>(r.seq), r.op.c_str(),
                static_cast<unsigned long long>(r.bytes), r.dtype.c_str(), r.bucket, r.started_ago,
                r.finished_ago, to_string(r.state));
  return text;
}

}  // namespace dojo::collectives
