#pragma once
// Typed, strict reading of a YAML tree into C++ structs.
//
// Every read reports its own error (with the key path and the node's
// location) and returns false, so a loader goes on and reports every error of
// a file in one run. MapReader remembers which keys were asked for; finish()
// reports the rest as unknown keys, with a "did you mean" suggestion.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "orchestrator/config/date.h"
#include "orchestrator/config/diagnostics.h"
#include "orchestrator/config/yaml_tree.h"

namespace dojo::config {

/// The only candidate that extends `word` at a separator ("h100" ->
/// "h100-sxm"), else the candidate closest to `word` by edit distance when it
/// is close enough to be a likely typo, else "".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// Scalar conversions. Each reports "<path>: expected ..., got ..." and returns
// false when the node does not hold a value of that type.
bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics,
                std::string& out);
bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics, bool& out);
bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics,
                std::int64_t& out);
bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics, int& out);
bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics, double& out);
bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics, Date& out);

template <class T>
bool read_value(const Node& node, const std::string& path, Diagnostics& diagnostics,
                std::vector<T>& out) {
  if (node.kind != NodeKind::kSequence) {
    diagnostics.error(node.where, path + ": expected a list, got " + node.describe());
    return false;
  }
  std::vector<T> values;
  bool ok = true;
  for (std::size_t i = 0; i < node.items.size(); ++i) {
    T value{};
    if (read_value(*node.items[i], path + "[" + std::to_string(i) + "]", diagnostics, value)) {
      values.push_back(std::move(value));
    } else {
      ok = false;
    }
  }
  if (ok)
    out = std::move(values);
  return ok;
}

/// Reads one mapping of a document.
class MapReader {
 public:
  /// `node` may be null (the mapping is absent): every optional read then keeps
  /// its default and required reads report at `parent_where`.
  MapReader(const Node* node, std::string path, Diagnostics& diagnostics,
            Location parent_where = {});

  bool present() const { return node_ != nullptr && node_->kind == NodeKind::kMap; }
  const std::string& path() const { return path_; }
  Diagnostics& diagnostics() { return diagnostics_; }
  const Location& where() const { return where_; }
  std::string path_of(std::string_view key) const;

  /// The value node of `key` (marking the key as known), or nullptr.
  const Node* get(std::string_view key);
  /// Like get(), but a missing key is reported as an error at this mapping.
  const Node* require(std::string_view key);

  template <class T>
  bool optional(std::string_view key, T& out) {
    const Node* value = get(key);
    return value != nullptr && read_value(*value, path_of(key), diagnostics_, out);
  }

  template <class T>
  bool required(std::string_view key, T& out) {
    const Node* value = require(key);
    return value != nullptr && read_value(*value, path_of(key), diagnostics_, out);
  }

  /// Reads one of a fixed set of words; an unknown word is an error that lists
  /// the choices and suggests the closest.
  template <class E>
  bool optional_enum(std::string_view key, E& out,
                     std::initializer_list<std::pair<const char*, E>> choices) {
    std::string word;
    if (!optional(key, word))
      return false;
    std::vector<std::string> names;
    for (const auto& [name, value] : choices) {
      if (word == name) {
        out = value;
        return true;
      }
      names.emplace_back(name);
    }
    bad_choice(*get(key), path_of(key), word, names);
    return false;
  }

  /// A nested mapping (absent is allowed; use require() first when it is not).
  MapReader child(std::string_view key);

  /// Reports `message` at the value of `key` (or at this mapping when absent)
  /// unless `ok`. Returns `ok`.
  bool check(bool ok, std::string_view key, const std::string& message);

  /// Reports an error at a node with this mapping's path prefix for `key`.
  void error_at(const Node& node, std::string_view key, const std::string& message);

  /// `key: {NAME: value, ...}` of strings into `out`, each NAME checked by
  /// `valid` (else `invalid`, after the entry's path, at the name). False when
  /// absent.
  bool string_map(std::string_view key, bool (*valid)(const std::string&),
                  const std::string& invalid, std::map<std::string, std::string>& out);

  /// Reports every key that no read asked for. Call once, after all reads.
  void finish();

  static void bad_choice(const Node& node, const std::string& path, const std::string& word,
                         const std::vector<std::string>& choices, Diagnostics& diagnostics);

 private:
  void bad_choice(const Node& node, const std::string& path, const std::string& word,
                  const std::vector<std::string>& choices) {
    bad_choice(node, path, word, choices, diagnostics_);
  }

  const Node* node_;
  std::string path_;
  Diagnostics& diagnostics_;
  Location where_;
  std::vector<std::string> known_;
};

}  // namespace dojo::config
