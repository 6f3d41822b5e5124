// JobStats: what the launcher learns from its ranks' heartbeats, with the
// clock in the test's hands.
#include <doctest/doctest.h>

#include <cmath>

#include "orchestrator/launch/job_stats.h"

using dojo::heartbeat::Heartbeat;
using dojo::launch::JobStats;
using dojo::launch::StragglerPolicy;
using Clock = JobStats::Clock;

namespace {

const Clock::time_point t0{};

Clock::time_point at(double seconds) {
  return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

/// Rank `rank` after `step` steps of `step_s` seconds each, `comm_s` of them
/// in collectives, 32 samples a step.
Heartbeat beat(int rank, std::int64_t step, double step_s, double comm_s = 0,
               const char* collective = "") {
  Heartbeat b;
  b.job = "j";
  b.rank = rank;
  b.host = "h";
  b.step = step;
  b.sequence = static_cast<std::uint64_t>(step + 1);
  b.step_seconds = static_cast<double>(step) * step_s;
  b.comm_seconds = static_cast<double>(step) * comm_s;
  b.samples = step * 32;
  b.loss = 1.0 / static_cast<double>(step + 1);
  b.collective = collective;
  return b;
}

JobStats four_ranks(StragglerPolicy policy = {}) {
  return JobStats("j", 0, {"n0", "n1", "n2", "n3"}, policy, t0);
}

}  // namespace

TEST_CASE("heartbeats of another job, attempt or rank are not taken") {
  JobStats stats = four_ranks();
  Heartbeat other = beat(0, 1, 0.1);
  other.job = "k";
  CHECK_FALSE(stats.add(other, at(1)));
  Heartbeat old = beat(0, 1, 0.1);
  old.attempt = 1;
  CHECK_FALSE(stats.add(old, at(1)));
  CHECK_FALSE(stats.add(beat(4, 1, 0.1), at(1)));
  CHECK_FALSE(stats.any_beat());
  CHECK(stats.add(beat(3, 1, 0.1), at(1)));
  CHECK(stats.any_beat());
}

TEST_CASE("step time, compute time, throughput and loss come from the window") {
  JobStats stats = four_ranks();
  for (int s = 0; s <= 10; ++s) {
    for (int r = 0; r < 4; ++r)
      stats.add(beat(r, s, r == 3 ? 0.3 : 0.1, r == 3 ? 0.0 : 0.05), at(s));
  }
  const auto f = stats.figures();
  CHECK(f.ranks_measured == 4);
  CHECK(f.step == 10);
  CHECK(f.loss == doctest::Approx(1.0 / 11));
  CHECK(f.rank_step_seconds[0] == doctest::Approx(0.1));
  CHECK(f.rank_compute_seconds[0] == doctest::Approx(0.05));
  CHECK(f.rank_compute_seconds[3] == doctest::Approx(0.3));
  CHECK(f.step_seconds == doctest::Approx(0.1));
  CHECK(f.compute_seconds == doctest::Approx(0.05));
  CHECK(f.communication_ratio == doctest::Approx(0.5));
  CHECK(f.slowest_rank == 3);
  CHECK(f.straggler_ratio == doctest::Approx(6.0));
  // 32 samples a step: 320 per 0.1 s on three ranks, per 0.3 s on one.
  CHECK(f.samples_per_second == doctest::Approx(3 * 320.0 + 320.0 / 3));
}

TEST_CASE("a straggler is reported once, after it stayed slow for the policy's steps") {
  JobStats stats = four_ranks(StragglerPolicy{1.5, 5});
  std::vector<dojo::launch::StragglerReport> reports;
  for (int s = 0; s <= 20; ++s) {
    for (int r = 0; r < 4; ++r)
      stats.add(beat(r, s, r == 2 ? 0.2 : 0.1), at(s));
    for (auto& report : stats.new_stragglers())
      reports.push_back(report);
  }
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].rank == 2);
  CHECK(reports[0].host == "n2");
  CHECK(reports[0].ratio == doctest::Approx(2.0));
  CHECK(reports[0].step >= 5);
  CHECK(reports[0].describe(5).find("rank 2 on n2") == 0);
}

TEST_CASE("a rank slow for fewer steps than the policy's, or below its ratio, is no straggler") {
  JobStats stats = four_ranks(StragglerPolicy{1.5, 50});
  for (int s = 0; s <= 20; ++s) {
    for (int r = 0; r < 4; ++r)
      stats.add(beat(r, s, r == 2 ? 0.3 : 0.1), at(s));
    CHECK(stats.new_stragglers().empty());
  }
  JobStats mild = four_ranks(StragglerPolicy{1.5, 2});
  for (int s = 0; s <= 20; ++s) {
    for (int r = 0; r < 4; ++r)
      mild.add(beat(r, s, r == 2 ? 0.14 : 0.1), at(s));
    CHECK(mild.new_stragglers().empty());
  }
}

TEST_CASE("a silent rank is blamed, with its last step and collective") {
  JobStats stats = four_ranks();
  for (int r = 0; r < 4; ++r)
    stats.add(beat(r, 5, 0.1, 0.05, "all_reduce"), at(1));
  for (double t = 2; t <= 10; t += 1) {
    for (int r : {0, 2, 3})
      stats.add(beat(r, 5, 0.1, 0.05, "all_reduce"), at(t));
  }
  const auto stalled = stats.stalled(6, at(10));
  CHECK(stalled.size() == 4);
  const auto silent = stats.silent(at(10));
  REQUIRE(silent == std::vector<int>{1});
  std::vector<int> blamed;
  const std::string report = stats.hang_report(stalled, silent, blamed);
  CHECK(blamed == std::vector<int>{1});
  CHECK(report ==
        "rank 1 on n1 (step 5, in all_reduce #6) stopped sending heartbeats; 3 other ranks wait in "
        "all_reduce");
}

TEST_CASE("a rank outside the collective the others wait in is blamed") {
  JobStats stats = four_ranks();
  for (int r = 0; r < 4; ++r)
    stats.add(beat(r, 5, 0.1, 0.05, r == 2 ? "" : "all_reduce"), at(1));
  for (double t = 2; t <= 10; t += 1) {
    for (int r = 0; r < 4; ++r)
      stats.add(beat(r, 5, 0.1, 0.05, r == 2 ? "" : "all_reduce"), at(t));
  }
  const auto stalled = stats.stalled(6, at(10));
  REQUIRE(stalled.size() == 4);
  CHECK(stats.silent(at(10)).empty());
  std::vector<int> blamed;
  const std::string report = stats.hang_report(stalled, {}, blamed);
  CHECK(blamed == std::vector<int>{2});
  CHECK(report == "rank 2 on n2 (step 5, not in a collective); 3 other ranks wait in all_reduce");
}

TEST_CASE("finished ranks are neither stalled nor silent; ranks that never beat are") {
  JobStats stats = four_ranks();
  Heartbeat finished = beat(0, 9, 0.1);
  finished.done = true;
  stats.add(finished, at(1));
  for (double t = 1; t <= 10; t += 1) {
    stats.add(beat(1, static_cast<int>(t), 0.1), at(t));
    stats.add(beat(2, static_cast<int>(t), 0.1), at(t));
  }
  CHECK(stats.stalled(6, at(10)) == std::vector<int>{3});
  CHECK(stats.silent(at(10)) == std::vector<int>{3});
  std::vector<int> blamed;
  CHECK(stats.hang_report({3}, {3}, blamed) ==
        "rank 3 on n3 (no heartbeat yet) stopped sending heartbeats");
  CHECK(stats.oldest_progress_age(at(10)) == doctest::Approx(10));
}

TEST_CASE("a hang report names eight ranks and counts the rest") {
  std::vector<std::string> hosts(20, "h");
  JobStats stats("j", 0, hosts, {}, t0);
  std::vector<int> all;
  for (int r = 0; r < 20; ++r)
    all.push_back(r);
  std::vector<int> blamed;
  const std::string report = stats.hang_report(all, {}, blamed);
  CHECK(blamed.size() == 20);
  CHECK(report.find("rank 7 on h") != std::string::npos);
  CHECK(report.find("rank 8 on h") == std::string::npos);
  CHECK(report.find("and 12 more") != std::string::npos);
}

TEST_CASE("ranks in different collectives of one number are a mismatch once it lasts") {
  JobStats stats = four_ranks();
  for (int r = 0; r < 4; ++r)
    stats.add(beat(r, 77, 0.1, 0.01, "all_reduce"), at(1));  // all in all_reduce #78
  CHECK(stats.collective_mismatch(2.0, at(1)).empty());
  stats.add(beat(2, 77, 0.1, 0.01, "barrier"), at(2));   // rank 2 in barrier #78
  CHECK(stats.collective_mismatch(2.0, at(2)).empty());  // not yet for 2 s
  CHECK(stats.collective_mismatch(2.0, at(3.5)).empty());
  CHECK(stats.collective_mismatch(2.0, at(4.1)) ==
        "collective mismatch: rank 0 on n0 in all_reduce #78, rank 2 on n2 in barrier #78: the "
        "ranks disagree on the collective sequence");
  // Different numbers, or a rank outside any collective, are not a mismatch.
  stats.add(beat(2, 78, 0.1, 0.01, "barrier"), at(5));  // barrier #79
  CHECK(stats.collective_mismatch(0.0, at(5)).empty());
  stats.add(beat(2, 79, 0.1, 0.01, ""), at(6));
  CHECK(stats.collective_mismatch(0.0, at(6)).empty());
}
