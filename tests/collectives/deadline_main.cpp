// Rank 1 skips a collective that rank 0 enters. With "raise" the deadline
// (2 s) fails rank 0's operation with a CollectiveError, printed as
// "caught: ..." before the job is ended with exit code 7; with "abort" the
// communicator aborts the job itself.
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "collectives/backends/mpi/mpi_bootstrap.h"
#include "collectives/communicator.h"

using namespace dojo::collectives;

int main(int argc, char** argv) {
  mpi::MpiSession session(&argc, &argv);
  const bool raise = argc > 1 && std::strcmp(argv[1], "raise") == 0;
  mpi::MpiBootstrap bootstrap;
  CommunicatorOptions options;
  options.timeout = std::chrono::seconds(2);
  options.abort_on_deadline = !raise;
  auto comm = create_communicator("mpi", bootstrap, options);
  std::vector<float> data(1024, 1.0f);
  if (comm->rank() == 0) {
    try {
      Work work = comm->all_reduce_async(data.data(), data.data(), data.size(), DType::kF32,
                                         ReduceOp::kSum);
      try {
        work.wait(std::chrono::milliseconds(100));  // the caller's own, shorter wait
      } catch (const CollectiveError& early) {
        std::printf("early: %s\n", early.what());
      }
      work.wait();
      std::printf("no error\n");
    } catch (const CollectiveError& e) {
      std::printf("caught: %s\n", e.what());
      std::fflush(stdout);
      MPI_Abort(MPI_COMM_WORLD, 7);
    }
  } else {
    sleep(60);  // skips the collective; the abort ends this rank too
  }
  return 0;
}
