#include "collectives/backends/nccl/nccl_communicator.h"

#include <cstdio>
#include <cstring>

#include "collectives/backends/nccl/kernels.h"
#include "collectives/cuda/cuda_check.h"
#include "collectives/poll_backoff.h"
#include "common/error.h"

namespace dojo::collectives::nccl {
namespace {

using cuda::check_cuda;
using cuda::visible_devices;

/// As check_cuda, for NCCL; ncclInProgress counts as success (non-blocking comms).
void check_nccl(ncclResult_t rc, const char* call,
                std::source_location where = std::source_location::current()) {
  if (rc == ncclSuccess || rc == ncclInProgress)
    return;
  cuda::fail_call(call, std::string("NCCL: ") + ncclGetErrorString(rc), where);
}

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return ncclFloat32;
    case DType::kF16:
      return ncclFloat16;
    case DType::kBF16:
      return ncclBfloat16;
    case DType::kF64:
      return ncclFloat64;
    case DType::kI32:
      return ncclInt32;
    case DType::kI64:
      return ncclInt64;
  }
  return ncclUint8;
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return ncclSum;
    case ReduceOp::kAvg:
      return ncclAvg;
    case ReduceOp::kMin:
      return ncclMin;
    case ReduceOp::kMax:
      return ncclMax;
  }
  return ncclSum;
}

// Device memory of the communicator. Copies in and out run on the
// communicator's stream, so they are ordered with its collectives and
// kernels: a write lands before the next all-reduce reads it, and a read
// waits for the last one to finish.
class DeviceBuffer : public CommBuffer {
 public:
  DeviceBuffer(void* data, std::size_t bytes, cudaStream_t stream)
      : CommBuffer(data, bytes), stream_(stream) {}
  ~DeviceBuffer() override { cudaFree(data()); }

  void write(std::size_t offset, const void* host, std::size_t bytes) override {
    if (offset > this->bytes() || bytes > this->bytes() - offset) {
      throw Error("write past the end of a buffer");
    }
    // From pageable memory this returns once the bytes are staged, so the
    // caller may reuse `host` at once.
    check_cuda(cudaMemcpyAsync(static_cast<char*>(data()) + offset, host, bytes,
                               cudaMemcpyHostToDevice, stream_),
               "cudaMemcpyAsync");
  }
  void read(std::size_t offset, void* host, std::size_t bytes) const override {
    if (offset > this->bytes() || bytes > this->bytes() - offset) {
      throw Error("read past the end of a buffer");
    }
    check_cuda(cudaMemcpyAsync(host, static_cast<const char*>(data()) + offset, bytes,
                               cudaMemcpyDeviceToHost, stream_),
               "cudaMemcpyAsync");
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }

 private:
  cudaStream_t stream_;
};

std::string address_text(const void* p) {
  char text[32];
  std::snprintf(text, sizeof(text), "%p", p);
  return text;
}

}  // namespace

NcclCommunicator::NcclCommunicator(Bootstrap& bootstrap, const CommunicatorOptions& options)
    : Communicator("nccl", bootstrap, options) {
  const int devices = visible_devices();
  if (devices == 0)
    throw CollectiveError(context("init", 0),
                          "the nccl backend needs a CUDA device and none is visible (use "
                          "collectives.backend: mpi, or auto to choose)");
  device_ = options.device >= 0 ? options.device : bootstrap.local_rank() % devices;
  try {
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check_cuda(cudaMalloc(&scratch_, sizeof(int)), "cudaMalloc");

    ncclUniqueId id;
    std::memset(&id, 0, sizeof(id));
    if (bootstrap.rank() == 0)
      check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    bootstrap.broadcast(&id, sizeof(id), 0);

    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    const ncclResult_t rc = ncclCommInitRankConfig(&comm_, size(), id, rank(), &config);
    settle("ncclCommInitRankConfig", rc, context("init", 0));
  } catch (...) {
    // The destructor does not run for a constructor that throws: abort a
    // half-made communicator (so peers blocked in init fail too) and free
    // what was made.
    release_after_failed_init();
    throw;
  }
  poller_ = std::thread([this] { poll(); });
  start_watchdog();
}

void NcclCommunicator::release_after_failed_init() {
  if (comm_ != nullptr && !aborted_) {
    aborted_ = true;
    ncclCommAbort(comm_);
  }
  comm_ = nullptr;
  if (scratch_ != nullptr)
    cudaFree(scratch_);
  scratch_ = nullptr;
  if (stream_ != nullptr)
    cudaStreamDestroy(stream_);
  stream_ = nullptr;
}

NcclCommunicator::~NcclCommunicator() {
  stop_watchdog();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (poller_.joinable())
    poller_.join();
  if (comm_ != nullptr && !aborted_) {
    {
      // Flush, then free; a peer that is gone turns into an abort, not a hang.
      ncclResult_t rc = ncclCommFinalize(comm_);
      ncclResult_t state = rc;
      const auto until = WorkState::Clock::now() + std::chrono::seconds(30);
      PollBackoff backoff;
      while (state == ncclInProgress && WorkState::Clock::now() < until) {
        ncclCommGetAsyncError(comm_, &state);
        std::this_thread::sleep_for(backoff.next());
      }
      if (state == ncclSuccess) {
        ncclCommDestroy(comm_);
      } else {
        ncclCommAbort(comm_);
      }
    }
  }
  if (scratch_ != nullptr)
    cudaFree(scratch_);
  if (stream_ != nullptr)
    cudaStreamDestroy(stream_);
}

void NcclCommunicator::settle(const char* call, ncclResult_t rc, const CollectiveContext& ctx) {
  const auto until = WorkState::Clock::now() +
                     std::chrono::duration_cast<WorkState::Clock::duration>(options().timeout);
  PollBackoff backoff;
  while (rc == ncclInProgress) {
    if (WorkState::Clock::now() > until) {
      aborted_ = true;
      ncclCommAbort(comm_);
      throw CollectiveError(ctx, std::string(call) + " did not finish before the deadline");
    }
    std::this_thread::sleep_for(backoff.next());
    ncclCommGetAsyncError(comm_, &rc);
  }
  if (rc != ncclSuccess) {
    throw CollectiveError(ctx, std::string(call) + ": NCCL: " + ncclGetErrorString(rc));
  }
}

void NcclCommunicator::track(std::shared_ptr<WorkState> work) {
  cudaEvent_t done = nullptr;
  check_cuda(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "cudaEventCreate");
  check_cuda(cudaEventRecord(done, stream_), "cudaEventRecord");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back(Pending{std::move(work), done});
  }
  changed_.notify_all();
}

void NcclCommunicator::poll() {
  cudaSetDevice(device_);
  PollBackoff backoff;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (stopping_ && pending_.empty())
        return;
    }
    // Asynchronous errors (a peer died, a network failure) fail everything in
    // flight. Locks are taken one at a time: issuers hold issue_mutex_ then mutex_.
    ncclResult_t async = ncclSuccess;
    {
      std::lock_guard<std::mutex> issue(issue_mutex_);
      if (!aborted_)
        ncclCommGetAsyncError(comm_, &async);
    }
    std::unique_lock<std::mutex> lock(mutex_);
    bool finished_any = false;
    while (!pending_.empty()) {
      Pending& head = pending_.front();
      if (async != ncclSuccess && async != ncclInProgress) {
        head.work->fail(std::make_exception_ptr(CollectiveError(
            head.work->context(), std::string("NCCL: ") + ncclGetErrorString(async))));
      } else if (!head.work->finished()) {
        const cudaError_t state = cudaEventQuery(head.done);
        if (state == cudaErrorNotReady)
          break;
        if (state == cudaSuccess) {
          head.work->complete();
        } else {
          head.work->fail(std::make_exception_ptr(CollectiveError(
              head.work->context(), std::string("CUDA: ") + cudaGetErrorString(state))));
        }
      }  // else: failed by its deadline, and the communicator was aborted
      cudaEventDestroy(head.done);
      pending_.pop_front();
      finished_any = true;
    }
    if (stopping_) {
      for (Pending& p : pending_)
        cudaEventDestroy(p.done);
      pending_.clear();
      return;
    }
    if (pending_.empty() || finished_any) {
      backoff.reset();
      continue;
    }
    // The oldest collective is still running: look again after a wait that
    // grows while nothing finishes, instead of spinning on the event.
    changed_.wait_for(lock, backoff.next(), [&] { return stopping_; });
  }
}

void NcclCommunicator::abort(const std::string& reason) {
  std::fprintf(stderr, "dojo: aborting the NCCL communicator: %s\n", reason.c_str());
  std::fflush(stderr);
  std::lock_guard<std::mutex> lock(issue_mutex_);
  if (comm_ != nullptr && !aborted_) {
    aborted_ = true;
    ncclCommAbort(comm_);
  }
}

void NcclCommunicator::start_all_reduce(std::shared_ptr<WorkState> work, const void* send,
                                        void* recv, std::size_t count, DType dtype, ReduceOp op) {
  std::lock_guard<std::mutex> lock(issue_mutex_);
  if (aborted_)
    throw CollectiveError(work->context(), "the communicator was aborted");
  settle("ncclAllReduce",
         ncclAllReduce(send, recv, count, nccl_type(dtype), nccl_op(op), comm_, stream_),
         work->context());
  track(std::move(work));
}

void NcclCommunicator::start_buffer_all_reduce(std::shared_ptr<WorkState> work, CommBuffer& buffer,
                                               std::size_t offset_bytes, std::size_t count,
                                               DType dtype, ReduceOp op) {
  char* data = static_cast<char*>(buffer.data()) + offset_bytes;
  start_all_reduce(std::move(work), data, data, count, dtype, op);
}

void NcclCommunicator::start_broadcast(std::shared_ptr<WorkState> work, void* data,
                                       std::size_t count, DType dtype, int root) {
  std::lock_guard<std::mutex> lock(issue_mutex_);
  if (aborted_)
    throw CollectiveError(work->context(), "the communicator was aborted");
  settle("ncclBroadcast", ncclBroadcast(data, data, count, nccl_type(dtype), root, comm_, stream_),
         work->context());
  track(std::move(work));
}

void NcclCommunicator::start_all_gather(std::shared_ptr<WorkState> work, const void* send,
                                        void* recv, std::size_t count, DType dtype) {
  std::lock_guard<std::mutex> lock(issue_mutex_);
  if (aborted_)
    throw CollectiveError(work->context(), "the communicator was aborted");
  settle("ncclAllGather", ncclAllGather(send, recv, count, nccl_type(dtype), comm_, stream_),
         work->context());
  track(std::move(work));
}

void NcclCommunicator::start_barrier(std::shared_ptr<WorkState> work) {
  std::lock_guard<std::mutex> lock(issue_mutex_);
  if (aborted_)
    throw CollectiveError(work->context(), "the communicator was aborted");
  settle("ncclAllReduce", ncclAllReduce(scratch_, scratch_, 1, ncclInt32, ncclSum, comm_, stream_),
         work->context());
  track(std::move(work));
}

std::unique_ptr<CommBuffer> NcclCommunicator::allocate(std::size_t bytes) {
  void* data = nullptr;
  check_cuda(cudaMalloc(&data, std::max<std::size_t>(bytes, 1)), "cudaMalloc");
  return std::make_unique<DeviceBuffer>(data, bytes, stream_);
}

void NcclCommunicator::check_memory(const void* data, std::size_t bytes, const char* op) const {
  cudaPointerAttributes attributes{};
  const cudaError_t rc = cudaPointerGetAttributes(&attributes, data);
  if (rc != cudaSuccess)
    cudaGetLastError();  // clear the sticky-free error of an unknown pointer
  const bool managed = rc == cudaSuccess && attributes.type == cudaMemoryTypeManaged;
  const bool device = rc == cudaSuccess && attributes.type == cudaMemoryTypeDevice;
  if (!device && !managed) {
    throw CollectiveError(context(op, bytes),
                          "the buffer at " + address_text(data) +
                              " is host memory; NCCL reads and writes device memory only (use "
                              "memory from allocate(), or the control_* calls for host data)");
  }
  if (device && attributes.device != device_) {
    throw CollectiveError(context(op, bytes),
                          "the buffer at " + address_text(data) + " is on CUDA device " +
                              std::to_string(attributes.device) + ", not this rank's device " +
                              std::to_string(device_));
  }
}

void NcclCommunicator::scale(float* data, std::size_t count, float factor) {
  launch_scale(data, count, factor, stream_);
  check_cuda(cudaGetLastError(), "scale kernel");
}

void NcclCommunicator::encode_bf16(const float* in, std::uint16_t* out, std::size_t count) {
  launch_encode_bf16(in, out, count, stream_);
  check_cuda(cudaGetLastError(), "bf16 encode kernel");
}

void NcclCommunicator::decode_bf16(const std::uint16_t* in, float* out, std::size_t count) {
  launch_decode_bf16(in, out, count, stream_);
  check_cuda(cudaGetLastError(), "bf16 decode kernel");
}

void NcclCommunicator::zero(void* data, std::size_t bytes) {
  check_cuda(cudaMemsetAsync(data, 0, bytes, stream_), "cudaMemsetAsync");
}

void NcclCommunicator::synchronize() {
  check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

void NcclCommunicator::wait_event(void* event_handle) {
  const auto event = static_cast<cudaEvent_t>(event_handle);
  check_cuda(cudaStreamWaitEvent(stream_, event, 0), "cudaStreamWaitEvent");
}

void register_nccl_backend() {
  register_backend("nccl",
                   [](Bootstrap& bootstrap,
                      const CommunicatorOptions& options) -> std::unique_ptr<Communicator> {
                     return std::make_unique<NcclCommunicator>(bootstrap, options);
                   });
}

}  // namespace dojo::collectives::nccl
