// The nccl poller's waits: short after progress, doubling while nothing
// finishes, never longer than the cap.
#include <doctest/doctest.h>

#include "collectives/poll_backoff.h"

using dojo::collectives::PollBackoff;
using us = std::chrono::microseconds;

TEST_CASE("the poll backoff doubles up to its cap and starts over after progress") {
  PollBackoff backoff(us(10), us(250));
  CHECK(backoff.next() == us(10));
  CHECK(backoff.next() == us(20));
  CHECK(backoff.next() == us(40));
  CHECK(backoff.next() == us(80));
  CHECK(backoff.next() == us(160));
  CHECK(backoff.next() == us(250));
  CHECK(backoff.next() == us(250));
  backoff.reset();
  CHECK(backoff.next() == us(10));
  // Looks while one collective runs for 10 ms: a few dozen, not a spin.
  backoff.reset();
  long looks = 0;
  for (us waited(0); waited < us(10000); waited += backoff.next())
    ++looks;
  CHECK(looks < 50);
  // A cap below the first wait is the first wait.
  PollBackoff flat(us(100), us(50));
  CHECK(flat.next() == us(100));
  CHECK(flat.next() == us(100));
}
