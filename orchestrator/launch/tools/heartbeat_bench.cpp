// dojo-heartbeat-bench: can one launcher supervise a fleet-scale job?
// Simulated ranks send heartbeats (the wire format of python/dojo_job, every
// rank at --rate Hz, spread evenly over each second) to a receiver that does
// what the launcher's attempt loop does with them: heartbeat::Receiver,
// JobStats::add for each, and once a second the figures, the straggler rule
// and the hang checks over every rank. It reports datagrams handled per
// second, loss, and the receiving thread's CPU time per datagram, beside a
// baseline receiver on the same traffic that only reads the datagrams.
//
//   dojo-heartbeat-bench [--ranks 85000] [--rate 1] [--seconds 5] [--senders 1]
//                        [--baseline]
#include <poll.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/exit_codes.h"
#include "common/flags.h"
#include "orchestrator/heartbeat/heartbeat.h"
#include "orchestrator/launch/job_stats.h"

namespace {

using Clock = std::chrono::steady_clock;
using dojo::heartbeat::Heartbeat;

struct Options {
  int ranks = 85000;
  double rate = 1;  ///< heartbeats per rank per second
  double seconds = 5;
  int senders = 1;
  bool baseline = false;  ///< only read the datagrams
};

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

/// Ranks [first, last) send `rate` heartbeats a second each, in 10 ms slices.
void send(const Options& o, int port, int first, int last, std::atomic<long>& sent) {
  dojo::heartbeat::Sender sender("127.0.0.1:" + std::to_string(port));
  const int ranks = last - first;
  const double per_second = ranks * o.rate;
  const auto start = Clock::now();
  long done = 0;
  std::vector<std::string> lines;
  Heartbeat beat;
  beat.job = "bench";
  beat.host = "node-0000";
  beat.collective = "all_reduce";
  while (true) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed >= o.seconds)
      break;
    const long due = static_cast<long>(elapsed * per_second);
    lines.clear();
    for (; done < due; ++done) {
      const int rank = first + static_cast<int>(done % ranks);
      const long round = done / ranks;
      beat.rank = rank;
      beat.step = round;
      beat.sequence = static_cast<std::uint64_t>(round);
      beat.step_seconds = 0.5 * static_cast<double>(round);
      beat.comm_seconds = 0.1 * static_cast<double>(round);
      beat.samples = 32 * round;
      beat.loss = 1.0 / static_cast<double>(round + 1);
      lines.push_back(dojo::heartbeat::format(beat));
    }
    sender.send_lines(lines);
    sent += static_cast<long>(lines.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

struct Received {
  long datagrams = 0;
  long taken = 0;  ///< accepted by JobStats
  double cpu_seconds = 0;
};

/// The launcher's loop: wait for heartbeats (50 ms at most, as it waits for
/// output), take them, and once a second evaluate every rank.
Received receive(const Options& o, dojo::heartbeat::Receiver& receiver, std::atomic<bool>& stop) {
  dojo::launch::JobStats stats("bench", 0, std::vector<std::string>(o.ranks, "node"),
                               dojo::launch::StragglerPolicy{}, Clock::now());
  std::vector<Heartbeat> beats;
  Received r;
  auto last_tick = Clock::now();
  const double cpu_start = thread_cpu_seconds();
  long checksum = 0;
  while (!stop.load()) {
    pollfd p{receiver.fd(), POLLIN, 0};
    ::poll(&p, 1, 50);
    beats.clear();
    r.datagrams += static_cast<long>(receiver.receive_waiting(beats, 1 << 16));
    if (o.baseline)
      continue;
    const auto now = Clock::now();
    for (const Heartbeat& b : beats)
      r.taken += stats.add(b, now) ? 1 : 0;
    if (now - last_tick >= std::chrono::seconds(1)) {
      last_tick = now;
      const auto f = stats.figures();
      checksum += f.ranks_measured + static_cast<long>(stats.new_stragglers().size()) +
                  static_cast<long>(stats.stalled(120, now).size() + stats.silent(now).size());
    }
  }
  r.cpu_seconds = thread_cpu_seconds() - cpu_start;
  if (checksum < 0)
    std::puts("");  // keeps the evaluation from being optimised away
  return r;
}

int run(const Options& o) {
  dojo::heartbeat::Receiver receiver("127.0.0.1", 0);
  std::atomic<bool> stop{false};
  Received got;
  std::thread receiving([&] { got = receive(o, receiver, stop); });
  std::atomic<long> sent{0};
  std::vector<std::thread> senders;
  for (int s = 0; s < o.senders; ++s) {
    const int first = static_cast<int>(static_cast<long>(o.ranks) * s / o.senders);
    const int last = static_cast<int>(static_cast<long>(o.ranks) * (s + 1) / o.senders);
    senders.emplace_back([&, first, last] { send(o, receiver.port(), first, last, sent); });
  }
  for (auto& t : senders)
    t.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // drain
  stop = true;
  receiving.join();
  const double lost = sent > 0 ? 100.0 * static_cast<double>(sent - got.datagrams) / sent : 0;
  std::printf(
      "%-8s ranks=%d rate=%.3g/s seconds=%.3g sent=%ld received=%ld lost=%.3f%% "
      "handled=%.0f/s cpu=%.3f s (%.2f us/datagram, %.1f%% of a core) buffer=%d bytes\n",
      o.baseline ? "baseline" : "launcher", o.ranks, o.rate, o.seconds, sent.load(), got.datagrams,
      lost, static_cast<double>(got.datagrams) / o.seconds, got.cpu_seconds,
      got.datagrams > 0 ? 1e6 * got.cpu_seconds / static_cast<double>(got.datagrams) : 0,
      100 * got.cpu_seconds / o.seconds, receiver.buffer_bytes());
  if (!o.baseline && got.taken != got.datagrams) {
    std::fprintf(stderr, "dojo-heartbeat-bench: %ld datagrams were not taken\n",
                 got.datagrams - got.taken);
    return dojo::kExitFailure;
  }
  return dojo::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options o;
    dojo::Flags flags("dojo-heartbeat-bench");
    flags.integer("--ranks", o.ranks, 1, 10'000'000);
    flags.number("--rate", o.rate, 0.001, 1000);
    flags.number("--seconds", o.seconds, 0.1, 3600);
    flags.integer("--senders", o.senders, 1, 64);
    flags.flag("--baseline", o.baseline);
    const std::vector<std::string> args(argv + 1, argv + argc);
    flags.parse(args);
    return run(o);
  } catch (const dojo::UsageError& e) {
    std::cerr << "dojo-heartbeat-bench: " << e.what() << "\n";
    return dojo::kExitUsage;
  } catch (const dojo::Error& e) {
    std::cerr << "dojo-heartbeat-bench: " << e.what() << "\n";
    return dojo::kExitFailure;
  }
}
