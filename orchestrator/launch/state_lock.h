#pragma once
// An exclusive flock on a file of the shared state directory, for the scope:
// how the launchers of a cluster change the ledger and the node blacklist
// one at a time.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "orchestrator/launch/launch_error.h"

namespace dojo::launch {

class StateLock {
 public:
  /// Locks `dir`/`name` (created when missing); `what` names the state in
  /// the LaunchError when it cannot ("the allocation ledger").
  StateLock(const std::filesystem::path& dir, const char* name, const char* what) {
    std::filesystem::create_directories(dir);
    fd_ = ::open((dir / name).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
      throw LaunchError(std::string("cannot lock ") + what + " in " + dir.string() + ": " +
                        errno_text(errno));
    }
  }
  ~StateLock() {
    if (fd_ >= 0)
      ::close(fd_);  // closing releases the lock
  }
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace dojo::launch
