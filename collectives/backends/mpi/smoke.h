#pragma once
// A quick end-to-end check that MPI ranks can find each other and reduce.

#include <mpi.h>

#include <string>
#include <vector>

namespace dojo::collectives::mpi {

struct SmokeReport {
  int rank = 0;
  int size = 0;
  long long rank_sum = 0;          ///< all-reduced sum of ranks
  long long expected_sum = 0;      ///< size * (size - 1) / 2
  std::vector<std::string> hosts;  ///< every rank's host, by rank
  bool ok() const { return rank_sum == expected_sum; }
};

/// All-reduces the ranks (closed form n(n-1)/2), all-gathers host names and
/// runs a barrier on `comm`. Throws CollectiveError on an MPI failure.
SmokeReport run_smoke(MPI_Comm comm);

}  // namespace dojo::collectives::mpi
