#include "orchestrator/launch/rank_output.h"

#include <cctype>

namespace dojo::launch {
namespace {

/// Source of text that mpirun writes itself, untagged.
constexpr std::pair<int, int> kMpirun{-1, 0};
/// The longest tag kept back while waiting for its end ("[JOB,RANK]<stddiag>:").
constexpr std::size_t kLongestTag = 64;

struct Tag {
  enum class Match { kNone, kPartial, kFull } match = Match::kNone;
  int rank = 0;
  int stream = 0;  ///< 0 stdout, 1 stderr, 2 stddiag
  std::size_t length = 0;
};

/// Matches "[J,R]<stdout>:" (or stderr, stddiag) at `at`.
Tag match_tag(const std::string& text, std::size_t at) {
  Tag tag;
  std::size_t i = at + 1;
  auto digits = [&](long& value) {
    const std::size_t start = i;
    value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && i - start < 9)
      value = value * 10 + (text[i++] - '0');
    return i > start;
  };
  auto literal = [&](std::string_view word) {
    for (char c : word) {
      if (i >= text.size())
        return false;
      if (text[i] != c)
        return false;
      ++i;
    }
    return true;
  };
  long job = 0, rank = 0;
  const bool ok = digits(job) && literal(",") && digits(rank) && literal("]<");
  if (ok) {
    for (const auto& [name, stream] :
         {std::pair{"stdout>:", 0}, {"stderr>:", 1}, {"stddiag>:", 2}}) {
      const std::size_t before = i;
      if (literal(name)) {
        tag.match = Tag::Match::kFull;
        tag.rank = static_cast<int>(rank);
        tag.stream = stream;
        tag.length = i - at;
        return tag;
      }
      if (i >= text.size()) {
        tag.match = Tag::Match::kPartial;
        return tag;
      }
      i = before;
    }
    return tag;
  }
  // Ran out of text while everything so far looked like a tag.
  if (i >= text.size() && text.size() - at < kLongestTag)
    tag.match = Tag::Match::kPartial;
  return tag;
}

}  // namespace

std::string RankOutput::line_of(std::pair<int, int> source, const std::string& line) const {
  if (!prefixed_ || source.first < 0)
    return line;
  return "[rank " + std::to_string(source.first) + "] " + line;
}

void RankOutput::take(std::pair<int, int> source, std::string_view text, std::string& out) {
  std::string& line = partial_[source];
  line.append(text);
  if (!line.empty() && line.back() == '\n') {
    out += line_of(source, line);
    partial_.erase(source);
  }
}

std::string RankOutput::feed(std::string_view data) {
  std::string text = pending_;
  text.append(data);
  pending_.clear();
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '[') {
      const Tag tag = match_tag(text, i);
      if (tag.match == Tag::Match::kPartial) {
        pending_ = text.substr(i);
        break;
      }
      if (tag.match == Tag::Match::kFull) {
        source_ = {tag.rank, tag.stream};
        at_line_start_ = false;
        i += tag.length;
        continue;
      }
    }
    if (at_line_start_) {
      source_ = kMpirun;
      at_line_start_ = false;
    }
    const std::size_t end = text[i] == '\n' ? i : text.find_first_of("\n[", i + 1);
    if (end != std::string::npos && text[end] == '\n') {
      take(source_, std::string_view(text).substr(i, end + 1 - i), out);
      at_line_start_ = true;
      i = end + 1;
    } else {
      const std::size_t stop = end == std::string::npos ? text.size() : end;
      take(source_, std::string_view(text).substr(i, stop - i), out);
      i = stop;
    }
  }
  return out;
}

std::string RankOutput::flush() {
  std::string out;
  if (!pending_.empty())
    take(source_, pending_, out);
  pending_.clear();
  for (const auto& [source, line] : partial_)
    out += line_of(source, line + "\n");
  partial_.clear();
  return out;
}

}  // namespace dojo::launch
