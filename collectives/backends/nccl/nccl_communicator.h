#pragma once
// The nccl backend: device memory, one NCCL communicator per job on its own
// CUDA stream. The communicator is non-blocking (config.blocking = 0): init
// and operations return at once and asynchronous errors are polled, so a
// deadline or a peer's failure aborts the communicator instead of hanging.

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "collectives/communicator.h"

namespace dojo::collectives::nccl {

class NcclCommunicator : public Communicator {
 public:
  /// Collective over the bootstrap's ranks: rank 0 makes the unique id and the
  /// bootstrap hands it to the others.
  NcclCommunicator(Bootstrap& bootstrap, const CommunicatorOptions& options);
  ~NcclCommunicator() override;

  MemoryKind memory() const override { return MemoryKind::kDevice; }
  std::unique_ptr<CommBuffer> allocate(std::size_t bytes) override;
  void abort(const std::string& reason) override;
  /// Refuses host memory and memory of another device (cudaPointerGetAttributes).
  void check_memory(const void* data, std::size_t bytes, const char* op) const override;

  void scale(float* data, std::size_t count, float factor) override;
  void encode_bf16(const float* in, std::uint16_t* out, std::size_t count) override;
  void decode_bf16(const std::uint16_t* in, float* out, std::size_t count) override;
  void zero(void* data, std::size_t bytes) override;
  void synchronize() override;

  int device() const override { return device_; }
  /// The stream of every operation of this communicator.
  cudaStream_t stream() const { return stream_; }
  /// Makes this communicator's later work wait for `event` (recorded on
  /// another stream, e.g. after backward produced a gradient).
  void wait_event(void* event) override;

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
  struct Pending {
    std::shared_ptr<WorkState> work;
    cudaEvent_t done;
  };
  /// Waits while NCCL reports ncclInProgress, up to the collective deadline.
  void settle(const char* call, ncclResult_t rc, const CollectiveContext& context);
  /// Records completion of the operation just enqueued and hands it to the poller.
  void track(std::shared_ptr<WorkState> work);
  /// Polls the work in flight, backing off while the oldest is unfinished.
  void poll();
  void release_after_failed_init();

  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  ncclComm_t comm_ = nullptr;
  void* scratch_ = nullptr;  // one int for barriers
  std::mutex issue_mutex_;   // NCCL calls of one communicator are issued in order
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Pending> pending_;
  bool stopping_ = false;
  bool aborted_ = false;
  std::thread poller_;
};

/// Registers "nccl" with the communicator registry.
void register_nccl_backend();

}  // namespace dojo::collectives::nccl
