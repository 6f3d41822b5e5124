#pragma once
// Internal: the per-kind parsers the loader calls. Not part of the public API.

#include <filesystem>

#include "orchestrator/config/accelerators.h"
#include "orchestrator/config/capacity.h"
#include "orchestrator/config/cluster.h"
#include "orchestrator/config/job.h"
#include "orchestrator/config/reader.h"

namespace dojo::config::detail {

/// Resolves a file reference relative to the file that names it (or to the
/// working directory for a `--set` value). Reports a reference that does not
/// resolve to a readable file and returns an empty path.
std::filesystem::path resolve_reference(const Node& value, const std::string& path,
                                        const std::filesystem::path& referring_file,
                                        Diagnostics& diagnostics);

/// Loads the catalog a cluster or capacity document names under `key`.
AcceleratorCatalog load_referenced_catalog(MapReader& reader, const std::string& key,
                                           const std::filesystem::path& referring_file);

/// Checks that `name` is a bounded, label-safe identifier: [a-z0-9][a-z0-9._-]*,
/// at most 63 characters. Reports at `where`.
bool check_identifier(const Node& where, const std::string& path, const std::string& name,
                      Diagnostics& diagnostics);

/// Reports an accelerator name that the catalog does not define.
bool check_accelerator(MapReader& reader, const std::string& key, const std::string& name,
                       const AcceleratorCatalog& catalog);

/// Loads the cluster document at `path` (named by `reference`) into `out`,
/// reporting its errors and a document of another kind. Returns true when valid.
bool load_cluster_into(const std::filesystem::path& path, const Node& reference,
                       Diagnostics& diagnostics, ClusterConfig& out);

void parse_accelerators(const Node& body, const std::filesystem::path& file,
                        Diagnostics& diagnostics, AcceleratorCatalog& out);
void parse_cluster(const Node& body, const std::filesystem::path& file, Diagnostics& diagnostics,
                   ClusterConfig& out);
void parse_job(const Node& body, const std::filesystem::path& file, Diagnostics& diagnostics,
               JobConfig& out);
void parse_capacity(const Node& body, const std::filesystem::path& file, Diagnostics& diagnostics,
                    CapacityConfig& out);

}  // namespace dojo::config::detail
