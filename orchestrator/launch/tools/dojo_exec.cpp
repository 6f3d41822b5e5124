// dojo-exec -- COMMAND ARGS...: `dojo exec` without the rest of dojo, so a
// rank pays no library loading before its command starts.
#include <cstdio>
#include <string>
#include <vector>

#include "orchestrator/launch/rank_env.h"

int main(int argc, char** argv) {
  int first = 1;
  if (argc > 1 && std::string(argv[1]) == "--")
    first = 2;
  std::vector<std::string> command(argv + first, argv + argc);
  std::string error;
  const int code = dojo::launch::exec_with_rank_env(command, error);
  std::fprintf(stderr, "dojo-exec: %s\n", error.c_str());
  return code;
}
