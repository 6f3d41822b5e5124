// heartbeat: the one-line UDP protocol between ranks and the launcher.
#include <doctest/doctest.h>

#include "orchestrator/heartbeat/heartbeat.h"

using namespace dojo::heartbeat;

TEST_CASE("a heartbeat line round-trips and malformed lines are refused") {
  const Heartbeat beat{"job-a", 2, 3, "node-7", 41, 1234};
  const std::string line = format(beat);
  CHECK(line.rfind("dojo-heartbeat 1 job-a 2 3 node-7 41 1234", 0) == 0);
  const auto back = parse(line);
  REQUIRE(back);
  CHECK(back->job == "job-a");
  CHECK(back->attempt == 2);
  CHECK(back->rank == 3);
  CHECK(back->host == "node-7");
  CHECK(back->step == 41);
  CHECK(back->sequence == 1234);
  for (const char* bad : {"", "dojo-heartbeat", "dojo-heartbeat 2 job 0 0 h 1 1",
                          "dojo-heartbeat 1 job x 0 h 1 1", "hello 1 job 0 0 h 1 1"})
    CHECK_MESSAGE(!parse(bad), bad);
}

TEST_CASE("a sender's heartbeats reach a receiver on loopback") {
  Receiver receiver("127.0.0.1", 0);
  Sender sender("127.0.0.1:" + std::to_string(receiver.port()));
  sender.send(Heartbeat{"job-b", 0, 1, "here", 5, 6});
  const auto got = receiver.receive(5000);
  REQUIRE(got);
  CHECK(got->job == "job-b");
  CHECK(got->rank == 1);
  CHECK(got->step == 5);
}
