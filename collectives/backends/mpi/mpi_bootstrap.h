#pragma once
// The MPI rendezvous: ranks from an MPI communicator, node-local ranks from
// its shared-memory split.

#include <mpi.h>

#include "collectives/bootstrap.h"

namespace dojo::collectives::mpi {

/// Initialises MPI with MPI_THREAD_MULTIPLE (the MPI backend calls MPI from
/// its progress and watchdog threads) unless it already is, and finalises it
/// on destruction when it initialised it. Sets Open MPI's
/// mpi_yield_when_idle unless the environment sets it. Throws CollectiveError when the
/// library cannot give MPI_THREAD_MULTIPLE.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  /// Ends every rank of the job now (MPI_Abort): what a rank that cannot go
  /// on does, since the others would wait for it in their next collective
  /// (and MPI_Finalize would wait for them). Does not return.
  [[noreturn]] static void abort_job(int code);

 private:
  bool owns_ = false;
};

class MpiBootstrap : public Bootstrap {
 public:
  /// Duplicates `comm`, so our traffic never mixes with the caller's.
  explicit MpiBootstrap(MPI_Comm comm = MPI_COMM_WORLD);
  ~MpiBootstrap() override;

  std::string name() const override { return "mpi"; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  void broadcast(void* data, std::size_t bytes, int root) override;
  void all_gather(const void* in, void* out, std::size_t bytes) override;

  /// The duplicated communicator (owned by the bootstrap).
  MPI_Comm comm() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
};

}  // namespace dojo::collectives::mpi
