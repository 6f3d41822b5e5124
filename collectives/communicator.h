#pragma once
// Communicator: the one interface to collective communication, whatever the
// backend (MPI on host memory, NCCL on device memory).
//
// Every collective has a deadline (options.timeout, default 300 s, like
// PyTorch's NCCL process-group timeout of 10 min but shorter than nothing an
// admin would wait for). When it expires the operation fails with a
// CollectiveError naming the operation, its sequence number, its bytes, this
// rank and host, and the backend is aborted so that the process exits
// instead of hanging (abort_on_deadline).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "collectives/bootstrap.h"
#include "collectives/dtype.h"
#include "collectives/flight_recorder.h"
#include "collectives/work.h"

namespace dojo::collectives {

class Watchdog;

struct CommunicatorOptions {
  /// Deadline of every collective.
  std::chrono::duration<double> timeout{300.0};
  /// On an expired deadline, abort the backend (MPI_Abort / ncclCommAbort)
  /// after failing the operation. Off only in tests that inspect the error.
  bool abort_on_deadline = true;
  /// MPI: bytes per rank of the shared-memory staging area through which
  /// user buffers are all-reduced inside a node, in pieces of half of it.
  /// 0: sized from the CPU's L2 cache (two pieces of half a core's L2).
  std::size_t staging_bytes = 0;
  /// MPI, for tests on one host: split the ranks into "nodes" of these sizes
  /// (consecutive ranks) instead of by shared-memory domain.
  std::vector<int> virtual_nodes;
  /// NCCL: the CUDA device; -1 picks local_rank % visible devices.
  int device = -1;
};

enum class MemoryKind { kHost, kDevice };

/// Memory allocated by a communicator for the fastest all-reduce it can do:
/// a shared-memory window for MPI, device memory for NCCL.
class CommBuffer {
 public:
  virtual ~CommBuffer() = default;
  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }

  /// Copies `bytes` from host memory into the buffer at `offset` (a device
  /// copy for device memory). Throws dojo::Error for a range outside it.
  virtual void write(std::size_t offset, const void* host, std::size_t bytes);
  /// Copies `bytes` at `offset` out to host memory.
  virtual void read(std::size_t offset, void* host, std::size_t bytes) const;

 protected:
  CommBuffer(void* data, std::size_t bytes) : data_(data), bytes_(bytes) {}

 private:
  void* data_;
  std::size_t bytes_;
};

class Communicator {
 public:
  virtual ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  const std::string& backend() const { return backend_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  const std::string& host() const { return host_; }
  const CommunicatorOptions& options() const { return options_; }
  /// Where buffers passed to this communicator must live.
  virtual MemoryKind memory() const = 0;
  /// Whether the CPU can read and write memory from allocate() directly (a
  /// CPU engine computes gradients in place there): host memory, or device
  /// memory the host can address.
  virtual bool host_can_access() const { return memory() == MemoryKind::kHost; }

  /// Number of collectives issued so far; the n-th has sequence number n.
  std::uint64_t sequence() const { return sequence_.load(); }
  /// The last 1,000 collectives of this communicator, for hang reports.
  const FlightRecorder& flight_recorder() const { return flight_; }

  /// recv = op over all ranks of send (count elements). send == recv is in place.
  Work all_reduce_async(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op);
  /// In place on elements of a buffer from allocate(), starting at offset_bytes;
  /// `bucket` names the gradient bucket in the flight recorder (-1: none).
  Work all_reduce_async(CommBuffer& buffer, std::size_t offset_bytes, std::size_t count,
                        DType dtype, ReduceOp op, int bucket = -1);
  /// Every rank's data becomes root's data.
  Work broadcast_async(void* data, std::size_t count, DType dtype, int root);
  /// recv (size() * count elements) = every rank's send, by rank.
  Work all_gather_async(const void* send, void* recv, std::size_t count, DType dtype);
  Work barrier_async();

  // Blocking forms: issue, then wait (rethrowing the operation's error).
  void all_reduce(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op) {
    all_reduce_async(send, recv, count, dtype, op).wait();
  }
  void broadcast(void* data, std::size_t count, DType dtype, int root) {
    broadcast_async(data, count, dtype, root).wait();
  }
  void all_gather(const void* send, void* recv, std::size_t count, DType dtype) {
    all_gather_async(send, recv, count, dtype).wait();
  }
  void barrier() { barrier_async().wait(); }

  // The control plane: small exchanges of host memory (batch shares, the
  // step report and stop agreement, evaluation totals, checkpoint bytes).
  // The collectives above hand their pointers to the backend as they are,
  // so on a device-memory backend they must point into device memory, and
  // check_memory() refuses any that does not. These copy host data through a
  // staging buffer the communicator owns, ordered with its other work; on a
  // host-memory backend they are the plain collectives.
  class ControlWork;
  /// recv (size() * count elements, host memory) = every rank's send, by rank.
  /// recv is written when wait() returns.
  ControlWork control_all_gather_async(const void* send, void* recv, std::size_t count,
                                       DType dtype);
  void control_all_gather(const void* send, void* recv, std::size_t count, DType dtype);
  /// In place on host memory.
  void control_all_reduce(void* data, std::size_t count, DType dtype, ReduceOp op);
  /// Every rank's host data becomes root's.
  void control_broadcast(void* data, std::size_t count, DType dtype, int root);

  /// Allocates `bytes` of communication memory. Collective: every rank calls
  /// it in the same order with the same size.
  virtual std::unique_ptr<CommBuffer> allocate(std::size_t bytes) = 0;

  // Element-wise helpers on memory of this communicator's kind, ordered with
  // its collectives: host loops for mpi, CUDA kernels on the communicator's
  // stream for nccl. The bucketer uses them, so it works on either memory.
  virtual void scale(float* data, std::size_t count, float factor);
  virtual void encode_bf16(const float* in, std::uint16_t* out, std::size_t count);
  virtual void decode_bf16(const std::uint16_t* in, float* out, std::size_t count);
  virtual void zero(void* data, std::size_t bytes);
  /// Waits until everything issued so far has taken effect in memory (a
  /// stream synchronisation for nccl; nothing for host memory).
  virtual void synchronize() {}

  /// Device-memory backends: the CUDA device of this rank's buffers; -1 for
  /// host memory.
  virtual int device() const { return -1; }
  /// Device-memory backends: this communicator's later operations wait for
  /// `event` (a cudaEvent_t recorded on the producer's stream, e.g. after
  /// backward wrote a gradient). Host memory has nothing to order.
  virtual void wait_event(void* event) { (void)event; }

  /// Tears the backend down so that no rank hangs; `reason` is printed. For
  /// MPI this ends the whole job (MPI_Abort).
  virtual void abort(const std::string& reason) = 0;

  /// Throws CollectiveError unless [data, data + bytes) is memory this
  /// backend's collectives may be handed (device memory of this rank's device
  /// for nccl). Every collective that takes a pointer calls it first.
  virtual void check_memory(const void* data, std::size_t bytes, const char* op) const;

 protected:
  Communicator(std::string backend, const Bootstrap& bootstrap, CommunicatorOptions options);

  /// Starts the tracking of the deadline; call at the end of the derived
  /// constructor, and stop_watchdog() first thing in the derived destructor.
  void start_watchdog();
  void stop_watchdog();

  // Backends implement these; arguments are already validated and `work`
  // carries the context (op, sequence number, bytes) and the deadline.
  virtual void start_all_reduce(std::shared_ptr<WorkState> work, const void* send, void* recv,
                                std::size_t count, DType dtype, ReduceOp op) = 0;
  virtual void start_buffer_all_reduce(std::shared_ptr<WorkState> work, CommBuffer& buffer,
                                       std::size_t offset_bytes, std::size_t count, DType dtype,
                                       ReduceOp op) = 0;
  virtual void start_broadcast(std::shared_ptr<WorkState> work, void* data, std::size_t count,
                               DType dtype, int root) = 0;
  virtual void start_all_gather(std::shared_ptr<WorkState> work, const void* send, void* recv,
                                std::size_t count, DType dtype) = 0;
  virtual void start_barrier(std::shared_ptr<WorkState> work) = 0;

  /// Error context for an operation of this communicator (sequence 0).
  CollectiveContext context(const char* op, std::uint64_t bytes) const;

 private:
  std::shared_ptr<WorkState> new_work(const char* op, std::uint64_t bytes, const char* dtype,
                                      int bucket = -1);
  void on_deadline(const std::shared_ptr<WorkState>& work);

  std::string backend_;
  int rank_;
  int size_;
  int local_rank_;
  int local_size_;
  std::string host_;
  CommunicatorOptions options_;
  std::atomic<std::uint64_t> sequence_{0};
  std::atomic<bool> broken_{false};
  std::unique_ptr<Watchdog> watchdog_;
  FlightRecorder flight_;
  bool flight_enabled_ = true;

  // Staging buffers of the control plane (device-memory backends only): one
  // per control operation in flight, reused.
  class StagingLease;
  std::shared_ptr<CommBuffer> take_staging(std::size_t bytes);
  /// `finished`: the operation that used it is over (not failed).
  void return_staging(std::shared_ptr<CommBuffer> buffer, bool finished);
  /// Staging buffers up to this size are kept for reuse.
  static constexpr std::size_t kPooledStagingBytes = std::size_t{1} << 20;
  std::mutex staging_mutex_;
  std::vector<std::shared_ptr<CommBuffer>> staging_;
};

/// The handle of a control-plane collective: wait() waits for the operation,
/// then copies its result into the caller's host memory.
class Communicator::ControlWork {
 public:
  ControlWork() = default;
  ControlWork(ControlWork&& other) noexcept;
  ControlWork& operator=(ControlWork&& other) noexcept;
  ControlWork(const ControlWork&) = delete;
  ControlWork& operator=(const ControlWork&) = delete;
  /// Returns the staging buffer to the communicator, waiting for the
  /// operation first when it was not waited for.
  ~ControlWork();

  /// Waits, then writes the result into the host memory given at the start.
  /// Throws the operation's error.
  void wait();
  const Work& work() const { return work_; }

 private:
  friend class Communicator;
  Communicator* comm_ = nullptr;
  Work work_;
  std::shared_ptr<CommBuffer> staging_;  // null: the result is already in place
  std::size_t offset_ = 0;
  void* result_ = nullptr;
  std::size_t bytes_ = 0;
  bool done_ = false;
};

using BackendFactory =
    std::function<std::unique_ptr<Communicator>(Bootstrap&, const CommunicatorOptions&)>;

/// Registers a backend under `name` (replacing one of the same name).
void register_backend(const std::string& name, BackendFactory factory);
/// The names of the registered backends.
std::vector<std::string> backend_names();

/// Creates a communicator of backend `name`, or "auto": nccl when it is built
/// and every rank sees a GPU, else mpi (all ranks agree through `bootstrap`).
/// Collective over the bootstrap's ranks. Throws dojo::Error for an unknown name.
std::unique_ptr<Communicator> create_communicator(std::string_view name, Bootstrap& bootstrap,
                                                  const CommunicatorOptions& options = {});

/// Registers the backends built into this library (mpi; nccl when built with
/// CUDA). Called by create_communicator; idempotent. Defined by the one
/// backends/builtin_*.cpp file the build selects.
void register_builtin_backends();

/// True when this rank can use the nccl backend (built with CUDA, and a GPU
/// is visible). Defined next to register_builtin_backends().
bool this_rank_has_gpu();

/// "nccl" when every rank of `bootstrap` has a GPU, else "mpi". Collective.
std::string resolve_auto_backend(Bootstrap& bootstrap);

}  // namespace dojo::collectives
