#pragma once
// The order in which samples are visited (batch shares: common/batch_shares.h).

#include <cstdint>
#include <vector>

namespace dojo::train {

/// The order in which an epoch visits `count` samples: a Fisher-Yates
/// shuffle from a 64-bit Mersenne Twister seeded by (seed, epoch), written
/// out in full so that every platform and standard library gives the same
/// order.
std::vector<std::uint32_t> epoch_order(std::uint64_t seed, std::uint64_t epoch, std::size_t count);

}  // namespace dojo::train
