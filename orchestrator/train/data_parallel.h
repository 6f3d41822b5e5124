#pragma once
// How a global batch is split over ranks, and the order samples are visited.

#include <cstdint>
#include <vector>

namespace dojo::train {

/// Splits `global_batch` samples over ranks in proportion to `weights` (one
/// per rank; empty means even) by largest remainder, ties to the lower rank.
/// Every share is a whole number of samples and they add up to the global
/// batch. Throws dojo::Error when a rank would get no sample (a global batch
/// smaller than the rank count) or when the weights do not fit the ranks.
std::vector<int> split_batch(int global_batch, int ranks, const std::vector<int>& weights);

/// Checks shares that ranks were given one by one (DOJO_BATCH_SHARE from the
/// launcher): each at least 1, adding up to the global batch.
void check_given_shares(const std::vector<int>& shares, int global_batch);

/// The order in which an epoch visits `count` samples: a Fisher-Yates
/// shuffle from a 64-bit Mersenne Twister seeded by (seed, epoch), written
/// out in full so that every platform and standard library gives the same
/// order.
std::vector<std::uint32_t> epoch_order(std::uint64_t seed, std::uint64_t epoch, std::size_t count);

}  // namespace dojo::train
