// `--set key.path=value`: parsing the flag, and applying it to a document's
// tree before the document is validated.
#include <algorithm>

#include "common/error.h"
#include "orchestrator/config/overrides_internal.h"

namespace dojo::config {

Override parse_override(std::string_view text) {
  const std::size_t equals = text.find('=');
  Override o;
  o.flag = "--set " + std::string(text);
  if (equals == std::string_view::npos || equals == 0) {
    throw UsageError(o.flag + ": expected key.path=value");
  }
  std::string key(text.substr(0, equals));
  o.value = std::string(text.substr(equals + 1));
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = key.find('.', start);
    std::string segment = key.substr(start, dot == std::string::npos ? dot : dot - start);
    if (segment.empty())
      throw UsageError(o.flag + ": empty segment in key path \"" + key + "\"");
    o.path.push_back(std::move(segment));
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  return o;
}

namespace detail {
namespace {

void mark_from_flag(Node& node, const std::shared_ptr<const std::string>& flag) {
  node.where = Location{flag, 0, 0, true};
  for (const NodePtr& item : node.items)
    mark_from_flag(*item, flag);
  for (const MapEntry& entry : node.entries) {
    mark_from_flag(*entry.key, flag);
    mark_from_flag(*entry.value, flag);
  }
}

bool is_index(const std::string& segment) {
  return !segment.empty() && segment.size() < 9 &&
         segment.find_first_not_of("0123456789") == std::string::npos;
}

/// resources.ranks and resources.h100e exclude each other: setting one with
/// --set replaces the other when the file gave it (a job placed by H100e runs
/// on `--set resources.ranks=2`); both given by flags stay an error.
void drop_file_alternative(Node& resources, const std::string& key) {
  const char* other = key == "ranks" ? "h100e" : key == "h100e" ? "ranks" : nullptr;
  if (other == nullptr)
    return;
  std::erase_if(resources.entries, [&](const MapEntry& e) {
    return e.key->scalar == other && !e.value->where.from_flag;
  });
}

}  // namespace

void apply_override(Parsed& parsed, const Override& o, Diagnostics& diagnostics) {
  auto flag = std::make_shared<const std::string>(o.flag);
  const Location at_flag{flag, 0, 0, true};
  Diagnostics value_diagnostics;
  NodePtr value = parse_yaml(o.value.empty() ? "~" : o.value, flag, value_diagnostics);
  if (!value) {
    for (const Diagnostic& d : value_diagnostics.items()) {
      diagnostics.error(at_flag, "the value is not valid YAML: " + d.message);
    }
    return;
  }
  mark_from_flag(*value, flag);

  std::vector<std::string> path = o.path;
  if (path.size() > 1 && path[0] == to_string(parsed.kind) &&
      parsed.body->find(path[0]) == nullptr) {
    path.erase(path.begin());
  }
  // The body is shared with the parsed tree; overrides edit it in place.
  Node* node = const_cast<Node*>(parsed.body);
  std::string walked = to_string(parsed.kind);
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::string& segment = path[i];
    const bool last = i + 1 == path.size();
    if (node->kind == NodeKind::kSequence) {
      if (!is_index(segment) || std::stoul(segment) >= node->items.size()) {
        diagnostics.error(at_flag, walked + " is a list of " + std::to_string(node->items.size()) +
                                       " entries; \"" + segment + "\" is not an index into it");
        return;
      }
      NodePtr& slot = node->items[std::stoul(segment)];
      if (last) {
        slot = value;
        return;
      }
      node = slot.get();
    } else {
      if (node->kind != NodeKind::kMap) {
        diagnostics.error(at_flag, walked + " is " + node->describe() + ", not a mapping");
        return;
      }
      if (last && parsed.kind == DocumentKind::kJob && walked == "job.resources")
        drop_file_alternative(*node, segment);
      MapEntry* entry = node->find(segment);
      if (entry == nullptr) {
        node->entries.push_back(
            MapEntry{make_scalar(segment, at_flag), last ? value : make_map(at_flag)});
        entry = &node->entries.back();
      } else if (last) {
        entry->value = value;
      }
      if (last)
        return;
      node = entry->value.get();
    }
    walked += "." + segment;
  }
}

}  // namespace detail
}  // namespace dojo::config
