#pragma once
// The `dojo` command line: dispatches to a subcommand and maps errors to exit codes.

#include <iosfwd>
#include <string>
#include <vector>

namespace dojo::cli {

/// Runs `dojo ARGS...` (args excludes the program name). Never throws: errors
/// are printed to `err` and turned into exit codes (0 ok, 1 failure, 2 usage
/// or config error).
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace dojo::cli
