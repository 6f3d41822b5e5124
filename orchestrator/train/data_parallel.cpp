#include "orchestrator/train/data_parallel.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "common/error.h"

namespace dojo::train {

std::vector<int> split_batch(int global_batch, int ranks, const std::vector<int>& weights) {
  if (ranks < 1)
    throw Error("a job needs at least one rank");
  if (global_batch < ranks) {
    throw Error("the global batch of " + std::to_string(global_batch) +
                " samples is smaller than the " + std::to_string(ranks) +
                " ranks: every rank needs at least one sample");
  }
  std::vector<int> w =
      weights.empty() ? std::vector<int>(static_cast<std::size_t>(ranks), 1) : weights;
  if (static_cast<int>(w.size()) != ranks) {
    throw Error("resources.shares has " + std::to_string(w.size()) + " entries for " +
                std::to_string(ranks) + " ranks");
  }
  long long total = 0;
  for (int x : w) {
    if (x < 1)
      throw Error("every batch share weight must be at least 1");
    total += x;
  }
  std::vector<int> shares(w.size());
  std::vector<std::pair<long long, int>> remainders;  // (remainder, rank)
  int assigned = 0;
  for (std::size_t r = 0; r < w.size(); ++r) {
    const long long exact = static_cast<long long>(global_batch) * w[r];
    shares[r] = static_cast<int>(exact / total);
    assigned += shares[r];
    remainders.emplace_back(exact % total, static_cast<int>(r));
  }
  std::sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (int i = 0; assigned < global_batch; ++i, ++assigned) {
    ++shares[static_cast<std::size_t>(remainders[static_cast<std::size_t>(i)].second)];
  }
  for (std::size_t r = 0; r < shares.size(); ++r) {
    if (shares[r] == 0) {
      throw Error("rank " + std::to_string(r) + " would get no sample of the global batch of " +
                  std::to_string(global_batch) + " with shares weighted " + std::to_string(w[r]) +
                  " of " + std::to_string(total));
    }
  }
  return shares;
}

void check_given_shares(const std::vector<int>& shares, int global_batch) {
  long long sum = 0;
  for (std::size_t r = 0; r < shares.size(); ++r) {
    if (shares[r] < 1) {
      throw Error("DOJO_BATCH_SHARE of rank " + std::to_string(r) + " is " +
                  std::to_string(shares[r]) + "; every rank needs at least one sample");
    }
    sum += shares[r];
  }
  if (sum != global_batch) {
    throw Error("the ranks' DOJO_BATCH_SHARE add up to " + std::to_string(sum) +
                " samples, not the global batch of " + std::to_string(global_batch));
  }
}

std::vector<std::uint32_t> epoch_order(std::uint64_t seed, std::uint64_t epoch, std::size_t count) {
  std::vector<std::uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + epoch);
  for (std::size_t i = count; i > 1; --i) {
    // Unbiased draw from [0, i) by rejection, independent of the library.
    const std::uint64_t bound = i;
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                                std::numeric_limits<std::uint64_t>::max() % bound;
    std::uint64_t draw = rng();
    while (draw >= limit)
      draw = rng();
    std::swap(order[i - 1], order[static_cast<std::size_t>(draw % bound)]);
  }
  return order;
}

}  // namespace dojo::train
