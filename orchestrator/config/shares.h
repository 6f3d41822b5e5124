#pragma once
// How a global batch is split over ranks: whole samples that add up.

#include <vector>

namespace dojo::config {

/// Splits `global_batch` samples over ranks in proportion to `weights` (one
/// per rank; empty means even) by largest remainder, ties to the lower rank.
/// Every share is a whole number of samples and they add up to the global
/// batch. Throws dojo::Error when a rank would get no sample (a global batch
/// smaller than the rank count) or when the weights do not fit the ranks.
std::vector<int> split_batch(int global_batch, int ranks, const std::vector<int>& weights);

/// Checks shares that ranks were given one by one (DOJO_BATCH_SHARE from the
/// launcher): each at least 1, adding up to the global batch.
void check_given_shares(const std::vector<int>& shares, int global_batch);

}  // namespace dojo::config
