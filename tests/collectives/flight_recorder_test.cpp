// The flight recorder: a fixed ring of the last 1,000 collectives, each with
// its state as the snapshot finds it.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <stdexcept>

#include "collectives/flight_recorder.h"

using namespace dojo::collectives;

namespace {

std::shared_ptr<WorkState> work(std::uint64_t seq, const char* op, std::uint64_t bytes) {
  CollectiveContext c;
  c.op = op;
  c.seq = seq;
  c.bytes = bytes;
  return std::make_shared<WorkState>(c, std::chrono::seconds(300));
}

}  // namespace

TEST_CASE("the flight recorder keeps the last 1,000 collectives with their states") {
  FlightRecorder recorder;
  std::shared_ptr<WorkState> last;
  for (std::uint64_t seq = 1; seq <= 1005; ++seq) {
    last = work(seq, seq % 2 == 0 ? "barrier" : "all_reduce", seq * 4);
    recorder.add(last, seq % 2 == 0 ? "-" : "f32", seq % 2 == 0 ? -1 : 3);
    if (seq < 1004)
      last->complete();
  }
  auto failing = work(1006, "broadcast", 8);
  recorder.add(failing, "f64", -1);
  failing->fail(std::make_exception_ptr(std::runtime_error("peer gone")));
  const std::vector<FlightRecord> records = recorder.snapshot();
  REQUIRE(records.size() == FlightRecorder::kCapacity);
  CHECK(records.front().seq == 7);  // the oldest six went
  CHECK(records.back().seq == 1006);
  CHECK(records.back().state == FlightRecord::State::kFailed);
  CHECK(records[records.size() - 2].state == FlightRecord::State::kRunning);  // 1005
  CHECK(records[records.size() - 2].finished_ago == -1);
  CHECK(records[records.size() - 4].state == FlightRecord::State::kCompleted);  // 1003
  CHECK(records[records.size() - 4].bucket == 3);
  CHECK(records[records.size() - 4].dtype == "f32");
  CHECK(format_record(records[records.size() - 2]).rfind("1005 all_reduce 4020 f32 3 ", 0) == 0);
  CHECK(format_record(records[records.size() - 2]).find(" -1.000000 running") != std::string::npos);
}
