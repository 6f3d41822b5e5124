#include "collectives/backends/mpi/shared_window.h"

#include <algorithm>
#include <cstring>

#include "collectives/backends/mpi/mpi_check.h"
#include "collectives/backends/mpi/mpi_types.h"
#include "collectives/backends/mpi/stream_copy.h"
#include "common/error.h"

namespace dojo::collectives::mpi {
namespace {

// Slices start on 64-byte boundaries so that no two ranks write one cache line.
constexpr std::size_t kSliceAlignBytes = 64;

std::size_t slice_begin(std::size_t count, int slices, int s, std::size_t element) {
  if (s >= slices)
    return count;
  const std::size_t align = std::max<std::size_t>(1, kSliceAlignBytes / element);
  const std::size_t raw = count * static_cast<std::size_t>(s) / static_cast<std::size_t>(slices);
  return std::min(count, (raw + align - 1) / align * align);
}

void one_piece(const SharedWindow& window, const Topology& t, std::size_t offset_bytes,
               std::size_t count, DType dtype, ReduceOp op, const char* in, char* out,
               bool last_piece) {
  const std::size_t element = size_of(dtype);
  auto begin_of = [&](int s) { return slice_begin(count, t.slices, s, element); };
  // Each rank touches its input, its output and its segment: when that
  // exceeds the last-level cache, copies stream past it.
  const bool stream =
      count * element * 3 * static_cast<std::size_t>(t.node_size) > last_level_cache_bytes();
  auto copy = [stream](void* to, const void* from, std::size_t bytes) {
    if (stream) {
      stream_copy(to, from, bytes);
    } else {
      std::memcpy(to, from, bytes);
    }
  };
  const bool owns_slice = t.node_rank < t.slices;
  char* segment = window.local() + offset_bytes;

  // Peers reduce their slices straight from our segment; our own slice we
  // reduce straight from the user's buffer, so it needs no copy.
  if (in != nullptr) {
    for (int s = 0; s < t.slices; ++s) {
      if (s == t.node_rank)
        continue;
      const std::size_t b = begin_of(s);
      copy(segment + b * element, in + b * element, (begin_of(s + 1) - b) * element);
    }
  }
  window.sync();

  if (owns_slice) {
    const std::size_t b = begin_of(t.node_rank);
    const std::size_t n = begin_of(t.node_rank + 1) - b;
    std::vector<const void*> sources(static_cast<std::size_t>(t.node_size));
    for (int p = 0; p < t.node_size; ++p) {
      sources[static_cast<std::size_t>(p)] = p == t.node_rank && in != nullptr
                                                 ? in + b * element
                                                 : window.peer(p) + offset_bytes + b * element;
    }
    char* slice = segment + b * element;
    const double avg_scale = op == ReduceOp::kAvg ? 1.0 / t.world_size : 1.0;
    char* out_slice = out != nullptr ? out + b * element : nullptr;
    if (t.nodes == 1 && !stream) {
      reduce_with_copy(slice, out_slice, sources.data(), sources.size(), n, dtype, op, avg_scale);
    } else {
      reduce(slice, sources.data(), sources.size(), n, dtype, op, t.nodes == 1 ? avg_scale : 1.0);
      if (t.nodes > 1) {
        all_reduce(MPI_IN_PLACE, slice, n, dtype, op, t.cross_comm);
        if (avg_scale != 1.0)
          scale_in_place(slice, n, dtype, avg_scale);
      }
      if (out_slice != nullptr)
        copy(out_slice, slice, n * element);
    }
  }
  window.sync();

  for (int s = 0; s < t.slices; ++s) {
    if (s == t.node_rank)
      continue;  // ours is in place already
    const std::size_t b = begin_of(s);
    const std::size_t n = begin_of(s + 1) - b;
    if (n == 0)
      continue;
    char* to = out != nullptr ? out : segment;
    copy(to + b * element, window.peer(s) + offset_bytes + b * element, n * element);
  }
  // Data that lives in the window is written again by its owner (the next
  // step's gradients) as soon as the operation returns: nobody may do so
  // while a peer still copies from it. Earlier pieces of the same operation
  // and staged pieces need no such barrier: the next piece works on other
  // memory (staging alternates between two halves), and its first barrier
  // comes before anyone rewrites memory that peers read here.
  if (in == nullptr && last_piece)
    window.sync();
}

}  // namespace

SharedWindow::SharedWindow(MPI_Comm node_comm, std::size_t bytes_per_rank)
    : node_comm_(node_comm), bytes_(bytes_per_rank) {
  int size = 1;
  check(MPI_Comm_rank(node_comm, &node_rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(node_comm, &size), "MPI_Comm_size");
  // Segments of at least one page keep every rank's segment page-aligned.
  const std::size_t rounded = std::max<std::size_t>(4096, (bytes_per_rank + 4095) / 4096 * 4096);
  MPI_Info info;
  MPI_Info_create(&info);
  MPI_Info_set(info, "alloc_shared_noncontig", "true");
  void* base = nullptr;
  const int rc =
      MPI_Win_allocate_shared(static_cast<MPI_Aint>(rounded), 1, info, node_comm, &base, &window_);
  MPI_Info_free(&info);
  check(rc, "MPI_Win_allocate_shared");
  peers_.resize(static_cast<std::size_t>(size));
  for (int p = 0; p < size; ++p) {
    MPI_Aint peer_bytes = 0;
    int unit = 0;
    void* peer_base = nullptr;
    check(MPI_Win_shared_query(window_, p, &peer_bytes, &unit, &peer_base), "MPI_Win_shared_query");
    peers_[static_cast<std::size_t>(p)] = static_cast<char*>(peer_base);
  }
  check(MPI_Win_lock_all(MPI_MODE_NOCHECK, window_), "MPI_Win_lock_all");
}

SharedWindow::~SharedWindow() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized || window_ == MPI_WIN_NULL)
    return;
  MPI_Win_unlock_all(window_);
  MPI_Win_free(&window_);
}

void SharedWindow::sync() const {
  check(MPI_Win_sync(window_), "MPI_Win_sync");
  check(MPI_Barrier(node_comm_), "MPI_Barrier");
  check(MPI_Win_sync(window_), "MPI_Win_sync");
}

void shared_all_reduce(const SharedWindow& window, const Topology& topology,
                       std::size_t offset_bytes, std::size_t count, DType dtype, ReduceOp op,
                       std::size_t piece_bytes, const void* in, void* out,
                       std::uint64_t* staging_parity) {
  const std::size_t element = size_of(dtype);
  if (count == 0)
    return;
  // Pieces small enough to stay in cache: each one's copy-in, reduction and
  // gather then run out of cache rather than memory.
  if (in == nullptr) {
    const std::size_t piece = std::max<std::size_t>(1, piece_bytes / element);
    for (std::size_t done = 0; done < count; done += piece) {
      const std::size_t n = std::min(piece, count - done);
      one_piece(window, topology, offset_bytes + done * element, n, dtype, op, nullptr, nullptr,
                done + n == count);
    }
    return;
  }
  // Staging: two halves of the window, used in turn (64-byte aligned).
  const std::size_t half_bytes = window.bytes() / 2 / 64 * 64;
  const std::size_t piece = std::min(half_bytes, piece_bytes) / element;
  if (piece == 0)
    throw Error("shared all-reduce: the staging area is too small");
  for (std::size_t done = 0; done < count; done += piece) {
    const std::size_t n = std::min(piece, count - done);
    const std::size_t half = (*staging_parity)++ % 2;
    one_piece(window, topology, half * half_bytes, n, dtype, op,
              static_cast<const char*>(in) + done * element,
              out != nullptr ? static_cast<char*>(out) + done * element : nullptr, true);
  }
}

}  // namespace dojo::collectives::mpi
