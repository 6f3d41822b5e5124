#include "collectives/backends/mpi/shared_window.h"

#include <algorithm>
#include <cstring>

#include "collectives/backends/mpi/mpi_check.h"
#include "collectives/backends/mpi/mpi_types.h"
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
               std::size_t count, DType dtype, ReduceOp op, const char* in, char* out) {
  const std::size_t element = size_of(dtype);
  if (in != nullptr)
    std::memcpy(window.local() + offset_bytes, in, count * element);
  window.sync();

  const bool one_node = t.nodes == 1;
  const double avg_scale = op == ReduceOp::kAvg ? 1.0 / t.world_size : 1.0;
  if (t.node_rank < t.slices) {
    const std::size_t begin = slice_begin(count, t.slices, t.node_rank, element);
    const std::size_t end = slice_begin(count, t.slices, t.node_rank + 1, element);
    const std::size_t at = offset_bytes + begin * element;
    std::vector<const void*> sources(static_cast<std::size_t>(t.node_size));
    for (int p = 0; p < t.node_size; ++p)
      sources[static_cast<std::size_t>(p)] = window.peer(p) + at;
    char* slice = window.local() + at;
    reduce(slice, sources.data(), sources.size(), end - begin, dtype, op,
           one_node ? avg_scale : 1.0);
    if (!one_node) {
      all_reduce(MPI_IN_PLACE, slice, end - begin, dtype, op, t.cross_comm);
      if (avg_scale != 1.0)
        scale_in_place(slice, end - begin, dtype, avg_scale);
    }
  }
  window.sync();

  for (int s = 0; s < t.slices; ++s) {
    if (out == nullptr && s == t.node_rank)
      continue;  // already in place
    const std::size_t begin = slice_begin(count, t.slices, s, element);
    const std::size_t end = slice_begin(count, t.slices, s + 1, element);
    if (end == begin)
      continue;
    const char* from = window.peer(s) + offset_bytes + begin * element;
    char* to =
        out != nullptr ? out + begin * element : window.local() + offset_bytes + begin * element;
    std::memcpy(to, from, (end - begin) * element);
  }
  // Nobody may overwrite its segment while a peer still copies from it.
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
                       const void* in, void* out) {
  const std::size_t element = size_of(dtype);
  const std::size_t room = (window.bytes() - std::min(window.bytes(), offset_bytes)) / element;
  if (count == 0)
    return;
  if (room == 0)
    throw Error("shared all-reduce: offset is past the end of the window");
  const std::size_t piece = in != nullptr ? room : count;  // in-window data is never split
  for (std::size_t done = 0; done < count; done += piece) {
    const std::size_t n = std::min(piece, count - done);
    one_piece(window, topology, offset_bytes, n, dtype, op,
              in != nullptr ? static_cast<const char*>(in) + done * element : nullptr,
              out != nullptr ? static_cast<char*>(out) + done * element : nullptr);
  }
}

}  // namespace dojo::collectives::mpi
