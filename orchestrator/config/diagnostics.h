#pragma once
// Where a configuration value came from, and the errors found in it.

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace dojo::config {

/// The origin of a configuration node: a line and column (1-based) in a file,
/// or a `--set key=value` flag given on the command line.
struct Location {
  std::shared_ptr<const std::string> source;  ///< file path, or the whole flag text
  int line = 0;                               ///< 1-based; 0 when unknown
  int column = 0;                             ///< 1-based; 0 when unknown
  bool from_flag = false;                     ///< true for `--set` overrides

  /// "path:line:col" for files, "--set key=value" for flags.
  std::string describe() const;
};

/// One error in a configuration, printed as `path:line:col: error: message`.
struct Diagnostic {
  Location where;
  std::string message;

  std::string format() const;
};

/// Collects every error of a load so that one run reports them all.
class Diagnostics {
 public:
  void error(const Location& where, std::string message);
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  void append(const Diagnostics& other);

  /// Throws ConfigError holding every diagnostic when there is at least one;
  /// errors of `primary_source` (the file the user named) come first.
  void throw_if_any(const std::string& primary_source = "") const;

 private:
  std::vector<Diagnostic> items_;
};

/// A configuration that is invalid. what() is every diagnostic, one per line.
class ConfigError : public Error {
 public:
  /// Orders the diagnostics by file (`primary_source` first, then as first
  /// met), then by line and column.
  explicit ConfigError(std::vector<Diagnostic> diagnostics, const std::string& primary_source = "");
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace dojo::config
