#pragma once
// The accelerator catalog: the one place where accelerator types are defined.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dojo::config {

/// Dense bf16 TFLOPS of an H100 SXM, the unit of "H100-equivalent" (H100e).
inline constexpr double kH100Bf16Tflops = 989.4;

enum class AcceleratorKind { kGpu, kDojo, kCpu };

struct Accelerator {
  std::string name;  ///< catalog key, e.g. "h100-sxm"
  std::string description;
  AcceleratorKind kind = AcceleratorKind::kGpu;
  double bf16_tflops = 0;  ///< dense, no sparsity
  double memory_gib = 0;
  double power_w = 0;
  std::optional<double> h100e_declared;    ///< `h100e: <number>`
  bool h100e_measured = false;             ///< `h100e: measured`
  std::filesystem::path measured_results;  ///< node-benchmark results file (absolute)
  std::optional<double> measured_h100e;    ///< the factor that results file reports

  /// The H100e factor, the one every component counts by (placement, the
  /// ledger, validate, the planner, the capacity tracker): the measured
  /// figure when the catalog has one, else the declared `h100e:`, else
  /// bf16_tflops / kH100Bf16Tflops.
  double h100e() const;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const Accelerator&) const = default;
};

struct AcceleratorCatalog {
  std::filesystem::path source;  ///< the file it was read from (absolute)
  std::vector<Accelerator> accelerators;

  /// The accelerator with this name, or nullptr.
  const Accelerator* find(const std::string& name) const;
  std::vector<std::string> names() const;

  /// Member by member (the documented-defaults test compares loads).
  bool operator==(const AcceleratorCatalog&) const = default;
};

const char* to_string(AcceleratorKind kind);

}  // namespace dojo::config
