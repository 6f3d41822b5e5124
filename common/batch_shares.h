#pragma once
// How a global batch is split over ranks: whole samples that add up.

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dojo {

/// Splits `global_batch` samples over ranks in proportion to `weights` (one
/// per rank; empty means even) by largest remainder, ties to the lower rank.
/// Every share is a whole number of samples and they add up to the global
/// batch. Throws dojo::Error when a rank would get no sample (a global batch
/// smaller than the rank count) or when the weights do not fit the ranks.
std::vector<int> split_batch(int global_batch, int ranks, const std::vector<int>& weights);

/// Checks shares that ranks were given one by one (DOJO_BATCH_SHARE from the
/// launcher): each at least 1, adding up to the global batch.
void check_given_shares(const std::vector<int>& shares, int global_batch);

/// Runs of equal shares, in rank order: (count, share).
std::vector<std::pair<long, int>> share_runs(const std::vector<int>& shares);

/// Shares run-length encoded for people: "85000 x 128", "2 x 96, 32".
std::string shares_text(const std::vector<int>& shares);

/// Shares run-length encoded for the environment (DOJO_BATCH_SHARES):
/// "85000x128", "2x96,32". A plain list ("96,32") is the same encoding.
std::string encode_shares(const std::vector<int>& shares);

/// Rank `rank`'s share in an encode_shares() text; nullopt when the text is
/// malformed or has no such rank.
std::optional<int> share_of_rank(const std::string& encoded, long rank);

/// Every share of an encode_shares() text; nullopt when it is malformed.
std::optional<std::vector<int>> decode_shares(const std::string& encoded);

}  // namespace dojo
