#include "common/batch_shares.h"

#include <algorithm>
#include <sstream>
#include <string>

#include "common/error.h"
#include "common/numbers.h"

namespace dojo {

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

namespace {

// Calls visit(count, share) for each run of an encode_shares() text; false
// when the text is malformed.
template <typename Visit>
bool for_each_run(const std::string& encoded, Visit visit) {
  std::istringstream in(encoded);
  std::string item;
  bool any = false;
  while (std::getline(in, item, ',')) {
    const std::size_t x = item.find('x');
    const auto count =
        x == std::string::npos ? std::optional<std::int64_t>(1) : parse_integer(item.substr(0, x));
    const auto share = parse_integer(x == std::string::npos ? item : item.substr(x + 1));
    if (!count || !share || *count < 1 || *share < 0 || *share > INT32_MAX)
      return false;
    if (!visit(*count, static_cast<int>(*share)))
      return true;
    any = true;
  }
  return any;
}

}  // namespace

std::vector<std::pair<long, int>> share_runs(const std::vector<int>& shares) {
  std::vector<std::pair<long, int>> runs;
  for (int s : shares) {
    if (!runs.empty() && runs.back().second == s)
      ++runs.back().first;
    else
      runs.emplace_back(1, s);
  }
  return runs;
}

std::string shares_text(const std::vector<int>& shares) {
  std::string text;
  for (const auto& [count, share] : share_runs(shares)) {
    text += text.empty() ? "" : ", ";
    text +=
        count > 1 ? std::to_string(count) + " x " + std::to_string(share) : std::to_string(share);
  }
  return text;
}

std::string encode_shares(const std::vector<int>& shares) {
  std::string text;
  for (const auto& [count, share] : share_runs(shares)) {
    text += text.empty() ? "" : ",";
    text += count > 1 ? std::to_string(count) + "x" + std::to_string(share) : std::to_string(share);
  }
  return text;
}

std::optional<int> share_of_rank(const std::string& encoded, long rank) {
  std::optional<int> found;
  long first = 0;
  const bool ok = for_each_run(encoded, [&](std::int64_t count, int share) {
    if (rank >= first && rank < first + count) {
      found = share;
      return false;
    }
    first += count;
    return true;
  });
  return ok ? found : std::nullopt;
}

std::optional<std::vector<int>> decode_shares(const std::string& encoded) {
  std::vector<int> shares;
  const bool ok = for_each_run(encoded, [&](std::int64_t count, int share) {
    if (shares.size() + static_cast<std::size_t>(count) > (std::size_t{1} << 24))
      return false;
    shares.insert(shares.end(), static_cast<std::size_t>(count), share);
    return true;
  });
  if (!ok)
    return std::nullopt;
  return shares;
}

}  // namespace dojo
