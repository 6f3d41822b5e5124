#include "collectives/backends/mpi/mpi_communicator.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "collectives/backends/mpi/mpi_check.h"
#include "collectives/backends/mpi/mpi_types.h"
#include "collectives/backends/mpi/stream_copy.h"
#include "common/error.h"

namespace dojo::collectives::mpi {

/// Communication memory: a shared window when ranks share a node, else plain
/// host memory. Must not outlive its communicator.
class MpiCommunicator::Buffer : public CommBuffer {
 public:
  Buffer(MpiCommunicator& owner, SharedWindow* window, std::size_t bytes)
      : CommBuffer(window->local(), bytes), owner_(&owner), alive_(owner.alive_), window_(window) {}
  Buffer(std::unique_ptr<char[]> memory, std::size_t bytes)
      : CommBuffer(memory.get(), bytes), memory_(std::move(memory)) {}
  ~Buffer() override {
    if (window_ == nullptr || !*alive_)
      return;
    // Releasing a window is collective; while an error unwinds this rank the
    // others may be blocked in a collective, so the window is left to exit.
    if (std::uncaught_exceptions() > 0) {
      owner_->abandoned_ = true;
      return;
    }
    owner_->release(window_);
  }
  SharedWindow* window() const { return window_; }

 private:
  MpiCommunicator* owner_ = nullptr;
  std::shared_ptr<bool> alive_;
  SharedWindow* window_ = nullptr;
  std::unique_ptr<char[]> memory_;
};

MpiCommunicator::MpiCommunicator(MpiBootstrap& bootstrap, const CommunicatorOptions& options)
    : Communicator("mpi", bootstrap, options), alive_(std::make_shared<bool>(true)) {
  int level = 0;
  MPI_Query_thread(&level);
  if (level < MPI_THREAD_MULTIPLE) {
    throw CollectiveError(context("init", 0),
                          "the mpi backend needs MPI initialised with MPI_THREAD_MULTIPLE "
                          "(use dojo::collectives::mpi::MpiSession)");
  }
  check(MPI_Comm_dup(bootstrap.comm(), &comm_), "MPI_Comm_dup");
  check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  build_topology();
  if (shared_) {
    const std::size_t staging =
        options.staging_bytes != 0 ? options.staging_bytes : default_staging_bytes();
    staging_ = std::make_unique<SharedWindow>(topology_.node_comm, staging);
    piece_bytes_ = std::max<std::size_t>(staging / 2 / 64 * 64, 64);
  }
  queue_ = std::make_unique<OpQueue>();
  start_watchdog();
}

MpiCommunicator::~MpiCommunicator() {
  stop_watchdog();
  *alive_ = false;
  const bool idle = queue_->drain(std::chrono::seconds(5));
  queue_.reset();
  // Freeing windows and communicators is collective: not while a collective
  // is stuck, nor while an error unwinds this rank (the others may wait in a
  // collective for it; the rank is about to end the job). They go with the
  // process.
  if (!idle || abandoned_ || std::uncaught_exceptions() > 0) {
    for (auto& window : windows_)
      (void)window.release();
    (void)staging_.release();
    return;
  }
  windows_.clear();
  staging_.reset();
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized)
    return;
  if (topology_.cross_comm != MPI_COMM_NULL)
    MPI_Comm_free(&topology_.cross_comm);
  if (topology_.node_comm != MPI_COMM_NULL)
    MPI_Comm_free(&topology_.node_comm);
  MPI_Comm_free(&comm_);
}

void MpiCommunicator::build_topology() {
  Topology& t = topology_;
  t.world_size = size();
  if (!options().virtual_nodes.empty()) {
    // Test layouts: consecutive ranks form nodes of the given sizes.
    int total = 0;
    int color = -1;
    for (std::size_t i = 0; i < options().virtual_nodes.size(); ++i) {
      const int n = options().virtual_nodes[i];
      if (n < 1)
        throw CollectiveError(context("init", 0), "virtual node sizes must be >= 1");
      if (rank() >= total && rank() < total + n)
        color = static_cast<int>(i);
      total += n;
    }
    if (total != size()) {
      throw CollectiveError(context("init", 0), "virtual nodes hold " + std::to_string(total) +
                                                    " ranks but the job has " +
                                                    std::to_string(size()));
    }
    check(MPI_Comm_split(comm_, color, rank(), &t.node_comm), "MPI_Comm_split");
  } else {
    check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank(), MPI_INFO_NULL, &t.node_comm),
          "MPI_Comm_split_type");
  }
  check(MPI_Comm_set_errhandler(t.node_comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  MPI_Comm_rank(t.node_comm, &t.node_rank);
  MPI_Comm_size(t.node_comm, &t.node_size);

  int fewest = 0;
  int most = 0;
  int leaders = 0;
  const int is_leader = t.node_rank == 0 ? 1 : 0;
  check(MPI_Allreduce(&t.node_size, &fewest, 1, MPI_INT, MPI_MIN, comm_), "MPI_Allreduce");
  check(MPI_Allreduce(&t.node_size, &most, 1, MPI_INT, MPI_MAX, comm_), "MPI_Allreduce");
  check(MPI_Allreduce(&is_leader, &leaders, 1, MPI_INT, MPI_SUM, comm_), "MPI_Allreduce");
  t.nodes = leaders;
  t.slices = fewest;
  shared_ = most > 1;
  if (t.nodes > 1 && shared_) {
    // Ranks that own a slice meet their counterparts of the other nodes.
    const int color = t.node_rank < t.slices ? t.node_rank : MPI_UNDEFINED;
    check(MPI_Comm_split(comm_, color, rank(), &t.cross_comm), "MPI_Comm_split");
    if (t.cross_comm != MPI_COMM_NULL) {
      check(MPI_Comm_set_errhandler(t.cross_comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    }
  }
}

std::unique_ptr<CommBuffer> MpiCommunicator::allocate(std::size_t bytes) {
  if (!shared_) {
    return std::make_unique<Buffer>(std::make_unique<char[]>(std::max<std::size_t>(bytes, 1)),
                                    bytes);
  }
  SharedWindow* window = nullptr;
  queue_->run([&] {
    windows_.push_back(std::make_unique<SharedWindow>(topology_.node_comm, bytes));
    window = windows_.back().get();
  });
  return std::make_unique<Buffer>(*this, window, bytes);
}

void MpiCommunicator::release(SharedWindow* window) {
  // Freeing a window is collective: it runs in order with the queued operations.
  queue_->run([&] { std::erase_if(windows_, [&](const auto& w) { return w.get() == window; }); });
}

void MpiCommunicator::abort(const std::string& reason) {
  std::fprintf(stderr, "dojo: aborting the MPI job: %s\n", reason.c_str());
  std::fflush(stderr);
  MPI_Abort(comm_, 1);
  std::_Exit(1);  // MPI_Abort does not return; this keeps the promise if it did
}

void MpiCommunicator::start_all_reduce(std::shared_ptr<WorkState> work, const void* send,
                                       void* recv, std::size_t count, DType dtype, ReduceOp op) {
  queue_->post(work, [this, send, recv, count, dtype, op] {
    const std::size_t bytes = count * size_of(dtype);
    if (count == 0)
      return;
    if (size() == 1) {
      if (send != recv)
        std::memmove(recv, send, bytes);
      return;
    }
    if (shared_) {
      shared_all_reduce(*staging_, topology_, 0, count, dtype, op, piece_bytes_, send, recv,
                        &staging_parity_);
      return;
    }
    mpi::all_reduce(send == recv ? MPI_IN_PLACE : send, recv, count, dtype, op, comm_);
    if (op == ReduceOp::kAvg)
      scale_in_place(recv, count, dtype, 1.0 / size());
  });
}

void MpiCommunicator::start_buffer_all_reduce(std::shared_ptr<WorkState> work, CommBuffer& buffer,
                                              std::size_t offset_bytes, std::size_t count,
                                              DType dtype, ReduceOp op) {
  auto* mine = dynamic_cast<Buffer*>(&buffer);
  if (mine == nullptr) {
    throw CollectiveError(work->context(), "the buffer was not allocated by this communicator");
  }
  SharedWindow* window = mine->window();
  char* data = static_cast<char*>(buffer.data()) + offset_bytes;
  queue_->post(work, [this, window, data, offset_bytes, count, dtype, op] {
    if (count == 0 || size() == 1)
      return;  // the data is already the result
    if (window != nullptr) {
      shared_all_reduce(*window, topology_, offset_bytes, count, dtype, op, piece_bytes_);
      return;
    }
    mpi::all_reduce(MPI_IN_PLACE, data, count, dtype, op, comm_);
    if (op == ReduceOp::kAvg)
      scale_in_place(data, count, dtype, 1.0 / size());
  });
}

void MpiCommunicator::start_broadcast(std::shared_ptr<WorkState> work, void* data,
                                      std::size_t count, DType dtype, int root) {
  queue_->post(work, [this, data, count, dtype, root] {
    const std::size_t bytes = count * size_of(dtype);
    constexpr std::size_t kPiece = std::size_t{1} << 30;
    for (std::size_t done = 0; done < bytes; done += kPiece) {
      const int n = static_cast<int>(std::min(kPiece, bytes - done));
      check(MPI_Bcast(static_cast<char*>(data) + done, n, MPI_BYTE, root, comm_), "MPI_Bcast");
    }
  });
}

void MpiCommunicator::start_all_gather(std::shared_ptr<WorkState> work, const void* send,
                                       void* recv, std::size_t count, DType dtype) {
  queue_->post(work, [this, send, recv, count, dtype] {
    const std::size_t bytes = count * size_of(dtype);
    if (bytes > INT_MAX)
      throw Error("all_gather of more than 2 GiB per rank");
    check(MPI_Allgather(send, static_cast<int>(bytes), MPI_BYTE, recv, static_cast<int>(bytes),
                        MPI_BYTE, comm_),
          "MPI_Allgather");
  });
}

void MpiCommunicator::start_barrier(std::shared_ptr<WorkState> work) {
  queue_->post(work, [this] { check(MPI_Barrier(comm_), "MPI_Barrier"); });
}

void register_mpi_backend() {
  register_backend(
      "mpi",
      [](Bootstrap& bootstrap,
         const CommunicatorOptions& options) -> std::unique_ptr<Communicator> {
        auto* mpi = dynamic_cast<MpiBootstrap*>(&bootstrap);
        if (mpi == nullptr) {
          throw Error("the mpi backend needs an MPI bootstrap, not \"" + bootstrap.name() + "\"");
        }
        return std::make_unique<MpiCommunicator>(*mpi, options);
      });
}

}  // namespace dojo::collectives::mpi
