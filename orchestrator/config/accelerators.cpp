#include "orchestrator/config/accelerators.h"

#include "orchestrator/config/parsers.h"

namespace dojo::config {

double Accelerator::h100e() const {
  if (measured_h100e)
    return *measured_h100e;
  return h100e_declared ? *h100e_declared : bf16_tflops / kH100Bf16Tflops;
}

const Accelerator* AcceleratorCatalog::find(const std::string& name) const {
  for (const Accelerator& a : accelerators) {
    if (a.name == name)
      return &a;
  }
  return nullptr;
}

std::vector<std::string> AcceleratorCatalog::names() const {
  std::vector<std::string> names;
  for (const Accelerator& a : accelerators)
    names.push_back(a.name);
  return names;
}

const char* to_string(AcceleratorKind kind) {
  switch (kind) {
    case AcceleratorKind::kGpu:
      return "gpu";
    case AcceleratorKind::kDojo:
      return "dojo";
    case AcceleratorKind::kCpu:
      return "cpu";
  }
  return "?";
}

namespace detail {
namespace {

// The results file `dojo bench node` writes (JSON, read as YAML), as strictly
// as any config: its errors point at its own lines.
std::optional<double> read_node_bench_results(const std::filesystem::path& path,
                                              Diagnostics& diagnostics) {
  const NodePtr root = parse_yaml_file(path, diagnostics);
  if (!root)
    return std::nullopt;
  const std::size_t errors_before = diagnostics.size();
  MapReader r(root.get(), "", diagnostics);
  std::string kind;
  if (r.required("kind", kind)) {
    r.check(kind == "dojo-node-bench", "kind",
            "expected \"dojo-node-bench\", got \"" + kind + "\"");
  }
  int version = 0;
  if (r.required("version", version))
    r.check(version == 1, "version", "unsupported results version");
  std::string text;
  r.optional("host", text);
  r.optional("accelerator", text);
  r.optional("device", text);
  Date date;
  r.optional("date", date);
  MapReader gemm = r.child("gemm");
  gemm.optional("dtype", text);
  int size = 0;
  gemm.optional("size", size);
  gemm.optional("threads", size);
  double tflops = 0;
  if (gemm.optional("tflops", tflops))
    gemm.check(tflops > 0, "tflops", "must be greater than 0");
  gemm.finish();
  MapReader step = r.child("train_step");
  step.optional("model", text);
  step.optional("batch", size);
  double seconds = 0;
  step.optional("seconds", seconds);
  step.optional("samples_per_second", seconds);
  step.finish();
  double reference = 0;
  if (r.optional("reference_tflops", reference)) {
    r.check(reference > 0, "reference_tflops", "must be greater than 0");
  }
  double h100e = 0;
  if (r.required("h100e", h100e))
    r.check(h100e > 0, "h100e", "must be greater than 0");
  r.finish();
  if (diagnostics.size() != errors_before)
    return std::nullopt;
  return h100e;
}

void parse_accelerator(const MapEntry& entry, const std::filesystem::path& file,
                       Diagnostics& diagnostics, Accelerator& a) {
  a.name = entry.key->scalar;
  MapReader r(entry.value.get(), "accelerators." + a.name, diagnostics, entry.key->where);
  if (!r.present()) {
    if (entry.value->kind == NodeKind::kNull) {
      diagnostics.error(entry.key->where, r.path() + ": expected a mapping, got an empty value");
    }
    return;
  }
  r.optional("description", a.description);
  if (r.require("kind") != nullptr) {
    r.optional_enum("kind", a.kind,
                    {{"gpu", AcceleratorKind::kGpu},
                     {"dojo", AcceleratorKind::kDojo},
                     {"cpu", AcceleratorKind::kCpu}});
  }
  if (r.required("bf16_tflops", a.bf16_tflops)) {
    r.check(a.bf16_tflops > 0, "bf16_tflops", "must be greater than 0");
  }
  if (r.required("memory_gib", a.memory_gib)) {
    r.check(a.memory_gib > 0, "memory_gib", "must be greater than 0");
  }
  if (r.required("power_w", a.power_w))
    r.check(a.power_w > 0, "power_w", "must be greater than 0");

  if (const Node* h100e = r.get("h100e")) {
    if (h100e->kind == NodeKind::kScalar && !h100e->quoted && h100e->scalar == "measured") {
      a.h100e_measured = true;
    } else {
      double factor = 0;
      if (read_value(*h100e, r.path_of("h100e"), diagnostics, factor)) {
        if (r.check(factor > 0, "h100e", "must be greater than 0 (or the word measured)")) {
          a.h100e_declared = factor;
        }
      }
    }
  }
  if (const Node* results = r.get("measured_results")) {
    if (!a.h100e_measured) {
      r.error_at(*results, "measured_results", "only applies with h100e: measured");
    } else {
      a.measured_results =
          resolve_reference(*results, r.path_of("measured_results"), file, diagnostics);
      if (!a.measured_results.empty()) {
        a.measured_h100e = read_node_bench_results(a.measured_results, diagnostics);
      }
    }
  } else if (a.h100e_measured) {
    r.require("measured_results");
  }
  r.finish();
}

}  // namespace

void parse_accelerators(const Node& body, const std::filesystem::path& file,
                        Diagnostics& diagnostics, AcceleratorCatalog& out) {
  out.source = file;
  if (body.kind != NodeKind::kMap) {
    diagnostics.error(body.where, "accelerators: expected a mapping of accelerator names, got " +
                                      body.describe());
    return;
  }
  if (body.entries.empty()) {
    diagnostics.error(body.where, "accelerators: the catalog defines no accelerator");
  }
  for (const MapEntry& entry : body.entries) {
    Accelerator a;
    check_identifier(*entry.key, "accelerators." + entry.key->scalar, entry.key->scalar,
                     diagnostics);
    parse_accelerator(entry, file, diagnostics, a);
    out.accelerators.push_back(std::move(a));
  }
}

}  // namespace detail
}  // namespace dojo::config
