#pragma once
// An MPI-3 shared-memory window over the ranks of one node, and the
// all-reduce that runs through it.

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "collectives/dtype.h"

namespace dojo::collectives::mpi {

/// `bytes_per_rank` of memory on each rank of `node_comm`, every rank's
/// segment addressable by every other (MPI_Win_allocate_shared). Collective
/// to create and to destroy over node_comm.
class SharedWindow {
 public:
  SharedWindow(MPI_Comm node_comm, std::size_t bytes_per_rank);
  ~SharedWindow();
  SharedWindow(const SharedWindow&) = delete;
  SharedWindow& operator=(const SharedWindow&) = delete;

  std::size_t bytes() const { return bytes_; }
  char* local() const { return peers_[static_cast<std::size_t>(node_rank_)]; }
  char* peer(int node_rank) const { return peers_[static_cast<std::size_t>(node_rank)]; }

  /// Makes every rank's writes so far visible to every other rank: a memory
  /// barrier, a node barrier, a memory barrier (the MPI-3 unified model).
  void sync() const;

 private:
  MPI_Comm node_comm_;
  MPI_Win window_ = MPI_WIN_NULL;
  int node_rank_ = 0;
  std::size_t bytes_;
  std::vector<char*> peers_;
};

/// The shape of a job for the hierarchical all-reduce.
struct Topology {
  MPI_Comm node_comm = MPI_COMM_NULL;   ///< the ranks of this node
  MPI_Comm cross_comm = MPI_COMM_NULL;  ///< same local rank on every node (local rank < slices)
  int node_rank = 0;
  int node_size = 1;
  int nodes = 1;
  int slices = 1;  ///< fewest ranks on any node: the buffer is cut in this many slices
  int world_size = 1;
};

/// All-reduces `count` elements at `offset_bytes` of every rank's window
/// segment, in place: each rank of a node reduces its slice straight from
/// its peers' segments (reduce-scatter), slices are all-reduced across
/// nodes over cross_comm, and each rank copies the other slices (all-gather).
/// The work goes in pieces of at most `piece_bytes`, which should fit in cache.
/// With `in` and `out` (user buffers; may be the same) the window is a
/// staging area instead: `offset_bytes` is ignored, the data is copied in
/// and the result out, piece by piece, alternating between the window's two
/// halves (`staging_parity` counts the pieces; every rank has the same count).
void shared_all_reduce(const SharedWindow& window, const Topology& topology,
                       std::size_t offset_bytes, std::size_t count, DType dtype, ReduceOp op,
                       std::size_t piece_bytes, const void* in = nullptr, void* out = nullptr,
                       std::uint64_t* staging_parity = nullptr);

}  // namespace dojo::collectives::mpi
