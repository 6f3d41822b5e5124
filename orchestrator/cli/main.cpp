// The `dojo` executable: a thin main over dojo::cli::run.
#include <iostream>
#include <string>
#include <vector>

#include "orchestrator/cli/cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return dojo::cli::run(args, std::cout, std::cerr);
}
