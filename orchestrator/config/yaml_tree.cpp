#include "orchestrator/config/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>

namespace dojo::config {
namespace {

std::size_t saturating_add(std::size_t a, std::size_t b) {
  return a > kMaxExpandedNodes || b > kMaxExpandedNodes || a + b > kMaxExpandedNodes
             ? kMaxExpandedNodes + 1
             : a + b;
}

std::string position_text(const Location& where) {
  return std::to_string(where.line) + ":" + std::to_string(where.column);
}

// Builds the tree from yaml-cpp's events. Containers under construction sit on
// an explicit stack, so no nesting depth can overflow our own call stack.
class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(std::shared_ptr<const std::string> source, Diagnostics& diagnostics)
      : source_(std::move(source)), diagnostics_(diagnostics) {}

  NodePtr root() const { return root_; }
  int documents() const { return documents_; }
  /// True after an error that leaves no tree worth validating further.
  bool fatal() const { return fatal_; }
  const Location& second_document() const { return second_document_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    ++documents_;
    if (documents_ == 2)
      second_document_ = at(mark);
    // yaml-cpp 0.7 can start "documents" forever without consuming a token
    // (a stray ',' in block context: jbeder/yaml-cpp#1040, fixed upstream by
    // #1319). A document that starts where the previous one did is that loop.
    stuck_ = documents_ > 1 && mark.pos == last_start_.pos;
    last_start_ = mark;
  }
  /// True when the parser started a document without moving (see above).
  bool stuck() const { return stuck_; }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto node = std::make_shared<Node>();
    node->kind = NodeKind::kNull;
    node->where = at(mark);
    remember(anchor, node);
    add(node);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const Location where = at(mark);
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {  // yaml-cpp rejects these itself; kept as a guard
      error(where, "alias refers to an undefined anchor");
      add(placeholder(where));
      return;
    }
    for (const Open& open : stack_) {
      if (open.node == it->second) {
        fatal_ = true;
        error(where, "recursive alias *" + anchor_names_[anchor] + ": it refers to " +
                         it->second->describe() + " (at " + position_text(it->second->where) +
                         ") that contains it");
        add(placeholder(where));
        return;
      }
    }
    add(it->second);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    auto node = std::make_shared<Node>();
    node->kind = NodeKind::kScalar;
    node->where = at(mark);
    node->scalar = value;
    // yaml-cpp tags plain scalars "?" and quoted or block scalars "!".
    node->quoted = tag != "?";
    check_tag(node->where, tag, "tag:yaml.org,2002:str");
    remember(anchor, node);
    add(node);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open_container(NodeKind::kSequence, mark, tag, anchor);
  }
  void OnSequenceEnd() override { close_container(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open_container(NodeKind::kMap, mark, tag, anchor);
  }
  void OnMapEnd() override {
    if (!stack_.empty())
      apply_merge_keys(*stack_.back().node);
    close_container();
  }

 private:
  struct Open {
    NodePtr node;
    NodePtr pending_key;  // maps: the key waiting for its value
  };

  Location at(const YAML::Mark& mark) const {
    Location where;
    where.source = source_;
    where.line = mark.is_null() ? 0 : mark.line + 1;
    where.column = mark.is_null() ? 0 : mark.column + 1;
    return where;
  }

  void error(const Location& where, std::string message) {
    diagnostics_.error(where, std::move(message));
  }

  static NodePtr placeholder(const Location& where) {
    auto node = std::make_shared<Node>();
    node->where = where;
    return node;
  }

  void check_tag(const Location& where, const std::string& tag, const char* allowed) {
    if (tag.empty() || tag == "?" || tag == "!" || tag == allowed)
      return;
    error(where, "YAML tag '" + tag + "' is not supported in dojo configs");
  }

  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_anchor_ = name; }

  void remember(YAML::anchor_t anchor, const NodePtr& node) {
    if (anchor == YAML::NullAnchor)
      return;
    anchors_[anchor] = node;
    anchor_names_[anchor] = pending_anchor_;
  }

  void open_container(NodeKind kind, const YAML::Mark& mark, const std::string& tag,
                      YAML::anchor_t anchor) {
    auto node = std::make_shared<Node>();
    node->kind = kind;
    node->where = at(mark);
    check_tag(node->where, tag,
              kind == NodeKind::kMap ? "tag:yaml.org,2002:map" : "tag:yaml.org,2002:seq");
    remember(anchor, node);
    stack_.push_back(Open{node, nullptr});
  }

  void close_container() {
    if (stack_.empty())
      return;
    NodePtr node = stack_.back().node;
    stack_.pop_back();
    add(node);
  }

  // Attaches a finished node to the container on top of the stack.
  void add(const NodePtr& node) {
    if (stack_.empty()) {
      if (!root_)
        root_ = node;
      return;
    }
    Open& top = stack_.back();
    Node& parent = *top.node;
    parent.weight = saturating_add(parent.weight, node->weight);
    if (parent.weight > kMaxExpandedNodes && !expansion_reported_) {
      expansion_reported_ = true;
      fatal_ = true;
      error(node->where, "the document expands to more than " + std::to_string(kMaxExpandedNodes) +
                             " nodes through aliases");
    }
    if (parent.kind == NodeKind::kSequence) {
      parent.items.push_back(node);
      return;
    }
    if (!top.pending_key) {
      if (node->kind != NodeKind::kScalar) {
        error(node->where, "mapping keys must be plain strings, not " + node->describe());
        top.pending_key = make_scalar("", node->where);
      } else {
        top.pending_key = node;
      }
      return;
    }
    NodePtr key = std::move(top.pending_key);
    top.pending_key = nullptr;
    if (const MapEntry* first = parent.find(key->scalar); first != nullptr) {
      error(key->where, "duplicate key \"" + key->scalar + "\" (first defined at " +
                            position_text(first->key->where) + ")");
      return;
    }
    NodePtr value = node;
    // yaml-cpp reports an empty value at the next token; point at its key instead.
    if (value->kind == NodeKind::kNull && value->where.line != key->where.line) {
      value->where = key->where;
    }
    parent.entries.push_back(MapEntry{key, value});
  }

  // YAML merge keys (`<<: *defaults`): keys written in the mapping win over merged ones.
  void apply_merge_keys(Node& map) {
    std::vector<MapEntry> kept;
    std::vector<NodePtr> sources;
    for (MapEntry& entry : map.entries) {
      if (entry.key->scalar == "<<" && !entry.key->quoted) {
        if (entry.value->kind == NodeKind::kMap) {
          sources.push_back(entry.value);
        } else if (entry.value->kind == NodeKind::kSequence) {
          for (const NodePtr& item : entry.value->items) {
            if (item->kind == NodeKind::kMap) {
              sources.push_back(item);
            } else {
              error(item->where, "a merge key (<<) takes mappings, not " + item->describe());
            }
          }
        } else {
          error(entry.value->where, "a merge key (<<) takes a mapping or a list of mappings, not " +
                                        entry.value->describe());
        }
      } else {
        kept.push_back(entry);
      }
    }
    if (sources.empty() && kept.size() == map.entries.size())
      return;
    map.entries = std::move(kept);
    for (const NodePtr& source : sources) {
      for (const MapEntry& merged : source->entries) {
        if (map.find(merged.key->scalar) == nullptr)
          map.entries.push_back(merged);
      }
    }
  }

  std::shared_ptr<const std::string> source_;
  Diagnostics& diagnostics_;
  std::vector<Open> stack_;
  std::map<YAML::anchor_t, NodePtr> anchors_;
  std::map<YAML::anchor_t, std::string> anchor_names_;
  std::string pending_anchor_;
  NodePtr root_;
  int documents_ = 0;
  Location second_document_;
  YAML::Mark last_start_;
  bool stuck_ = false;
  bool expansion_reported_ = false;
  bool fatal_ = false;
};

}  // namespace

const MapEntry* Node::find(std::string_view key) const {
  for (const MapEntry& entry : entries) {
    if (entry.key->scalar == key)
      return &entry;
  }
  return nullptr;
}

MapEntry* Node::find(std::string_view key) {
  for (MapEntry& entry : entries) {
    if (entry.key->scalar == key)
      return &entry;
  }
  return nullptr;
}

std::string Node::describe() const {
  switch (kind) {
    case NodeKind::kNull:
      return "an empty value";
    case NodeKind::kSequence:
      return "a list";
    case NodeKind::kMap:
      return "a mapping";
    case NodeKind::kScalar:
      break;
  }
  std::string shown = scalar.size() > 40 ? scalar.substr(0, 37) + "..." : scalar;
  return "\"" + shown + "\"";
}

NodePtr parse_yaml(std::string_view text, std::shared_ptr<const std::string> source,
                   Diagnostics& diagnostics) {
  Diagnostics local;
  TreeBuilder builder(source, local);
  std::istringstream stream{std::string(text)};
  try {
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(builder)) {
      if (builder.stuck()) {
        diagnostics.error(builder.second_document(),
                          "YAML syntax: unexpected character here (a ',' or ']' outside a "
                          "flow collection?)");
        return nullptr;
      }
      if (builder.documents() > 2)
        break;  // one document is allowed; the second is reported below
    }
  } catch (const YAML::Exception& e) {  // ParserException and DeepRecursion
    Location where;
    where.source = source;
    where.line = e.mark.is_null() ? 1 : e.mark.line + 1;
    where.column = e.mark.is_null() ? 1 : e.mark.column + 1;
    diagnostics.error(where, "YAML syntax: " + e.msg);
    return nullptr;
  }
  if (builder.documents() > 1) {
    local.error(builder.second_document(),
                "a second YAML document starts here; a config file holds exactly one");
  }
  // Errors such as a duplicate key leave a usable tree (without the offending
  // entry), so validation goes on and reports the file's other errors too.
  diagnostics.append(local);
  if (builder.fatal())
    return nullptr;
  if (!builder.root() || builder.root()->kind == NodeKind::kNull) {
    diagnostics.error(Location{source, 1, 1, false}, "the file is empty");
    return nullptr;
  }
  return builder.root();
}

NodePtr parse_yaml_file(const std::filesystem::path& path, Diagnostics& diagnostics) {
  auto source = std::make_shared<const std::string>(path.string());
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    diagnostics.error(Location{source, 0, 0, false}, "is a directory, not a config file");
    return nullptr;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diagnostics.error(Location{source, 0, 0, false}, "cannot read: " + errno_text(errno));
    return nullptr;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    diagnostics.error(Location{source, 0, 0, false}, "read failed: " + errno_text(errno));
    return nullptr;
  }
  return parse_yaml(text.str(), source, diagnostics);
}

NodePtr make_scalar(std::string text, Location where) {
  auto node = std::make_shared<Node>();
  node->kind = NodeKind::kScalar;
  node->scalar = std::move(text);
  node->where = std::move(where);
  return node;
}

NodePtr make_map(Location where) {
  auto node = std::make_shared<Node>();
  node->kind = NodeKind::kMap;
  node->where = std::move(where);
  return node;
}

}  // namespace dojo::config
