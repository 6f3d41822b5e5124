// doctest under mpirun: every rank runs every test case in the same order
// (collectives must match), and the job fails when any rank fails.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <mpi.h>

#include <cstdio>

#include "collectives/backends/mpi/mpi_bootstrap.h"

int main(int argc, char** argv) {
  dojo::collectives::mpi::MpiSession session(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  doctest::Context context(argc, argv);
  context.setOption("no-colors", true);
  if (rank != 0)
    context.setOption("no-intro", true);
  const int failed = context.run() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0)
    std::printf("mpi doctest: %s on every rank\n", any_failed ? "FAILED" : "passed");
  return any_failed;
}
