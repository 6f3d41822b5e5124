#include "orchestrator/launch/slurm_hostlist.h"

#include <algorithm>
#include <cctype>

#include "common/error.h"

namespace dojo::launch {
namespace {

int number(const std::string& text, const std::string& list) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
      text.size() > 9) {
    throw UsageError("malformed Slurm hostlist \"" + list + "\"");
  }
  return std::stoi(text);
}

}  // namespace

std::vector<std::string> expand_slurm_hostlist(const std::string& list) {
  std::vector<std::string> hosts;
  std::size_t i = 0;
  while (i < list.size()) {
    // One item: a prefix, optionally [ranges], optionally a suffix, up to a top-level comma.
    std::size_t open = list.find('[', i);
    const std::size_t comma = list.find(',', i);
    if (open == std::string::npos || (comma != std::string::npos && comma < open)) {
      const std::size_t end = comma == std::string::npos ? list.size() : comma;
      if (end == i)
        throw UsageError("malformed Slurm hostlist \"" + list + "\"");
      hosts.push_back(list.substr(i, end - i));
      i = end + 1;
      continue;
    }
    const std::size_t close = list.find(']', open);
    if (close == std::string::npos)
      throw UsageError("malformed Slurm hostlist \"" + list + "\"");
    const std::string prefix = list.substr(i, open - i);
    std::size_t after = list.find(',', close);
    if (after == std::string::npos)
      after = list.size();
    const std::string suffix = list.substr(close + 1, after - close - 1);
    const std::string ranges = list.substr(open + 1, close - open - 1);
    std::size_t r = 0;
    while (r <= ranges.size()) {
      std::size_t next = ranges.find(',', r);
      if (next == std::string::npos)
        next = ranges.size();
      const std::string range = ranges.substr(r, next - r);
      const std::size_t dash = range.find('-');
      const std::string lo = range.substr(0, dash);
      const std::string hi = dash == std::string::npos ? lo : range.substr(dash + 1);
      const int a = number(lo, list), b = number(hi, list);
      if (b < a || b - a > 100000)
        throw UsageError("malformed Slurm hostlist \"" + list + "\"");
      for (int n = a; n <= b; ++n) {
        std::string digits = std::to_string(n);
        if (digits.size() < lo.size())
          digits.insert(0, lo.size() - digits.size(), '0');
        hosts.push_back(prefix + digits + suffix);
      }
      r = next + 1;
    }
    i = after + 1;
  }
  if (hosts.empty())
    throw UsageError("the Slurm hostlist \"" + list + "\" names no node");
  return hosts;
}

std::vector<int> expand_tasks_per_node(const std::string& text) {
  std::vector<int> counts;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t next = text.find(',', i);
    if (next == std::string::npos)
      next = text.size();
    const std::string item = text.substr(i, next - i);
    const std::size_t paren = item.find("(x");
    const int count = number(item.substr(0, paren), text);
    const int repeat = paren == std::string::npos
                           ? 1
                           : number(item.substr(paren + 2, item.size() - paren - 3), text);
    counts.insert(counts.end(), repeat, count);
    i = next + 1;
  }
  return counts;
}

std::string compress_slurm_hostlist(const std::vector<std::string>& hosts) {
  // (prefix, width) -> numbers, in first-seen order of the groups.
  std::vector<std::pair<std::pair<std::string, std::size_t>, std::vector<long>>> groups;
  std::vector<std::string> whole;
  for (const std::string& host : hosts) {
    std::size_t digits = host.size();
    while (digits > 0 && std::isdigit(static_cast<unsigned char>(host[digits - 1])))
      --digits;
    const std::size_t width = host.size() - digits;
    if (width == 0 || width > 9) {
      whole.push_back(host);
      continue;
    }
    const std::pair<std::string, std::size_t> key{host.substr(0, digits), width};
    auto group =
        std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
    if (group == groups.end())
      group = groups.insert(groups.end(), {key, {}});
    group->second.push_back(std::stol(host.substr(digits)));
  }
  auto padded = [](long n, std::size_t width) {
    std::string text = std::to_string(n);
    return std::string(width > text.size() ? width - text.size() : 0, '0') + text;
  };
  std::string list;
  for (auto& [key, numbers] : groups) {
    std::sort(numbers.begin(), numbers.end());
    numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
    std::string ranges;
    for (std::size_t i = 0; i < numbers.size();) {
      std::size_t j = i;
      while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1)
        ++j;
      ranges += (ranges.empty() ? "" : ",") + padded(numbers[i], key.second) +
                (j > i ? "-" + padded(numbers[j], key.second) : "");
      i = j + 1;
    }
    const bool single = numbers.size() == 1;
    list += (list.empty() ? "" : ",") + key.first + (single ? ranges : "[" + ranges + "]");
  }
  for (const std::string& host : whole)
    list += (list.empty() ? "" : ",") + host;
  return list;
}

}  // namespace dojo::launch
