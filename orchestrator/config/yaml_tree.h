#pragma once
// A YAML document as a tree that remembers where every node came from.
//
// yaml-cpp does the parsing; we build our own tree from its event stream
// (rather than using YAML::Node) because strict validation needs what
// YAML::Node hides or cannot express safely: duplicate keys, whether a scalar
// was quoted, recursive aliases (which YAML::Node turns into a cyclic graph),
// and a bound on how far aliases expand.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/config/diagnostics.h"

namespace dojo::config {

enum class NodeKind { kNull, kScalar, kSequence, kMap };

struct Node;
using NodePtr = std::shared_ptr<Node>;

struct MapEntry {
  NodePtr key;    ///< always a scalar node
  NodePtr value;  ///< never null
};

/// One node of a parsed document. Aliases share the node they refer to.
struct Node {
  NodeKind kind = NodeKind::kNull;
  Location where;
  std::string scalar;             ///< kScalar: the text
  bool quoted = false;            ///< kScalar: written quoted or as a block, so always a string
  std::vector<NodePtr> items;     ///< kSequence
  std::vector<MapEntry> entries;  ///< kMap, in document order
  std::size_t weight = 1;         ///< nodes in this subtree with aliases expanded (saturating)

  /// The entry with this key, or nullptr.
  const MapEntry* find(std::string_view key) const;
  MapEntry* find(std::string_view key);

  /// "a mapping", "a list", "null" or "the string \"x\"", for messages.
  std::string describe() const;
};

/// Documents whose aliases expand past this many nodes are refused: a
/// "billion laughs" file must not make validation run for hours.
inline constexpr std::size_t kMaxExpandedNodes = 1'000'000;

/// Parses one YAML document. Syntax errors, duplicate keys, recursive aliases,
/// unsupported tags and more than one document are reported to `diagnostics`
/// (with `source` as the file name). A syntax error, a recursive alias, an
/// alias expansion past kMaxExpandedNodes or an empty file yields nullptr; after the other errors
/// the tree without the offending parts is returned, so that its other errors can be found as well.
NodePtr parse_yaml(std::string_view text, std::shared_ptr<const std::string> source,
                   Diagnostics& diagnostics);

/// Reads and parses a file; an unreadable file is a diagnostic, not an exception.
NodePtr parse_yaml_file(const std::filesystem::path& path, Diagnostics& diagnostics);

/// Makes a scalar node, used for values given on the command line.
NodePtr make_scalar(std::string text, Location where);

/// Makes an empty mapping node.
NodePtr make_map(Location where);

}  // namespace dojo::config
