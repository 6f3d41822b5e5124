// The verdict of a hang from the ranks' flight records.
#include <doctest/doctest.h>

#include "orchestrator/launch/flight_verdict.h"

using namespace dojo::launch;

namespace {

FlightOp op(std::uint64_t seq, const char* name, const char* state, double started_ago = 5.0,
            int bucket = -1, std::uint64_t bytes = 0) {
  FlightOp o;
  o.seq = seq;
  o.op = name;
  o.state = state;
  o.started_ago = started_ago;
  o.bucket = bucket;
  o.bytes = bytes;
  return o;
}

}  // namespace

TEST_CASE("a rank that never entered the collective the others wait in is named") {
  std::map<int, std::vector<FlightOp>> records;
  for (int r : {0, 1, 3})
    records[r] = {op(4811, "all_gather", "completed"),
                  op(4812, "all_reduce", "running", 5.0, 1, 25u << 20),
                  op(4813, "all_gather", "running", 4.9)};
  records[2] = {op(4810, "all_reduce", "completed"), op(4811, "all_gather", "completed")};
  CHECK(flight_verdict(records, 4) ==
        "rank 2 never entered all_reduce #4812 (bucket 1, 25 MiB); ranks 0, 1, 3 wait in it "
        "since 5.0 s");
}

TEST_CASE("ranks in different operations of one number, and silent ranks, are named") {
  std::map<int, std::vector<FlightOp>> records;
  records[0] = {op(78, "barrier", "running", 2.5)};
  records[1] = {op(78, "all_reduce", "running", 2.0)};
  CHECK(flight_verdict(records, 3) ==
        "rank 1 is in all_reduce #78 instead (the ranks disagree on the collective sequence); "
        "rank 0 waits in barrier #78 since 2.5 s; rank 2 did not answer (stopped, or lost)");
  CHECK(flight_verdict({}, 2) ==
        "no rank that answered waits in a collective; ranks 0, 1 did not "
        "answer (stopped, or lost)");
  std::map<int, std::vector<FlightOp>> idle;
  idle[0] = {op(5, "all_reduce", "completed")};
  CHECK(flight_verdict(idle, 1) == "no rank that answered waits in a collective");
}

TEST_CASE("a record line parses, and a malformed one does not") {
  const auto parsed = parse_flight_op("4812 all_reduce 26214400 f32 1 5.000000 -1.000000 running");
  REQUIRE(parsed);
  CHECK(parsed->seq == 4812);
  CHECK(parsed->bucket == 1);
  CHECK(parsed->bytes == 26214400u);
  CHECK(parsed->finished_ago == -1);
  for (const char* bad :
       {"", "4812 all_reduce", "x all_reduce 1 f32 1 1 1 running",
        "1 all_reduce 1 f32 1 1 1 sleeping", "1 all_reduce 1 f32 1 1 1 running x"})
    CHECK_MESSAGE(!parse_flight_op(bad), bad);
}
