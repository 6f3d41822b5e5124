#include "collectives/backends/mpi/mpi_bootstrap.h"

#include <climits>
#include <cstdlib>

#include "collectives/backends/mpi/mpi_check.h"
#include "collectives/error.h"

namespace dojo::collectives::mpi {

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  int provided = 0;
  if (!initialized) {
    // Our progress thread waits inside MPI while the rank's compute thread
    // works. Open MPI busy-polls by default, which takes the compute thread's
    // core on a fully used node (10% of 2-rank training throughput here);
    // yielding while idle gives it back. A user's own setting wins.
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
    check(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
    owns_ = true;
  } else {
    MPI_Query_thread(&provided);
  }
  if (provided < MPI_THREAD_MULTIPLE) {
    CollectiveContext context;
    context.op = "MPI_Init_thread";
    context.rank = world_rank();
    context.host = this_host();
    throw CollectiveError(context, "the MPI library does not provide MPI_THREAD_MULTIPLE");
  }
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owns_ && !finalized)
    MPI_Finalize();
}

void MpiSession::abort_job(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for the compiler
}

MpiBootstrap::MpiBootstrap(MPI_Comm comm) {
  check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
  check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  MPI_Comm node = MPI_COMM_NULL;
  check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
        "MPI_Comm_split_type");
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
}

MpiBootstrap::~MpiBootstrap() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL)
    MPI_Comm_free(&comm_);
}

void MpiBootstrap::broadcast(void* data, std::size_t bytes, int root) {
  if (bytes > INT_MAX)
    throw Error("bootstrap broadcast of more than 2 GiB");
  check(MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, root, comm_), "MPI_Bcast");
}

void MpiBootstrap::all_gather(const void* in, void* out, std::size_t bytes) {
  if (bytes > INT_MAX)
    throw Error("bootstrap all_gather of more than 2 GiB");
  check(MPI_Allgather(in, static_cast<int>(bytes), MPI_BYTE, out, static_cast<int>(bytes), MPI_BYTE,
                      comm_),
        "MPI_Allgather");
}

}  // namespace dojo::collectives::mpi
