#include "orchestrator/config/diagnostics.h"

#include <algorithm>

namespace dojo::config {
namespace {

std::string join_lines(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const Diagnostic& d : diagnostics) {
    if (!text.empty())
      text += '\n';
    text += d.format();
  }
  return text;
}

// Errors read best in file order: files as they were first met, then by position.
std::vector<Diagnostic> in_file_order(std::vector<Diagnostic> diagnostics,
                                      const std::string& primary_source) {
  std::vector<std::string> sources;
  if (!primary_source.empty())
    sources.push_back(primary_source);
  auto source_rank = [&](const Diagnostic& d) {
    const std::string name = d.where.source ? *d.where.source : std::string();
    auto it = std::find(sources.begin(), sources.end(), name);
    if (it == sources.end()) {
      sources.push_back(name);
      return sources.size() - 1;
    }
    return static_cast<std::size_t>(it - sources.begin());
  };
  for (const Diagnostic& d : diagnostics)
    source_rank(d);
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) {
                     const std::size_t sa = source_rank(a);
                     const std::size_t sb = source_rank(b);
                     if (sa != sb)
                       return sa < sb;
                     if (a.where.line != b.where.line)
                       return a.where.line < b.where.line;
                     return a.where.column < b.where.column;
                   });
  return diagnostics;
}

}  // namespace

std::string Location::describe() const {
  const std::string name = source ? *source : std::string("<unknown>");
  if (from_flag || line <= 0)
    return name;
  return name + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Diagnostic::format() const {
  return where.describe() + ": error: " + message;
}

void Diagnostics::error(const Location& where, std::string message) {
  items_.push_back(Diagnostic{where, std::move(message)});
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

void Diagnostics::throw_if_any(const std::string& primary_source) const {
  if (!items_.empty())
    throw ConfigError(items_, primary_source);
}

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics, const std::string& primary_source)
    : Error(join_lines(in_file_order(diagnostics, primary_source))),
      diagnostics_(in_file_order(std::move(diagnostics), primary_source)) {}

}  // namespace dojo::config
