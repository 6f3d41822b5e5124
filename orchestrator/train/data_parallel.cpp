#include "orchestrator/train/data_parallel.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "common/error.h"

namespace dojo::train {

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
