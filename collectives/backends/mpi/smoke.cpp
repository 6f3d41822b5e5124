#include "collectives/backends/mpi/smoke.h"

#include <cstring>

#include "collectives/backends/mpi/mpi_check.h"
#include "common/error.h"

namespace dojo::collectives::mpi {

SmokeReport run_smoke(MPI_Comm comm) {
  SmokeReport report;
  check(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(comm, &report.rank), "MPI_Comm_rank");
  check(MPI_Comm_size(comm, &report.size), "MPI_Comm_size");
  long long mine = report.rank;
  check(MPI_Allreduce(&mine, &report.rank_sum, 1, MPI_LONG_LONG, MPI_SUM, comm), "MPI_Allreduce");
  report.expected_sum = static_cast<long long>(report.size) * (report.size - 1) / 2;

  constexpr int kHostChars = 256;
  char host[kHostChars] = {};
  std::strncpy(host, this_host().c_str(), kHostChars - 1);
  std::vector<char> all(static_cast<std::size_t>(report.size) * kHostChars);
  check(MPI_Allgather(host, kHostChars, MPI_CHAR, all.data(), kHostChars, MPI_CHAR, comm),
        "MPI_Allgather");
  for (int r = 0; r < report.size; ++r)
    report.hosts.emplace_back(&all[r * kHostChars]);
  check(MPI_Barrier(comm), "MPI_Barrier");
  return report;
}

}  // namespace dojo::collectives::mpi
