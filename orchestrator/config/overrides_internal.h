#pragma once
// What the loader and the `--set` overrides share inside dojo_config: a
// document found by its kind key, and one override applied to it.

#include "orchestrator/config/diagnostics.h"
#include "orchestrator/config/loader.h"
#include "orchestrator/config/yaml_tree.h"

namespace dojo::config::detail {

/// A parsed document and the value under its kind key.
struct Parsed {
  NodePtr root;
  const Node* body = nullptr;  // the value under the kind key
  DocumentKind kind = DocumentKind::kJob;
};

/// Applies one override to the document body. Missing mapping keys are
/// created, so a misspelt key surfaces as an unknown-key error naming the flag.
void apply_override(Parsed& parsed, const Override& o, Diagnostics& diagnostics);

}  // namespace dojo::config::detail
