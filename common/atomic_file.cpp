#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "common/error.h"
#include "common/fault.h"

namespace dojo {

bool is_atomic_write_leftover(const std::string& filename) {
  // "." + name + "." + six characters from mkstemp
  return filename.size() > 8 && filename[0] == '.' && filename[filename.size() - 7] == '.';
}

void write_file_atomically(const std::string& path, const std::string& text,
                           const AtomicWriteOptions& options) {
  const std::filesystem::path target(path);
  const std::filesystem::path directory =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::string temp = (directory / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = mkstemp(temp.data());
  if (fd < 0)
    throw Error("cannot create a temporary file next to " + path + ": " + errno_text(errno));
  auto fail = [&](const char* what) {
    const int saved = errno;
    close(fd);
    unlink(temp.c_str());
    throw Error(std::string("cannot ") + what + " " + path + ": " + errno_text(saved));
  };
  std::size_t written = 0;
  bool fault_visited = options.fault_point == nullptr;
  while (written < text.size()) {
    std::size_t chunk = text.size() - written;
    if (!fault_visited) {
      if (written >= text.size() / 2) {
        fault_visited = true;
        fault_point(options.fault_point);
      } else {
        chunk = text.size() / 2 - written;
      }
    }
    const ssize_t n = write(fd, text.data() + written, chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      fail("write");
    written += static_cast<std::size_t>(n);
  }
  if (fchmod(fd, static_cast<mode_t>(options.mode)) != 0)
    fail("set the mode of");
  if (fsync(fd) != 0)
    fail("sync");
  if (close(fd) != 0) {
    const int saved = errno;
    unlink(temp.c_str());
    throw Error("cannot close " + path + ": " + errno_text(saved));
  }
  if (rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    unlink(temp.c_str());
    throw Error("cannot rename into " + path + ": " + errno_text(saved));
  }
  const int dir_fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    fsync(dir_fd);  // makes the rename durable; best effort on filesystems that refuse
    close(dir_fd);
  }
}

}  // namespace dojo
