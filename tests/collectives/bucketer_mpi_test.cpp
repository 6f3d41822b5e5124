// The bucketer under mpirun: random tensor sizes (some larger than a bucket),
// gradients marked ready in a different order on every rank, uneven batch
// shares, and the bf16 compression error bound.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "collectives/bucketer.h"
#include "tests/collectives/mpi_fixture.h"

using namespace dojo::collectives;
using dojo::test::world;

namespace {

// Rank r's mean gradient of tensor t at element i.
float gradient_value(int r, std::size_t t, std::size_t i) {
  return static_cast<float>(
      std::sin(0.37 * static_cast<double>(i) + 1.3 * static_cast<double>(t)) * (r + 1) + 0.01 * r);
}

std::vector<std::size_t> random_sizes(unsigned seed, std::size_t n, std::size_t max) {
  std::mt19937 rng(seed);  // the same on every rank
  std::uniform_int_distribution<std::size_t> size(0, max);
  std::vector<std::size_t> sizes(n);
  for (auto& s : sizes)
    s = size(rng);
  return sizes;
}

}  // namespace

TEST_CASE("bucketer averages random tensors by weight whatever the ready order") {
  Communicator& comm = world();
  const auto sizes = random_sizes(42, 37, 3000);
  BucketerOptions options;
  options.bucket_bytes = 4096;  // many buckets; tensors up to 12 KB are larger than one
  Bucketer bucketer(comm, sizes, options);
  CHECK(bucketer.plan().buckets.size() > 5);

  std::vector<std::size_t> order(sizes.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(1000 + static_cast<unsigned>(comm.rank()));  // differs per rank
  const int n = comm.size();
  double total_weight = 0;
  for (int r = 0; r < n; ++r)
    total_weight += r + 1;

  for (int step = 0; step < 3; ++step) {
    std::shuffle(order.begin(), order.end(), rng);
    // Step 1 asks the ranks for the total weight instead of being told.
    bucketer.begin_step(comm.rank() + 1.0, step == 1 ? 0.0 : total_weight);
    for (std::size_t t : order) {
      std::vector<float> g(sizes[t]);
      for (std::size_t i = 0; i < g.size(); ++i)
        g[i] = gradient_value(comm.rank(), t, i);
      bucketer.ready(t, g.data());
    }
    bucketer.finish();
    std::size_t wrong = 0;
    for (std::size_t t = 0; t < sizes.size(); ++t) {
      const auto got = bucketer.gradient(t);
      for (std::size_t i = 0; i < got.size(); ++i) {
        double want = 0;
        for (int r = 0; r < n; ++r)
          want += (r + 1) * static_cast<double>(gradient_value(r, t, i));
        want /= total_weight;
        if (std::abs(got[i] - want) > 1e-5 * (1 + std::abs(want)))
          ++wrong;
      }
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE("bucketer gradients written in place need no copy") {
  Communicator& comm = world();
  Bucketer bucketer(comm, {5, 100000, 3});  // the middle tensor is bigger than nothing else
  bucketer.begin_step(1.0, comm.size());
  for (std::size_t t : {2, 1, 0}) {
    auto slot = bucketer.gradient(t);
    std::fill(slot.begin(), slot.end(), static_cast<float>(comm.rank()));
    bucketer.ready(t);
  }
  bucketer.finish();
  const float mean = static_cast<float>(comm.size() - 1) / 2.0f;
  CHECK(bucketer.gradient(1)[99999] == doctest::Approx(mean));
  CHECK(bucketer.gradient(0)[0] == doctest::Approx(mean));
}

TEST_CASE("bf16 compression stays within its error bound") {
  // Each input rounds to bf16 (relative error at most u = 2^-8), the sum is
  // taken in f32, and the result rounds once more: |error| <= u * (sum_r |w_r
  // g_r| / W + |mean|) plus f32 noise.
  Communicator& comm = world();
  const auto sizes = random_sizes(7, 11, 5000);
  BucketerOptions options;
  options.bucket_bytes = 8192;
  options.bf16_compression = true;
  Bucketer bucketer(comm, sizes, options);
  const int n = comm.size();
  const double total_weight = n * (n + 1) / 2.0;
  bucketer.begin_step(comm.rank() + 1.0, total_weight);
  for (std::size_t t = sizes.size(); t-- > 0;) {
    std::vector<float> g(sizes[t]);
    for (std::size_t i = 0; i < g.size(); ++i)
      g[i] = gradient_value(comm.rank(), t, i);
    bucketer.ready(t, g.data());
  }
  bucketer.finish();
  const double u = std::ldexp(1.0, -8);
  std::size_t outside = 0;
  double worst = 0;
  for (std::size_t t = 0; t < sizes.size(); ++t) {
    const auto got = bucketer.gradient(t);
    for (std::size_t i = 0; i < got.size(); ++i) {
      double mean = 0;
      double magnitude = 0;
      for (int r = 0; r < n; ++r) {
        const double term = (r + 1) * static_cast<double>(gradient_value(r, t, i)) / total_weight;
        mean += term;
        magnitude += std::abs(term);
      }
      const double error = std::abs(got[i] - mean);
      worst = std::max(worst, error);
      if (error > u * (magnitude + std::abs(mean)) + 1e-6)
        ++outside;
    }
  }
  CHECK(outside == 0);
  if (n > 1)
    CHECK(worst > 0);  // compression really happened
  CHECK(bucketer.wire_bytes() == bucketer.plan().total * 2);
}

TEST_CASE("finish before every gradient is ready names the missing tensors") {
  Communicator& comm = world();
  Bucketer bucketer(comm, {10, 20, 30});
  bucketer.begin_step(1.0, comm.size());
  bucketer.ready(2);
  CHECK_THROWS_WITH_AS(bucketer.finish(),
                       "bucketer: finish() before every gradient was ready; tensors never marked "
                       "ready: 0, 1",
                       dojo::Error);
  // The launched bucket still completes on every rank before the next test.
  bucketer.begin_step(1.0, comm.size());
  bucketer.ready(0);
  bucketer.ready(1);
  CHECK_THROWS_WITH_AS(bucketer.ready(1), "bucketer: tensor 1 marked ready twice", dojo::Error);
  bucketer.ready(2);
  bucketer.finish();
}
