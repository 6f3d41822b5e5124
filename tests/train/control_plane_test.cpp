// The trainer hands a device-memory communicator nothing but memory that
// communicator allocated: every small exchange (batch shares, the step report
// and stop agreement, evaluation totals, the checkpoint broadcast, the
// checkpoint interval) goes through the control plane. Checked on the CPU
// with a double that says it holds device memory and refuses any pointer
// outside its own allocations, as NCCL would fault on one.
#include <doctest/doctest.h>

#include <cstring>
#include <mutex>
#include <sstream>
#include <utility>

#include "collectives/bucketer.h"
#include "collectives/communicator.h"
#include "orchestrator/config/loader.h"
#include "orchestrator/train/trainer.h"
#include "tests/support.h"

using namespace dojo;
using collectives::CollectiveError;
using collectives::CommBuffer;
using collectives::DType;
using collectives::MemoryKind;
using collectives::ReduceOp;
using collectives::WorkState;

namespace {

/// The address ranges a DeviceDouble handed out, shared with its buffers
/// (which may outlive the double's own members).
struct Owned {
  std::mutex mutex;
  std::vector<std::pair<const char*, std::size_t>> ranges;

  bool holds(const void* p, std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex);
    const char* c = static_cast<const char*>(p);
    for (const auto& [begin, size] : ranges) {
      if (c >= begin && c + bytes <= begin + size)
        return true;
    }
    return false;
  }
};

class DoubleBuffer : public CommBuffer {
 public:
  DoubleBuffer(std::shared_ptr<Owned> owned, std::size_t bytes)
      : DoubleBuffer(std::move(owned), new unsigned char[std::max<std::size_t>(bytes, 1)](),
                     bytes) {}
  ~DoubleBuffer() override {
    {
      std::lock_guard<std::mutex> lock(owned_->mutex);
      auto& r = owned_->ranges;
      std::erase_if(r, [&](const auto& range) { return range.first == data(); });
    }
    delete[] static_cast<unsigned char*>(data());
  }

 private:
  DoubleBuffer(std::shared_ptr<Owned> owned, unsigned char* storage, std::size_t bytes)
      : CommBuffer(storage, bytes), owned_(std::move(owned)) {
    std::lock_guard<std::mutex> lock(owned_->mutex);
    owned_->ranges.emplace_back(reinterpret_cast<const char*>(storage),
                                std::max<std::size_t>(bytes, 1));
  }
  std::shared_ptr<Owned> owned_;
};

/// One rank of a "device-memory" backend whose collectives refuse memory it
/// did not allocate. The checks sit where a backend uses the pointers, not
/// in Communicator::check_memory, so the control plane is what is tested.
class DeviceDouble : public collectives::Communicator {
 public:
  explicit DeviceDouble(collectives::Bootstrap& bootstrap)
      : Communicator("device-double", bootstrap, {}) {}

  MemoryKind memory() const override { return MemoryKind::kDevice; }
  // Like device memory the host can address (HMM), so the CPU engine can
  // compute gradients in the fusion buffer while collectives stay strict.
  bool host_can_access() const override { return true; }
  std::unique_ptr<CommBuffer> allocate(std::size_t bytes) override {
    return std::make_unique<DoubleBuffer>(owned_, bytes);
  }
  void abort(const std::string&) override {}

  int refused = 0;      ///< collectives handed memory the double did not allocate
  int collectives = 0;  ///< collectives issued

 protected:
  void start_all_reduce(std::shared_ptr<WorkState> work, const void* send, void* recv,
                        std::size_t count, DType dtype, ReduceOp) override {
    const std::size_t bytes = count * size_of(dtype);
    require(send, bytes, *work);
    require(recv, bytes, *work);
    std::memmove(recv, send, bytes);  // one rank: every op returns the input
    work->complete();
  }
  void start_buffer_all_reduce(std::shared_ptr<WorkState> work, CommBuffer& buffer,
                               std::size_t offset_bytes, std::size_t count, DType dtype,
                               ReduceOp) override {
    require(static_cast<char*>(buffer.data()) + offset_bytes, count * size_of(dtype), *work);
    work->complete();
  }
  void start_broadcast(std::shared_ptr<WorkState> work, void* data, std::size_t count, DType dtype,
                       int) override {
    require(data, count * size_of(dtype), *work);
    work->complete();
  }
  void start_all_gather(std::shared_ptr<WorkState> work, const void* send, void* recv,
                        std::size_t count, DType dtype) override {
    const std::size_t bytes = count * size_of(dtype);
    require(send, bytes, *work);
    require(recv, bytes, *work);
    std::memmove(recv, send, bytes);
    work->complete();
  }
  void start_barrier(std::shared_ptr<WorkState> work) override {
    ++collectives;
    work->complete();
  }

 private:
  void require(const void* p, std::size_t bytes, const WorkState& work) {
    ++collectives;
    if (bytes == 0 || owned_->holds(p, bytes))
      return;
    ++refused;
    throw CollectiveError(work.context(), "memory this communicator did not allocate");
  }

  std::shared_ptr<Owned> owned_ = std::make_shared<Owned>();
};

config::JobConfig job_with(const std::vector<std::string>& settings) {
  std::vector<config::Override> overrides;
  for (const std::string& s : settings)
    overrides.push_back(config::parse_override(s));
  return config::load_job(test::configs_dir() / "jobs" / "fashion-mnist.yaml", overrides);
}

}  // namespace

TEST_CASE("the device double refuses host memory, so it can catch a trainer that passes some") {
  collectives::StaticBootstrap bootstrap(0, 1, 0, 1);
  DeviceDouble comm(bootstrap);
  double host[2] = {1, 2};
  CHECK_THROWS_WITH_AS(comm.all_reduce(host, host, 2, DType::kF64, ReduceOp::kSum),
                       doctest::Contains("memory this communicator did not allocate"),
                       CollectiveError);
  CHECK(comm.refused == 1);
  // The control plane stages the same host data through its own buffers.
  comm.control_all_reduce(host, 2, DType::kF64, ReduceOp::kSum);
  CHECK(host[0] == 1);
  CHECK(host[1] == 2);
  std::int32_t mine = 7, all = 0;
  auto gathered = comm.control_all_gather_async(&mine, &all, 1, DType::kI32);
  gathered.wait();
  CHECK(all == 7);
  std::int64_t words[3] = {4, 5, 6};
  comm.control_broadcast(words, 3, DType::kI64, 0);
  CHECK(words[2] == 6);
  CHECK(comm.refused == 1);
}

TEST_CASE("training, evaluation, checkpoints and a resume hand the communicator only its memory") {
  test::TempDir dir;
  // Checkpoints every 5 steps and at the end; shares from the launcher; a
  // second run resumes (the checkpoint broadcast); bf16 compression on.
  for (const bool bf16 : {false, true}) {
    CAPTURE(bf16);
    const std::string run = bf16 ? "bf16" : "f32";
    for (const int steps : {10, 14}) {
      const auto job =
          job_with({"resources.ranks=1", "workload.global_batch=64",
                    "workload.max_steps=" + std::to_string(steps), "workload.hidden_layers=[32]",
                    "metrics.enabled=false", "checkpoint.every_steps=5",
                    std::string("collectives.compression=") + (bf16 ? "bf16" : "none")});
      collectives::StaticBootstrap bootstrap(0, 1, 0, 1);
      DeviceDouble comm(bootstrap);
      train::WorkerOptions options;
      options.run_dir = dir.path() / run;
      options.batch_share = 64;
      std::ostringstream log;
      const train::TrainSummary summary = train::train(job, comm, options, log);
      INFO(log.str());
      CHECK(comm.refused == 0);
      CHECK(comm.collectives > steps);
      CHECK(summary.steps == steps);
      CHECK(summary.test_accuracy > 0.1);
      if (steps == 14)
        CHECK(summary.resumed_from_step == 10);
    }
  }
}

TEST_CASE("automatic checkpoint intervals agree through the control plane") {
  test::TempDir dir;
  const auto job = job_with({"resources.ranks=1", "workload.global_batch=64",
                             "workload.max_steps=8", "workload.hidden_layers=[16]",
                             "metrics.enabled=false", "checkpoint.every_steps=auto"});
  collectives::StaticBootstrap bootstrap(0, 1, 0, 1);
  DeviceDouble comm(bootstrap);
  train::WorkerOptions options;
  options.run_dir = dir.path();
  std::ostringstream log;
  const train::TrainSummary summary = train::train(job, comm, options, log);
  INFO(log.str());
  CHECK(comm.refused == 0);
  CHECK(summary.steps == 8);
  // Saved at the end, before 10 steps were measured: the interval comes from
  // the mean of the 8 steps, not from a step time of 0.
  CHECK(log.str().find("checkpoints every") != std::string::npos);
  CHECK(log.str().find("at 0 s a step") == std::string::npos);
}

TEST_CASE("a bucketer whose ranks give no weight agrees on the total through the control plane") {
  collectives::StaticBootstrap bootstrap(0, 1, 0, 1);
  DeviceDouble comm(bootstrap);
  collectives::Bucketer bucketer(comm, {3, 2}, {});
  bucketer.begin_step(2.0, 0.0);  // 0: the total is all-reduced
  CHECK(comm.refused == 0);
  CHECK_THROWS_WITH_AS(
      [&] {
        collectives::Bucketer idle(comm, {3}, {});
        idle.begin_step(0.0, 0.0);
      }(),
      "bucketer: the ranks' weights add up to 0", Error);
  CHECK(comm.refused == 0);
}
