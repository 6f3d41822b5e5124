#pragma once
// The flight recorder: every communicator keeps its last 1,000 collective
// operations (sequence, operation, bytes, dtype, bucket, start, end, state) in
// a fixed ring, so that when a job hangs each rank can say which collective it
// last entered and finished (docs/RELIABILITY.md, flight recorder).

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "collectives/work.h"

namespace dojo::collectives {

struct FlightRecord {
  enum class State { kRunning, kCompleted, kFailed };
  std::uint64_t seq = 0;
  std::string op;
  std::uint64_t bytes = 0;
  std::string dtype;
  int bucket = -1;           ///< the gradient bucket (-1: not a bucket's)
  double started_ago = 0;    ///< seconds before the snapshot
  double finished_ago = -1;  ///< seconds before the snapshot; -1 while running
  State state = State::kRunning;
};
const char* to_string(FlightRecord::State state);

class FlightRecorder {
 public:
  static constexpr std::size_t kCapacity = 1000;

  /// Records an operation as it is issued; its end is read from `work`.
  /// `dtype`: a static name ("f32", "-" for a barrier).
  void add(std::shared_ptr<WorkState> work, const char* dtype, int bucket);
  /// The operations held, oldest first, timed relative to now.
  std::vector<FlightRecord> snapshot() const;

 private:
  struct Entry {
    std::shared_ptr<WorkState> work;
    const char* dtype = "-";
    int bucket = -1;
  };
  mutable std::mutex mutex_;
  std::array<Entry, kCapacity> ring_;
  std::size_t next_ = 0;
  std::size_t count_ = 0;
};

/// One record as a line of text: `SEQ OP BYTES DTYPE BUCKET STARTED_AGO
/// FINISHED_AGO STATE` (what ranks send the launcher after "dojo-flight 1 ...").
std::string format_record(const FlightRecord& record);

}  // namespace dojo::collectives
