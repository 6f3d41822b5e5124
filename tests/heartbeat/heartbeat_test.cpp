// heartbeat: the one-line UDP protocol between ranks and the launcher.
#include <doctest/doctest.h>

#include <poll.h>

#include <cmath>

#include "orchestrator/heartbeat/heartbeat.h"

using namespace dojo::heartbeat;

namespace {

Heartbeat progress(const char* job, int attempt, int rank, const char* host, std::int64_t step,
                   std::uint64_t sequence) {
  Heartbeat b;
  b.job = job;
  b.attempt = attempt;
  b.rank = rank;
  b.host = host;
  b.step = step;
  b.sequence = sequence;
  return b;
}

}  // namespace

TEST_CASE("a heartbeat line round-trips and malformed lines are refused") {
  Heartbeat beat = progress("job-a", 2, 3, "node-7", 41, 1234);
  beat.step_seconds = 12.5;
  beat.comm_seconds = 2.25;
  beat.samples = 5248;
  beat.loss = 0.375;
  beat.collective = "all_reduce";
  const std::string line = format(beat);
  CHECK(line ==
        "dojo-heartbeat 2 job-a 2 3 node-7 41 1234 12.500000 2.250000 5248 0.375 all_reduce run");
  const auto back = parse(line);
  REQUIRE(back);
  CHECK(back->job == "job-a");
  CHECK(back->attempt == 2);
  CHECK(back->rank == 3);
  CHECK(back->host == "node-7");
  CHECK(back->step == 41);
  CHECK(back->sequence == 1234);
  CHECK(back->step_seconds == 12.5);
  CHECK(back->comm_seconds == 2.25);
  CHECK(back->samples == 5248);
  CHECK(back->loss == 0.375);
  CHECK(back->collective == "all_reduce");
  CHECK_FALSE(back->done);
  for (const char* bad :
       {"", "dojo-heartbeat", "dojo-heartbeat 2 job 0 0 h 1 1", "dojo-heartbeat 1 job x 0 h 1 1",
        "hello 1 job 0 0 h 1 1", "dojo-heartbeat 1 job 0 -1 h 1 1",
        "dojo-heartbeat 2 job 0 0 h 1 1 0.5 0.1 10 nan - maybe",
        "dojo-heartbeat 2 job 0 0 h 1 1 -0.5 0.1 10 nan - run",
        "dojo-heartbeat 2 job 0 0 h 1 1 0.5 0.1 10 nan - run extra",
        "dojo-heartbeat 1 job 0 0 h 1 1 0.5 0.1 10 nan - run"})
    CHECK_MESSAGE(!parse(bad), bad);
}

TEST_CASE("version 1 lines, no loss and a finished rank are read") {
  const auto v1 = parse("dojo-heartbeat 1 job 0 2 h 7 9\n");
  REQUIRE(v1);
  CHECK(v1->step == 7);
  CHECK(v1->sequence == 9);
  CHECK(std::isnan(v1->loss));
  const auto done = parse("dojo-heartbeat 2 job 1 0 h -1 0 0 0 0 nan - done");
  REQUIRE(done);
  CHECK(done->step == -1);
  CHECK(done->done);
  CHECK(std::isnan(done->loss));
  CHECK(done->collective.empty());
}

TEST_CASE("the optional checkpoint total travels as a 15th field") {
  Heartbeat beat = progress("job", 0, 0, "h", 4, 9);
  CHECK(format(beat).find(" run") == format(beat).size() - 4);  // absent while 0
  beat.checkpoint_seconds = 1.25;
  const auto back = parse(format(beat));
  REQUIRE(back);
  CHECK(back->checkpoint_seconds == 1.25);
  CHECK(back->step == 4);
  CHECK_FALSE(parse("dojo-heartbeat 2 job 0 0 h 1 1 0.5 0.1 10 nan - run -1"));
  CHECK_FALSE(parse("dojo-heartbeat 2 job 0 0 h 1 1 0.5 0.1 10 nan - run x"));
  CHECK_FALSE(parse("dojo-heartbeat 1 job 0 0 h 1 1 0.5"));
}

TEST_CASE("a rank shim's exit line: its exit code or its signal") {
  Heartbeat ended;
  ended.job = "job-a";
  ended.attempt = 1;
  ended.rank = 5;
  ended.host = "node-2";
  ended.exited = true;
  ended.exit_code = 7;
  CHECK(format_exit(ended) == "dojo-exit 1 job-a 1 5 node-2 code 7");
  const auto code = parse(format_exit(ended));
  REQUIRE(code);
  CHECK(code->exited);
  CHECK(code->exit_code == 7);
  CHECK(code->exit_signal == 0);
  CHECK(code->rank == 5);
  CHECK(code->host == "node-2");
  const auto killed = parse("dojo-exit 1 job-a 0 3 n signal 9\n");
  REQUIRE(killed);
  CHECK(killed->exit_signal == 9);
  CHECK(killed->exit_code == 0);
  CHECK_FALSE(parse(format(progress("job", 0, 0, "h", 1, 0)))->exited);
  for (const char* bad :
       {"dojo-exit", "dojo-exit 1 job 0 3 n signal 0", "dojo-exit 1 job 0 3 n code 256",
        "dojo-exit 2 job 0 3 n code 1", "dojo-exit 1 job 0 3 n stopped 1",
        "dojo-exit 1 job 0 -3 n code 1", "dojo-exit 1 job 0 3 n code 1 extra"})
    CHECK_MESSAGE(!parse(bad), bad);
}

TEST_CASE("flight lines carry a rank's record, and an end line its count") {
  const auto rec = parse("dojo-flight 1 job 0 2 n1 4812 all_reduce 26214400 f32 1 5.0 -1 running");
  REQUIRE(rec);
  CHECK(rec->is_flight());
  CHECK_FALSE(rec->flight_end);
  CHECK(rec->rank == 2);
  CHECK(rec->flight_record == "4812 all_reduce 26214400 f32 1 5.0 -1 running");
  const auto end = parse("dojo-flight-end 1 job 0 2 n1 16");
  REQUIRE(end);
  CHECK(end->flight_end);
  CHECK(end->flight_record == "16");
  for (const char* bad :
       {"dojo-flight 1 job 0 2 n1 4812 all_reduce", "dojo-flight-end 1 job 0 2 n1",
        "dojo-flight 2 job 0 2 n1 4812 all_reduce 1 f32 1 5.0 -1 running"})
    CHECK_MESSAGE(!parse(bad), bad);
  CHECK_FALSE(parse(format(progress("job", 0, 0, "h", 1, 0)))->is_flight());
}

TEST_CASE("names with spaces are sent as one token") {
  Heartbeat beat = progress("job", 0, 0, "my host", 1, 0);
  beat.collective = "all reduce";
  const auto back = parse(format(beat));
  REQUIRE(back);
  CHECK(back->host == "my_host");
  CHECK(back->collective == "all_reduce");
}

TEST_CASE("a sender's heartbeats reach a receiver on loopback") {
  Receiver receiver("127.0.0.1", 0);
  CHECK(receiver.buffer_bytes() > 0);
  Sender sender("127.0.0.1:" + std::to_string(receiver.port()));
  sender.send(progress("job-b", 0, 1, "here", 5, 6));
  const auto got = receiver.receive(5000);
  REQUIRE(got);
  CHECK(got->job == "job-b");
  CHECK(got->rank == 1);
  CHECK(got->step == 5);
}

TEST_CASE("a batch of lines arrives whole and malformed datagrams are skipped") {
  Receiver receiver("127.0.0.1", 0);
  Sender sender("127.0.0.1:" + std::to_string(receiver.port()));
  std::vector<std::string> lines;
  for (int r = 0; r < 300; ++r)
    lines.push_back(format(progress("job", 0, r, "h", r, 0)));
  lines.push_back("not a heartbeat");
  sender.send_lines(lines);
  std::vector<Heartbeat> got;
  std::size_t datagrams = 0;
  for (int tries = 0; tries < 200 && datagrams < lines.size(); ++tries) {
    pollfd p{receiver.fd(), POLLIN, 0};
    ::poll(&p, 1, 50);
    datagrams += receiver.receive_waiting(got);
  }
  CHECK(datagrams == lines.size());
  REQUIRE(got.size() == 300);
  CHECK(got.front().rank == 0);
  CHECK(got.back().rank == 299);
}
