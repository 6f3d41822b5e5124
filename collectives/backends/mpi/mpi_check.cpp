#include "collectives/backends/mpi/mpi_check.h"

#include <string>

#include "collectives/error.h"

namespace dojo::collectives::mpi {

int world_rank() {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized)
    return -1;
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

void check(int rc, const char* call, std::source_location where) {
  if (rc == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) {
    std::snprintf(text, sizeof(text), "MPI error %d", rc);
  }
  CollectiveContext context;
  context.op = call;
  context.rank = world_rank();
  context.host = this_host();
  context.file = where.file_name();
  context.line = static_cast<int>(where.line());
  throw CollectiveError(context, text);
}

}  // namespace dojo::collectives::mpi
