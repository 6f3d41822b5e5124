#pragma once
// The one error idiom of dojo: every exception we throw derives from dojo::Error.
// Components derive their own kinds (ConfigError, CollectiveError, LaunchError);
// foreign return codes (MPI, NCCL, CUDA, errno) are converted at the boundary.

#include <stdexcept>
#include <string>

namespace dojo {

/// Base of every exception dojo throws. The message is complete and printable
/// as it is: callers add no context of their own beyond a prefix.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A command line that cannot be understood (unknown subcommand, bad flag).
/// The `dojo` command exits 2 on it, as it does on a ConfigError.
class UsageError : public Error {
 public:
  using Error::Error;
};

/// Returns "strerror(errnum)" as a string, thread-safe.
std::string errno_text(int errnum);

/// The host name of this machine, or "unknown-host" when it cannot be read.
std::string this_host();

}  // namespace dojo
