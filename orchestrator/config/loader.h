#pragma once
// Loading configuration documents: the public entry point of the config layer.
//
// A document is one YAML file whose top-level mapping holds exactly one kind
// key (accelerators, job, cluster or capacity), optionally beside `version: 1`.
// Loading validates the whole file and the files it refers to, and throws a
// ConfigError that carries every error found.

#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orchestrator/config/accelerators.h"
#include "orchestrator/config/capacity.h"
#include "orchestrator/config/cluster.h"
#include "orchestrator/config/diagnostics.h"
#include "orchestrator/config/job.h"

namespace dojo::config {

/// The only format version this build reads.
inline constexpr int kConfigVersion = 1;

enum class DocumentKind { kAccelerators, kJob, kCluster, kCapacity };
const char* to_string(DocumentKind kind);

/// One `--set key.path=value` flag. The path is relative to the document's
/// kind (`resources.ranks`); a leading kind name (`job.resources.ranks`) is
/// accepted too. Numeric segments index lists (`nodes.0.state`). The value is
/// YAML (`shares=[3,1]`).
struct Override {
  std::string flag;  ///< the flag as given, for messages: "--set resources.ranks=4"
  std::vector<std::string> path;
  std::string value;
};

/// Parses the text after `--set`; throws UsageError when it is not key.path=value.
Override parse_override(std::string_view text);

using Document = std::variant<AcceleratorCatalog, JobConfig, ClusterConfig, CapacityConfig>;

/// Loads and validates any kind of document, applying `overrides` first.
/// Throws ConfigError with every error of the file and the files it names.
Document load_document(const std::filesystem::path& path,
                       const std::vector<Override>& overrides = {});

/// Load one kind; a document of another kind is an error.
AcceleratorCatalog load_accelerators(const std::filesystem::path& path);
JobConfig load_job(const std::filesystem::path& path, const std::vector<Override>& overrides = {});
ClusterConfig load_cluster(const std::filesystem::path& path,
                           const std::vector<Override>& overrides = {});
CapacityConfig load_capacity(const std::filesystem::path& path,
                             const std::vector<Override>& overrides = {});

/// Any kind of document given as text; `as_file` names it in messages and
/// anchors its relative references. Throws ConfigError like load_document.
Document load_document_text(const std::string& text, const std::filesystem::path& as_file,
                            const std::vector<Override>& overrides = {});

/// A job given as text (for example the defaults of `dojorun -- COMMAND`);
/// `as_file` names it in messages and anchors its relative references.
JobConfig load_job_text(const std::string& text, const std::filesystem::path& as_file,
                        const std::vector<Override>& overrides = {});

/// As resolved_yaml, for a document given as text (`as_file` names it).
std::string resolved_yaml_text(const std::string& text, const std::filesystem::path& as_file,
                               const std::vector<Override>& overrides = {});

DocumentKind kind_of(const Document& document);

/// The document at `path` with `overrides` applied, written back as YAML (for
/// the record of what a run used). Throws ConfigError like load_document.
std::string resolved_yaml(const std::filesystem::path& path,
                          const std::vector<Override>& overrides = {});

}  // namespace dojo::config
