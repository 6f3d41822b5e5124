// dojo-mpi-smoke: run under mpirun; every rank checks that an all-reduce of
// the ranks gives n(n-1)/2. Exit 0 when it does on every rank, 1 otherwise.
#include <mpi.h>

#include <cstdio>
#include <exception>

#include "collectives/backends/mpi/smoke.h"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int status = 0;
  try {
    const auto report = dojo::collectives::mpi::run_smoke(MPI_COMM_WORLD);
    std::printf("rank %d/%d on %s: sum of ranks %lld (expected %lld) %s\n", report.rank,
                report.size, report.hosts[report.rank].c_str(), report.rank_sum,
                report.expected_sum, report.ok() ? "ok" : "WRONG");
    status = report.ok() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dojo-mpi-smoke: %s\n", e.what());
    status = 1;
  }
  std::fflush(stdout);
  MPI_Finalize();
  return status;
}
