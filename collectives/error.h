#pragma once
// Errors raised by collective communication.

#include <cstdint>
#include <string>

#include "common/error.h"

namespace dojo::collectives {

/// Where and in which operation a collective failed. Every field is filled as
/// far as it is known; `what()` states all of them.
struct CollectiveContext {
  std::string op;         ///< "all_reduce", "MPI_Init", ...
  std::uint64_t seq = 0;  ///< the communicator's sequence number of the op (0: none)
  std::uint64_t bytes = 0;
  int rank = -1;
  std::string host;
  std::string file;  ///< source file:line of the failing call
  int line = 0;
};

class CollectiveError : public Error {
 public:
  CollectiveError(CollectiveContext context, const std::string& reason);
  const CollectiveContext& context() const { return context_; }

 private:
  CollectiveContext context_;
};

}  // namespace dojo::collectives
