// dojo-gpu-check: the nccl backend on one GPU, bootstrapped without MPI.
// Checks all-reduce, broadcast and all-gather results for every dtype and op
// and several sizes, then measures all-reduce bandwidth beside a device
// memcpy of the same bytes (the baseline: at one rank NCCL copies). Exit 0
// when every check passes.
#include <cuda_runtime_api.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "collectives/bootstrap.h"
#include "collectives/communicator.h"
#include "collectives/cuda/cuda_check.h"

using namespace dojo::collectives;
using dojo::collectives::cuda::check_cuda;

int check_gpu_training(Communicator& comm);

namespace {

int failures = 0;

void expect(bool ok, const char* what, DType t, ReduceOp op, std::size_t count) {
  if (ok)
    return;
  ++failures;
  std::printf("FAIL %s dtype=%s op=%s count=%zu\n", what, to_string(t), to_string(op), count);
}

std::vector<unsigned char> pattern(DType t, std::size_t count) {
  std::vector<unsigned char> bytes(count * size_of(t));
  for (std::size_t i = 0; i < count; ++i)
    store_element(bytes.data(), i, t, static_cast<double>(i % 7 + 1));
  return bytes;
}

void check_correctness(Communicator& comm) {
  const DType types[] = {DType::kF32, DType::kF16, DType::kBF16,
                         DType::kF64, DType::kI32, DType::kI64};
  for (DType t : types) {
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAvg, ReduceOp::kMin, ReduceOp::kMax}) {
      if (op == ReduceOp::kAvg && !is_floating(t))
        continue;
      for (std::size_t count :
           {std::size_t{0}, std::size_t{1}, std::size_t{1021}, std::size_t{1} << 20}) {
        const auto input = pattern(t, count);
        auto send = comm.allocate(input.size());
        auto recv = comm.allocate(input.size());
        send->write(0, input.data(), input.size());
        comm.all_reduce(send->data(), recv->data(), count, t, op);
        std::vector<unsigned char> output(input.size());
        recv->read(0, output.data(), output.size());
        // One rank: every op returns the input itself.
        expect(output == input, "all_reduce", t, op, count);
        comm.all_reduce(send->data(), send->data(), count, t, op);  // in place
        send->read(0, output.data(), output.size());
        expect(output == input, "all_reduce in place", t, op, count);
      }
    }
    const auto input = pattern(t, 4099);
    auto buffer = comm.allocate(input.size());
    buffer->write(0, input.data(), input.size());
    comm.broadcast(buffer->data(), 4099, t, 0);
    std::vector<unsigned char> output(input.size());
    buffer->read(0, output.data(), output.size());
    expect(output == input, "broadcast", t, ReduceOp::kSum, 4099);
    auto gathered = comm.allocate(input.size());
    comm.all_gather(buffer->data(), gathered->data(), 4099, t);
    gathered->read(0, output.data(), output.size());
    expect(output == input, "all_gather", t, ReduceOp::kSum, 4099);
  }
  comm.barrier();
}

void measure_bandwidth(Communicator& comm, cudaStream_t stream) {
  std::printf(
      "# nccl all_reduce at 1 rank beside cudaMemcpyAsync device-to-device of the same bytes\n");
  std::printf("# %12s %12s %12s %12s %12s %8s\n", "bytes", "time_us", "algbw_GB/s", "memcpy_us",
              "memcpy_GB/s", "ratio");
  double largest_ratio = 0;
  for (std::size_t bytes = std::size_t{1} << 20; bytes <= (std::size_t{1} << 30); bytes <<= 2) {
    auto send = comm.allocate(bytes);
    auto recv = comm.allocate(bytes);
    const int iterations = 20;
    auto time = [&](auto body) {
      body();
      check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < iterations; ++i)
        body();
      check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
             iterations;
    };
    const double ours = time([&] {
      comm.all_reduce_async(send->data(), recv->data(), bytes / 4, DType::kF32, ReduceOp::kSum)
          .wait();
    });
    const double copy = time([&] {
      check_cuda(
          cudaMemcpyAsync(recv->data(), send->data(), bytes, cudaMemcpyDeviceToDevice, stream),
          "cudaMemcpyAsync");
      check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    });
    std::printf("  %12zu %12.1f %12.1f %12.1f %12.1f %8.2f\n", bytes, ours * 1e6,
                bytes / ours / 1e9, copy * 1e6, bytes / copy / 1e9, copy / ours);
    largest_ratio = copy / ours;
  }
  std::printf(
      "nccl 1-rank all-reduce against a device memcpy at 1 GiB: %.2f (goal: at least 0.9)\n",
      largest_ratio);
}

}  // namespace

int main() {
  const int devices = cuda::visible_devices();
  std::printf("dojo-gpu-check: %d CUDA device(s) visible\n", devices);
  if (devices == 0) {
    std::printf("dojo-gpu-check: no GPU; nothing to check\n");
    return 2;
  }
  cudaDeviceProp properties{};
  check_cuda(cudaGetDeviceProperties(&properties, 0), "cudaGetDeviceProperties");
  std::printf("device 0: %s, %.1f GiB\n", properties.name,
              properties.totalGlobalMem / 1073741824.0);

  // NCCL checks every pointer it is given (scripts/gpu-check exports it too):
  // host memory fails the call instead of faulting on a machine without HMM.
  setenv("NCCL_CHECK_POINTERS", "1", 0);
  std::printf("NCCL_CHECK_POINTERS=%s\n", std::getenv("NCCL_CHECK_POINTERS"));

  StaticBootstrap bootstrap(0, 1, 0, 1);
  CommunicatorOptions options;
  options.timeout = std::chrono::seconds(60);
  auto comm = create_communicator("nccl", bootstrap, options);
  std::printf("backend %s on device %d\n", comm->backend().c_str(), 0);
  check_correctness(*comm);
  std::printf("correctness: %s (%d failures), %llu collectives\n",
              failures == 0 ? "passed" : "FAILED", failures,
              static_cast<unsigned long long>(comm->sequence()));
  failures += check_gpu_training(*comm);
  cudaStream_t stream;
  check_cuda(cudaStreamCreate(&stream), "cudaStreamCreate");
  measure_bandwidth(*comm, stream);
  cudaStreamDestroy(stream);
  return failures == 0 ? 0 : 1;
}
