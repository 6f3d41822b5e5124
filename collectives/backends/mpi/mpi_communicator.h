#pragma once
// The mpi backend: host memory, MPI collectives, and inside a node an
// all-reduce through an MPI-3 shared-memory window.

#include <mpi.h>

#include <memory>
#include <vector>

#include "collectives/backends/mpi/mpi_bootstrap.h"
#include "collectives/backends/mpi/shared_window.h"
#include "collectives/communicator.h"
#include "collectives/op_queue.h"

namespace dojo::collectives::mpi {

class MpiCommunicator : public Communicator {
 public:
  /// Collective over the bootstrap's ranks.
  MpiCommunicator(MpiBootstrap& bootstrap, const CommunicatorOptions& options);
  ~MpiCommunicator() override;

  MemoryKind memory() const override { return MemoryKind::kHost; }
  std::unique_ptr<CommBuffer> allocate(std::size_t bytes) override;
  void abort(const std::string& reason) override;

  /// Nodes and slices of the hierarchical all-reduce (for tests and reports).
  const Topology& topology() const { return topology_; }

 protected:
  void start_all_reduce(std::shared_ptr<WorkState> work, const void* send, void* recv,
                        std::size_t count, DType dtype, ReduceOp op) override;
  void start_buffer_all_reduce(std::shared_ptr<WorkState> work, CommBuffer& buffer,
                               std::size_t offset_bytes, std::size_t count, DType dtype,
                               ReduceOp op) override;
  void start_broadcast(std::shared_ptr<WorkState> work, void* data, std::size_t count, DType dtype,
                       int root) override;
  void start_all_gather(std::shared_ptr<WorkState> work, const void* send, void* recv,
                        std::size_t count, DType dtype) override;
  void start_barrier(std::shared_ptr<WorkState> work) override;

 private:
  class Buffer;
  void build_topology();
  void release(SharedWindow* window);
  /// True when ranks share a node with others, so the window path applies.
  bool use_shared_memory() const { return shared_; }

  MPI_Comm comm_ = MPI_COMM_NULL;
  Topology topology_;
  bool shared_ = false;
  std::unique_ptr<SharedWindow> staging_;
  std::uint64_t staging_parity_ = 0;  // which half of staging_ the next piece uses
  std::size_t piece_bytes_ = 0;       // cache-sized pieces of every shared all-reduce
  std::vector<std::unique_ptr<SharedWindow>> windows_;  // of live buffers
  std::shared_ptr<bool> alive_;
  bool abandoned_ = false;  ///< a buffer was dropped while an error unwound this rank
  std::unique_ptr<OpQueue> queue_;
};

/// Registers "mpi" with the communicator registry.
void register_mpi_backend();

}  // namespace dojo::collectives::mpi
