#include "common/error.h"

#include <unistd.h>

#include <cstring>

namespace dojo {

std::string errno_text(int errnum) {
  char buffer[256];
  // GNU strerror_r may return a static string instead of filling the buffer.
  const char* text = strerror_r(errnum, buffer, sizeof(buffer));
  return text != nullptr ? std::string(text) : std::string("errno ") + std::to_string(errnum);
}

std::string this_host() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "unknown-host";
  }
  return name;
}

}  // namespace dojo
