#pragma once
// The one check helper for MPI return codes.

#include <mpi.h>

#include <source_location>

namespace dojo::collectives::mpi {

/// Throws CollectiveError naming `call`, the MPI error text, this rank, this
/// host and the caller's file:line unless `rc` is MPI_SUCCESS. The
/// communicator's error handler must be MPI_ERRORS_RETURN for codes to arrive.
void check(int rc, const char* call, std::source_location where = std::source_location::current());

/// This process's rank in MPI_COMM_WORLD, or -1 before MPI_Init / after finalize.
int world_rank();

}  // namespace dojo::collectives::mpi
