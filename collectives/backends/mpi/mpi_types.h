#pragma once
// Our element types and reductions as MPI datatypes and operations.

#include <mpi.h>

#include <cstddef>

#include "collectives/dtype.h"

namespace dojo::collectives::mpi {

/// The MPI datatype of `dtype` (f16 and bf16 travel as 16-bit words).
MPI_Datatype datatype(DType dtype);

/// The MPI operation that reduces `dtype` by `op` (avg maps to sum; the
/// caller scales). f16 and bf16 get user operations that add in f32.
MPI_Op operation(DType dtype, ReduceOp op);

/// MPI_Allreduce of any count: MPI takes int counts, so more than INT_MAX
/// elements go in pieces. `send` may be MPI_IN_PLACE.
void all_reduce(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op,
                MPI_Comm comm);

}  // namespace dojo::collectives::mpi
