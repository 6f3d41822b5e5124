#include "collectives/communicator.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>

#include "collectives/watchdog.h"
#include "common/error.h"

namespace dojo::collectives {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, BackendFactory> factories;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", seconds);
  return text;
}

}  // namespace

void CommBuffer::write(std::size_t offset, const void* host, std::size_t bytes) {
  if (offset > bytes_ || bytes > bytes_ - offset)
    throw Error("write past the end of a buffer");
  std::memcpy(static_cast<char*>(data_) + offset, host, bytes);
}

void CommBuffer::read(std::size_t offset, void* host, std::size_t bytes) const {
  if (offset > bytes_ || bytes > bytes_ - offset)
    throw Error("read past the end of a buffer");
  std::memcpy(host, static_cast<const char*>(data_) + offset, bytes);
}

void Communicator::scale(float* data, std::size_t count, float factor) {
  for (std::size_t i = 0; i < count; ++i)
    data[i] *= factor;
}

void Communicator::encode_bf16(const float* in, std::uint16_t* out, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i)
    out[i] = f32_to_bf16(in[i]);
}

void Communicator::decode_bf16(const std::uint16_t* in, float* out, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i)
    out[i] = bf16_to_f32(in[i]);
}

void Communicator::zero(void* data, std::size_t bytes) {
  std::memset(data, 0, bytes);
}

Communicator::Communicator(std::string backend, const Bootstrap& bootstrap,
                           CommunicatorOptions options)
    : backend_(std::move(backend)),
      rank_(bootstrap.rank()),
      size_(bootstrap.size()),
      local_rank_(bootstrap.local_rank()),
      local_size_(bootstrap.local_size()),
      host_(this_host()),
      options_(std::move(options)) {
  // DOJO_FLIGHT_RECORDER=0 turns the recorder off (scripts/bench-flight
  // measures what it costs against that).
  const char* flight = std::getenv("DOJO_FLIGHT_RECORDER");
  flight_enabled_ = flight == nullptr || std::string(flight) != "0";
  if (!(options_.timeout.count() > 0)) {
    throw Error("collective timeout must be greater than 0 seconds");
  }
}

Communicator::~Communicator() {
  stop_watchdog();
}

void Communicator::start_watchdog() {
  watchdog_ = std::make_unique<Watchdog>([this](const auto& work) { on_deadline(work); });
}

void Communicator::stop_watchdog() {
  if (watchdog_)
    watchdog_->stop();
}

CollectiveContext Communicator::context(const char* op, std::uint64_t bytes) const {
  CollectiveContext c;
  c.op = op;
  c.bytes = bytes;
  c.rank = rank_;
  c.host = host_;
  return c;
}

std::shared_ptr<WorkState> Communicator::new_work(const char* op, std::uint64_t bytes,
                                                  const char* dtype, int bucket) {
  if (broken_.load()) {
    throw CollectiveError(context(op, bytes),
                          "the communicator is unusable after an earlier collective's deadline "
                          "expired");
  }
  CollectiveContext c = context(op, bytes);
  c.seq = ++sequence_;
  auto deadline = std::chrono::duration_cast<WorkState::Clock::duration>(options_.timeout);
  auto work = std::make_shared<WorkState>(std::move(c), deadline);
  if (watchdog_)
    watchdog_->track(work);
  if (flight_enabled_)
    flight_.add(work, dtype, bucket);
  return work;
}

void Communicator::on_deadline(const std::shared_ptr<WorkState>& work) {
  const CollectiveError error(work->context(),
                              "deadline of " + seconds_text(options_.timeout.count()) +
                                  " s expired (a peer may have died, hung or skipped it)");
  broken_.store(true);
  std::fprintf(stderr, "dojo: %s\n", error.what());
  std::fflush(stderr);
  // Abort first: a backend whose abort ends the process (MPI) must not race
  // with waiters that see the error; one whose abort returns (NCCL) unblocks
  // them right after.
  if (options_.abort_on_deadline)
    abort(error.what());
  work->fail(std::make_exception_ptr(error));
}

Work Communicator::all_reduce_async(const void* send, void* recv, std::size_t count, DType dtype,
                                    ReduceOp op) {
  const std::uint64_t bytes = count * size_of(dtype);
  if (count > 0 && (send == nullptr || recv == nullptr)) {
    throw CollectiveError(context("all_reduce", bytes), "null buffer");
  }
  if (op == ReduceOp::kAvg && !is_floating(dtype)) {
    throw CollectiveError(context("all_reduce", bytes),
                          std::string("avg is not defined for ") + to_string(dtype));
  }
  if (count > 0) {
    check_memory(send, bytes, "all_reduce");
    check_memory(recv, bytes, "all_reduce");
  }
  auto work = new_work("all_reduce", bytes, to_string(dtype));
  start_all_reduce(work, send, recv, count, dtype, op);
  return Work(work);
}

Work Communicator::all_reduce_async(CommBuffer& buffer, std::size_t offset_bytes, std::size_t count,
                                    DType dtype, ReduceOp op, int bucket) {
  const std::uint64_t bytes = count * size_of(dtype);
  if (offset_bytes > buffer.bytes() || bytes > buffer.bytes() - offset_bytes) {
    throw CollectiveError(context("all_reduce", bytes),
                          "range [" + std::to_string(offset_bytes) + ", " +
                              std::to_string(offset_bytes + bytes) + ") is outside the " +
                              std::to_string(buffer.bytes()) + "-byte buffer");
  }
  if (offset_bytes % size_of(dtype) != 0) {
    throw CollectiveError(context("all_reduce", bytes), "offset is not aligned to the element");
  }
  if (op == ReduceOp::kAvg && !is_floating(dtype)) {
    throw CollectiveError(context("all_reduce", bytes),
                          std::string("avg is not defined for ") + to_string(dtype));
  }
  auto work = new_work("all_reduce", bytes, to_string(dtype), bucket);
  start_buffer_all_reduce(work, buffer, offset_bytes, count, dtype, op);
  return Work(work);
}

Work Communicator::broadcast_async(void* data, std::size_t count, DType dtype, int root) {
  const std::uint64_t bytes = count * size_of(dtype);
  if (root < 0 || root >= size_) {
    throw CollectiveError(
        context("broadcast", bytes),
        "root " + std::to_string(root) + " is not a rank of " + std::to_string(size_));
  }
  if (count > 0 && data == nullptr)
    throw CollectiveError(context("broadcast", bytes), "null buffer");
  if (count > 0)
    check_memory(data, bytes, "broadcast");
  auto work = new_work("broadcast", bytes, to_string(dtype));
  start_broadcast(work, data, count, dtype, root);
  return Work(work);
}

Work Communicator::all_gather_async(const void* send, void* recv, std::size_t count, DType dtype) {
  const std::uint64_t bytes = count * size_of(dtype);
  if (count > 0 && (send == nullptr || recv == nullptr)) {
    throw CollectiveError(context("all_gather", bytes), "null buffer");
  }
  if (count > 0) {
    check_memory(send, bytes, "all_gather");
    check_memory(recv, bytes * static_cast<std::uint64_t>(size_), "all_gather");
  }
  auto work = new_work("all_gather", bytes, to_string(dtype));
  start_all_gather(work, send, recv, count, dtype);
  return Work(work);
}

Work Communicator::barrier_async() {
  auto work = new_work("barrier", 0, "-");
  start_barrier(work);
  return Work(work);
}

void Communicator::check_memory(const void*, std::size_t, const char*) const {}

std::shared_ptr<CommBuffer> Communicator::take_staging(std::size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(staging_mutex_);
    auto best = staging_.end();
    for (auto it = staging_.begin(); it != staging_.end(); ++it) {
      if ((*it)->bytes() >= bytes && (best == staging_.end() || (*it)->bytes() < (*best)->bytes()))
        best = it;
    }
    if (best != staging_.end()) {
      std::shared_ptr<CommBuffer> buffer = std::move(*best);
      staging_.erase(best);
      return buffer;
    }
  }
  // Powers of two from 256 bytes, so that the few sizes the control plane
  // uses settle on a handful of buffers.
  std::size_t size = 256;
  while (size < bytes)
    size *= 2;
  return std::shared_ptr<CommBuffer>(allocate(size));
}

void Communicator::return_staging(std::shared_ptr<CommBuffer> buffer, bool finished) {
  // A large buffer (a checkpoint's bytes at a resume) is freed after a
  // finished operation rather than held for the whole run; one whose
  // operation failed may still be touched by it, so it stays to the end.
  if (finished && buffer->bytes() > kPooledStagingBytes)
    return;
  std::lock_guard<std::mutex> lock(staging_mutex_);
  staging_.push_back(std::move(buffer));
}

/// A staging buffer for the length of one blocking control operation; it
/// goes back to the pool even when the operation throws (a failed collective
/// may still touch it, so it is never freed before the communicator).
class Communicator::StagingLease {
 public:
  StagingLease(Communicator& comm, std::size_t bytes)
      : comm_(comm), buffer_(comm.take_staging(bytes)) {}
  ~StagingLease() {
    comm_.return_staging(std::move(buffer_), std::uncaught_exceptions() == exceptions_);
  }
  StagingLease(const StagingLease&) = delete;
  StagingLease& operator=(const StagingLease&) = delete;
  CommBuffer* operator->() const { return buffer_.get(); }

 private:
  Communicator& comm_;
  std::shared_ptr<CommBuffer> buffer_;
  int exceptions_ = std::uncaught_exceptions();
};

Communicator::ControlWork Communicator::control_all_gather_async(const void* send, void* recv,
                                                                 std::size_t count, DType dtype) {
  const std::size_t bytes = count * size_of(dtype);
  ControlWork control;
  control.comm_ = this;
  if (memory() == MemoryKind::kHost) {
    control.work_ = all_gather_async(send, recv, count, dtype);
    return control;
  }
  const std::size_t gathered = bytes * static_cast<std::size_t>(size_);
  control.staging_ = take_staging(bytes + gathered);
  if (bytes > 0)
    control.staging_->write(0, send, bytes);
  char* base = static_cast<char*>(control.staging_->data());
  control.offset_ = bytes;
  control.result_ = recv;
  control.bytes_ = gathered;
  control.work_ = all_gather_async(base, base + bytes, count, dtype);
  return control;
}

void Communicator::control_all_gather(const void* send, void* recv, std::size_t count,
                                      DType dtype) {
  control_all_gather_async(send, recv, count, dtype).wait();
}

void Communicator::control_all_reduce(void* data, std::size_t count, DType dtype, ReduceOp op) {
  if (memory() == MemoryKind::kHost) {
    all_reduce(data, data, count, dtype, op);
    return;
  }
  const std::size_t bytes = count * size_of(dtype);
  StagingLease staging(*this, bytes);
  staging->write(0, data, bytes);
  all_reduce(staging->data(), staging->data(), count, dtype, op);
  staging->read(0, data, bytes);
}

void Communicator::control_broadcast(void* data, std::size_t count, DType dtype, int root) {
  if (memory() == MemoryKind::kHost) {
    broadcast(data, count, dtype, root);
    return;
  }
  const std::size_t bytes = count * size_of(dtype);
  StagingLease staging(*this, bytes);
  if (rank_ == root)
    staging->write(0, data, bytes);
  broadcast(staging->data(), count, dtype, root);
  staging->read(0, data, bytes);
}

Communicator::ControlWork::ControlWork(ControlWork&& other) noexcept
    : comm_(other.comm_),
      work_(std::move(other.work_)),
      staging_(std::move(other.staging_)),
      offset_(other.offset_),
      result_(other.result_),
      bytes_(other.bytes_),
      done_(other.done_) {
  other.comm_ = nullptr;
}

Communicator::ControlWork& Communicator::ControlWork::operator=(ControlWork&& other) noexcept {
  if (this != &other) {
    ControlWork old(std::move(*this));  // settles what this held
    comm_ = other.comm_;
    work_ = std::move(other.work_);
    staging_ = std::move(other.staging_);
    offset_ = other.offset_;
    result_ = other.result_;
    bytes_ = other.bytes_;
    done_ = other.done_;
    other.comm_ = nullptr;
  }
  return *this;
}

Communicator::ControlWork::~ControlWork() {
  if (comm_ == nullptr || !staging_)
    return;
  // The collective may still write the staging buffer: it goes back to the
  // pool only once the operation is over (its deadline bounds the wait).
  try {
    work_.wait();
  } catch (...) {
  }
  comm_->return_staging(std::move(staging_), false);
}

void Communicator::ControlWork::wait() {
  if (done_)
    return;
  work_.wait();
  if (staging_ && bytes_ > 0)
    staging_->read(offset_, result_, bytes_);
  done_ = true;
  if (staging_ && comm_ != nullptr)
    comm_->return_staging(std::move(staging_), true);
}

void register_backend(const std::string& name, BackendFactory factory) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().factories[name] = std::move(factory);
}

std::vector<std::string> backend_names() {
  register_builtin_backends();
  std::lock_guard<std::mutex> lock(registry().mutex);
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry().factories)
    names.push_back(name);
  return names;
}

std::string resolve_auto_backend(Bootstrap& bootstrap) {
  const unsigned char mine = this_rank_has_gpu() ? 1 : 0;
  std::vector<unsigned char> all(static_cast<std::size_t>(bootstrap.size()));
  bootstrap.all_gather(&mine, all.data(), 1);
  for (unsigned char has_gpu : all) {
    if (has_gpu == 0)
      return "mpi";
  }
  return "nccl";
}

std::unique_ptr<Communicator> create_communicator(std::string_view name, Bootstrap& bootstrap,
                                                  const CommunicatorOptions& options) {
  register_builtin_backends();
  std::string chosen(name);
  if (chosen == "auto")
    chosen = resolve_auto_backend(bootstrap);
  BackendFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry().mutex);
    auto it = registry().factories.find(chosen);
    if (it != registry().factories.end())
      factory = it->second;
  }
  if (!factory) {
    std::string known;
    for (const std::string& n : backend_names())
      known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown collectives backend \"" + chosen + "\" (this build has: " + known +
                ", auto)");
  }
  return factory(bootstrap, options);
}

}  // namespace dojo::collectives
