#include "orchestrator/config/reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace dojo::config {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool type_error(const Node& node, const std::string& path, Diagnostics& diagnostics,
                const char* expected) {
  std::string got = node.describe();
  if (node.kind == NodeKind::kScalar && node.quoted) {
    got = "the quoted string " + got + " (numbers and booleans are written without quotes)";
  }
  diagnostics.error(node.where, path + ": expected " + expected + ", got " + got);
  return false;
}

// A plain scalar without surrounding space, or nullptr when the node is not one.
const std::string* plain_text(const Node& node) {
  if (node.kind != NodeKind::kScalar || node.quoted)
    return nullptr;
  return &node.scalar;
}

}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  // A name cut short at a separator ("h100" for "h100-sxm") names that one.
  std::vector<const std::string*> extended;
  for (const std::string& candidate : candidates) {
    if (!word.empty() && candidate.size() > word.size() && candidate.starts_with(word) &&
        (candidate[word.size()] == '-' || candidate[word.size()] == '_'))
      extended.push_back(&candidate);
  }
  if (extended.size() == 1)
    return *extended.front();
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const std::string& candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  // A typo changes a few characters; beyond a third of the word it is another word.
  const std::size_t limit = std::max<std::size_t>(1, std::min(word.size(), best.size()) / 3 + 1);
  return best_distance <= limit ? best : std::string();
}

bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics,
                std::string& out) {
  if (node.kind != NodeKind::kScalar)
    return type_error(node, path, diagnostics, "a string");
  out = node.scalar;
  return true;
}

bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics, bool& out) {
  const std::string* text = plain_text(node);
  if (text != nullptr && (*text == "true" || *text == "false")) {
    out = *text == "true";
    return true;
  }
  if (text != nullptr && (*text == "yes" || *text == "no" || *text == "on" || *text == "off" ||
                          *text == "True" || *text == "False")) {
    diagnostics.error(node.where, path + ": expected true or false, got \"" + *text +
                                      "\" (YAML 1.1 spellings are refused: write true or false)");
    return false;
  }
  return type_error(node, path, diagnostics, "true or false");
}

bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics,
                std::int64_t& out) {
  const std::string* text = plain_text(node);
  if (text == nullptr)
    return type_error(node, path, diagnostics, "an integer");
  std::string digits;
  for (std::size_t i = 0; i < text->size(); ++i) {
    const char c = (*text)[i];
    // Underscores group digits (85_000), as YAML 1.1 allows.
    if (c == '_' && i > 0 && i + 1 < text->size())
      continue;
    digits += c;
  }
  std::int64_t value = 0;
  const char* begin = digits.data();
  const char* end = digits.data() + digits.size();
  if (!digits.empty() && digits[0] == '+')
    ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc::result_out_of_range) {
    diagnostics.error(node.where, path + ": integer " + *text + " is out of range");
    return false;
  }
  if (ec != std::errc() || ptr != end || begin == end) {
    return type_error(node, path, diagnostics, "an integer");
  }
  out = value;
  return true;
}

bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics, int& out) {
  std::int64_t wide = 0;
  if (!read_value(node, path, diagnostics, wide))
    return false;
  if (wide < INT32_MIN || wide > INT32_MAX) {
    diagnostics.error(node.where, path + ": integer " + node.scalar + " is out of range");
    return false;
  }
  out = static_cast<int>(wide);
  return true;
}

bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics, double& out) {
  const std::string* text = plain_text(node);
  if (text == nullptr || text->empty())
    return type_error(node, path, diagnostics, "a number");
  std::string cleaned;
  for (char c : *text) {
    if (c != '_')
      cleaned += c;
  }
  // strtod also takes hex, "inf" and "nan"; configs take decimal numbers only.
  for (char c : cleaned) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
          c == '+' || c == '-')) {
      return type_error(node, path, diagnostics, "a number");
    }
  }
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(cleaned.c_str(), &end);
  if (end != cleaned.c_str() + cleaned.size() || cleaned.empty()) {
    return type_error(node, path, diagnostics, "a number");
  }
  if (errno == ERANGE || !std::isfinite(value)) {
    diagnostics.error(node.where, path + ": number " + *text + " is out of range");
    return false;
  }
  out = value;
  return true;
}

bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics, Date& out) {
  if (node.kind != NodeKind::kScalar) {
    return type_error(node, path, diagnostics, "a date (YYYY-MM-DD)");
  }
  const std::optional<Date> date = Date::parse(node.scalar);
  if (!date) {
    diagnostics.error(node.where, path + ": malformed date \"" + node.scalar +
                                      "\" (expected a calendar date as YYYY-MM-DD)");
    return false;
  }
  out = *date;
  return true;
}

MapReader::MapReader(const Node* node, std::string path, Diagnostics& diagnostics,
                     Location parent_where)
    : node_(node), path_(std::move(path)), diagnostics_(diagnostics), where_(parent_where) {
  if (node_ == nullptr)
    return;
  where_ = node_->where;
  if (node_->kind != NodeKind::kMap) {
    diagnostics_.error(node_->where, path_ + ": expected a mapping, got " + node_->describe());
    node_ = nullptr;
  }
}

std::string MapReader::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const Node* MapReader::get(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end())
    known_.emplace_back(key);
  if (!present())
    return nullptr;
  const MapEntry* entry = node_->find(key);
  return entry != nullptr ? entry->value.get() : nullptr;
}

const Node* MapReader::require(std::string_view key) {
  const Node* value = get(key);
  if (value == nullptr && (present() || where_.source)) {
    diagnostics_.error(where_, (path_.empty() ? std::string("document") : path_) +
                                   ": missing required key \"" + std::string(key) + "\"");
  }
  return value;
}

MapReader MapReader::child(std::string_view key) {
  return MapReader(get(key), path_of(key), diagnostics_, where_);
}

bool MapReader::check(bool ok, std::string_view key, const std::string& message) {
  if (ok)
    return true;
  const Node* value = get(key);
  diagnostics_.error(value != nullptr ? value->where : where_, path_of(key) + ": " + message);
  return false;
}

void MapReader::error_at(const Node& node, std::string_view key, const std::string& message) {
  diagnostics_.error(node.where, path_of(key) + ": " + message);
}

bool MapReader::string_map(std::string_view key, bool (*valid)(const std::string&),
                           const std::string& invalid, std::map<std::string, std::string>& out) {
  const Node* node = get(key);
  if (node == nullptr)
    return false;
  if (node->kind != NodeKind::kMap) {
    error_at(*node, key, "expected a mapping of NAME: value, got " + node->describe());
    return true;
  }
  for (const MapEntry& entry : node->entries) {
    const std::string& name = entry.key->scalar;
    const std::string path = path_of(key) + "." + name;
    if (!valid(name)) {
      diagnostics().error(entry.key->where, path + ": " + invalid);
      continue;
    }
    std::string value;
    if (read_value(*entry.value, path, diagnostics(), value))
      out[name] = value;
  }
  return true;
}

void MapReader::finish() {
  if (!present())
    return;
  for (const MapEntry& entry : node_->entries) {
    const std::string& key = entry.key->scalar;
    if (std::find(known_.begin(), known_.end(), key) != known_.end())
      continue;
    std::string message = "unknown key \"" + key + "\" in " + (path_.empty() ? "document" : path_);
    const std::string suggestion = closest_match(key, known_);
    if (!suggestion.empty()) {
      message += " (did you mean \"" + suggestion + "\"?)";
    } else {
      message += " (known keys:";
      for (const std::string& k : known_)
        message += " " + k;
      message += ")";
    }
    diagnostics_.error(entry.key->where, message);
  }
}

void MapReader::bad_choice(const Node& node, const std::string& path, const std::string& word,
                           const std::vector<std::string>& choices, Diagnostics& diagnostics) {
  std::string message = path + ": unknown value \"" + word + "\" (expected one of";
  for (std::size_t i = 0; i < choices.size(); ++i) {
    message += (i == 0 ? " " : ", ") + choices[i];
  }
  message += ")";
  const std::string suggestion = closest_match(word, choices);
  if (!suggestion.empty())
    message += "; did you mean \"" + suggestion + "\"?";
  diagnostics.error(node.where, message);
}

}  // namespace dojo::config
