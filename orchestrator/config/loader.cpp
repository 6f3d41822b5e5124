#include "orchestrator/config/loader.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>

#include "orchestrator/config/overrides_internal.h"
#include "orchestrator/config/parsers.h"

#include <yaml-cpp/emitter.h>
#include <yaml-cpp/emittermanip.h>
#include <yaml-cpp/null.h>

namespace dojo::config {
namespace {

using detail::apply_override;
using detail::Parsed;

constexpr std::pair<const char*, DocumentKind> kKinds[] = {
    {"accelerators", DocumentKind::kAccelerators},
    {"job", DocumentKind::kJob},
    {"cluster", DocumentKind::kCluster},
    {"capacity", DocumentKind::kCapacity},
};

// Finds the kind key and checks `version`. Returns false (with diagnostics)
// when the file is not a document of a known kind.
bool identify(const NodePtr& root, Diagnostics& diagnostics, Parsed& out) {
  out.root = root;
  if (root->kind != NodeKind::kMap) {
    diagnostics.error(root->where,
                      "expected a mapping with one of the keys accelerators, job, "
                      "cluster or capacity, got " +
                          root->describe());
    return false;
  }
  std::vector<std::string> kinds;
  for (const auto& [name, kind] : kKinds)
    kinds.emplace_back(name);
  kinds.emplace_back("version");
  int found = 0;
  bool ok = true;
  for (const MapEntry& entry : root->entries) {
    const std::string& key = entry.key->scalar;
    if (key == "version") {
      int version = 0;
      if (!read_value(*entry.value, "version", diagnostics, version)) {
        ok = false;
      } else if (version != kConfigVersion) {
        diagnostics.error(entry.value->where, "version: unsupported version " +
                                                  std::to_string(version) + " (this dojo reads " +
                                                  std::to_string(kConfigVersion) + ")");
        ok = false;
      }
      continue;
    }
    bool known = false;
    for (const auto& [name, kind] : kKinds) {
      if (key != name)
        continue;
      known = true;
      if (++found == 2) {
        diagnostics.error(entry.key->where, "a file holds one document kind; \"" + key +
                                                "\" follows \"" + to_string(out.kind) + "\"");
        ok = false;
      } else {
        out.kind = kind;
        out.body = entry.value.get();
      }
    }
    if (!known) {
      std::string message = "unknown top-level key \"" + key + "\"";
      const std::string suggestion = closest_match(key, kinds);
      message += suggestion.empty()
                     ? " (expected one of accelerators, job, cluster, capacity, version)"
                     : " (did you mean \"" + suggestion + "\"?)";
      diagnostics.error(entry.key->where, message);
      ok = false;
    }
  }
  if (found == 0 && ok) {
    diagnostics.error(root->where,
                      "document: missing a kind key (accelerators, job, cluster or capacity)");
    ok = false;
  }
  return ok && found == 1;
}

void parse_body(const Parsed& parsed, const std::filesystem::path& file, Diagnostics& diagnostics,
                Document& out) {
  const Node& body = *parsed.body;
  switch (parsed.kind) {
    case DocumentKind::kAccelerators:
      detail::parse_accelerators(body, file, diagnostics, out.emplace<AcceleratorCatalog>());
      break;
    case DocumentKind::kJob:
      detail::parse_job(body, file, diagnostics, out.emplace<JobConfig>());
      break;
    case DocumentKind::kCluster:
      detail::parse_cluster(body, file, diagnostics, out.emplace<ClusterConfig>());
      break;
    case DocumentKind::kCapacity:
      detail::parse_capacity(body, file, diagnostics, out.emplace<CapacityConfig>());
      break;
  }
}

std::filesystem::path absolute_of(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal();
}

// Loads a document into `out`, reporting to `diagnostics`. Returns true when
// valid. With `text`, the document is that text instead of the file's
// contents (references still resolve relative to `path`).
bool load_into(const std::filesystem::path& path, const std::vector<Override>& overrides,
               Diagnostics& diagnostics, Document& out, DocumentKind* kind = nullptr,
               const std::string* text = nullptr) {
  const std::filesystem::path file = absolute_of(path);
  Diagnostics local;
  NodePtr root = text != nullptr
                     ? parse_yaml(*text, std::make_shared<const std::string>(path.string()), local)
                     : parse_yaml_file(path, local);
  Parsed parsed;
  if (root && identify(root, local, parsed)) {
    for (const Override& o : overrides)
      apply_override(parsed, o, local);
    if (kind != nullptr)
      *kind = parsed.kind;
    parse_body(parsed, file, local, out);
  }
  const bool ok = local.empty();
  diagnostics.append(local);
  return ok;
}

template <class T>
T load_kind(const std::filesystem::path& path, const std::vector<Override>& overrides,
            DocumentKind expected) {
  Diagnostics diagnostics;
  Document document;
  DocumentKind kind = expected;
  if (load_into(path, overrides, diagnostics, document, &kind) && kind != expected) {
    diagnostics.error(Location{std::make_shared<const std::string>(path.string()), 1, 1, false},
                      std::string("expected a document of kind ") + to_string(expected) +
                          ", found one of kind " + to_string(kind));
  }
  diagnostics.throw_if_any(path.string());
  return std::get<T>(std::move(document));
}

}  // namespace

const char* to_string(DocumentKind kind) {
  for (const auto& [name, k] : kKinds) {
    if (k == kind)
      return name;
  }
  return "?";
}

Document load_document(const std::filesystem::path& path, const std::vector<Override>& overrides) {
  Diagnostics diagnostics;
  Document document;
  load_into(path, overrides, diagnostics, document);
  diagnostics.throw_if_any(path.string());
  return document;
}

AcceleratorCatalog load_accelerators(const std::filesystem::path& path) {
  return load_kind<AcceleratorCatalog>(path, {}, DocumentKind::kAccelerators);
}
JobConfig load_job(const std::filesystem::path& path, const std::vector<Override>& overrides) {
  return load_kind<JobConfig>(path, overrides, DocumentKind::kJob);
}
ClusterConfig load_cluster(const std::filesystem::path& path,
                           const std::vector<Override>& overrides) {
  return load_kind<ClusterConfig>(path, overrides, DocumentKind::kCluster);
}
CapacityConfig load_capacity(const std::filesystem::path& path,
                             const std::vector<Override>& overrides) {
  return load_kind<CapacityConfig>(path, overrides, DocumentKind::kCapacity);
}

Document load_document_text(const std::string& text, const std::filesystem::path& as_file,
                            const std::vector<Override>& overrides) {
  Diagnostics diagnostics;
  Document document;
  DocumentKind kind = DocumentKind::kJob;
  load_into(as_file, overrides, diagnostics, document, &kind, &text);
  diagnostics.throw_if_any(as_file.string());
  return document;
}

JobConfig load_job_text(const std::string& text, const std::filesystem::path& as_file,
                        const std::vector<Override>& overrides) {
  Diagnostics diagnostics;
  Document document;
  DocumentKind kind = DocumentKind::kJob;
  if (load_into(as_file, overrides, diagnostics, document, &kind, &text) &&
      kind != DocumentKind::kJob) {
    diagnostics.error(Location{std::make_shared<const std::string>(as_file.string()), 1, 1, false},
                      "expected a document of kind job");
  }
  diagnostics.throw_if_any(as_file.string());
  return std::get<JobConfig>(std::move(document));
}

namespace {

void emit(YAML::Emitter& out, const Node& node) {
  switch (node.kind) {
    case NodeKind::kNull:
      out << YAML::Null;
      break;
    case NodeKind::kScalar:
      if (node.quoted)
        out << YAML::DoubleQuoted;
      out << node.scalar;
      break;
    case NodeKind::kSequence:
      out << YAML::BeginSeq;
      for (const NodePtr& item : node.items)
        emit(out, *item);
      out << YAML::EndSeq;
      break;
    case NodeKind::kMap:
      out << YAML::BeginMap;
      for (const MapEntry& entry : node.entries) {
        out << YAML::Key << entry.key->scalar << YAML::Value;
        emit(out, *entry.value);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

namespace {

/// `root` with `overrides` applied, as YAML.
std::string emit_with_overrides(NodePtr root, const std::vector<Override>& overrides) {
  Diagnostics diagnostics;
  Parsed parsed;
  identify(root, diagnostics, parsed);
  for (const Override& o : overrides)
    apply_override(parsed, o, diagnostics);
  YAML::Emitter out;
  emit(out, *root);
  return out.c_str();
}

}  // namespace

std::string resolved_yaml(const std::filesystem::path& path,
                          const std::vector<Override>& overrides) {
  load_document(path, overrides);  // validates, and throws every error
  Diagnostics diagnostics;
  return std::string("# ") + path.string() + " with its --set overrides applied\n" +
         emit_with_overrides(parse_yaml_file(path, diagnostics), overrides) + "\n";
}

std::string resolved_yaml_text(const std::string& text, const std::filesystem::path& as_file,
                               const std::vector<Override>& overrides) {
  load_document_text(text, as_file, overrides);  // validates, and throws every error
  Diagnostics diagnostics;
  NodePtr root =
      parse_yaml(text, std::make_shared<const std::string>(as_file.string()), diagnostics);
  return std::string("# ") + as_file.filename().string() + " with its --set overrides applied\n" +
         emit_with_overrides(root, overrides) + "\n";
}

DocumentKind kind_of(const Document& document) {
  switch (document.index()) {
    case 0:
      return DocumentKind::kAccelerators;
    case 1:
      return DocumentKind::kJob;
    case 2:
      return DocumentKind::kCluster;
    default:
      return DocumentKind::kCapacity;
  }
}

namespace detail {

std::filesystem::path resolve_reference(const Node& value, const std::string& path,
                                        const std::filesystem::path& referring_file,
                                        Diagnostics& diagnostics) {
  std::string name;
  if (!read_value(value, path, diagnostics, name))
    return {};
  if (name.empty()) {
    diagnostics.error(value.where, path + ": empty file reference");
    return {};
  }
  // A value from the command line is relative to where the command runs.
  const std::filesystem::path base =
      value.where.from_flag ? std::filesystem::current_path() : referring_file.parent_path();
  const std::filesystem::path resolved = absolute_of(base / name);
  std::error_code ec;
  if (!std::filesystem::exists(resolved, ec)) {
    diagnostics.error(value.where, path + ": file \"" + name + "\" does not exist (looked for " +
                                       resolved.string() + ")");
    return {};
  }
  if (!std::filesystem::is_regular_file(resolved, ec) || access(resolved.c_str(), R_OK) != 0) {
    diagnostics.error(value.where, path + ": \"" + name + "\" is not a readable file (" +
                                       resolved.string() + ")");
    return {};
  }
  return resolved;
}

AcceleratorCatalog load_referenced_catalog(MapReader& reader, const std::string& key,
                                           const std::filesystem::path& referring_file) {
  AcceleratorCatalog catalog;
  const Node* value = reader.require(key);
  if (value == nullptr)
    return catalog;
  const std::filesystem::path path =
      resolve_reference(*value, reader.path_of(key), referring_file, reader.diagnostics());
  if (path.empty())
    return catalog;
  Document document;
  DocumentKind kind = DocumentKind::kAccelerators;
  if (load_into(path, {}, reader.diagnostics(), document, &kind)) {
    if (kind != DocumentKind::kAccelerators) {
      reader.error_at(*value, key,
                      "\"" + value->scalar + "\" is a document of kind " + to_string(kind) +
                          ", not an accelerator catalog");
    } else {
      catalog = std::get<AcceleratorCatalog>(std::move(document));
    }
  }
  return catalog;
}

bool load_cluster_into(const std::filesystem::path& path, const Node& reference,
                       Diagnostics& diagnostics, ClusterConfig& out) {
  Document document;
  DocumentKind kind = DocumentKind::kCluster;
  if (!load_into(path, {}, diagnostics, document, &kind))
    return false;
  if (kind != DocumentKind::kCluster) {
    diagnostics.error(reference.where, "job.cluster: \"" + reference.scalar +
                                           "\" is a document of kind " + to_string(kind) +
                                           ", not a cluster");
    return false;
  }
  out = std::get<ClusterConfig>(std::move(document));
  return true;
}

bool check_identifier(const Node& where, const std::string& path, const std::string& name,
                      Diagnostics& diagnostics) {
  bool ok = !name.empty() && name.size() <= 63 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      ok = false;
    }
  }
  if (!ok) {
    diagnostics.error(where.where, path + ": \"" + name +
                                       "\" is not a valid name (letters, digits, '.', '_' and '-', "
                                       "starting with a letter or digit, at most 63 characters)");
  }
  return ok;
}

bool check_accelerator(MapReader& reader, const std::string& key, const std::string& name,
                       const AcceleratorCatalog& catalog) {
  if (catalog.accelerators.empty() || catalog.find(name) != nullptr)
    return true;
  std::string message =
      "unknown accelerator \"" + name + "\" (not in " + catalog.source.filename().string() + ")";
  const std::string suggestion = closest_match(name, catalog.names());
  if (!suggestion.empty())
    message += "; did you mean \"" + suggestion + "\"?";
  return reader.check(false, key, message);
}

}  // namespace detail
}  // namespace dojo::config
