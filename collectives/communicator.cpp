#include "collectives/communicator.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
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
  auto work = new_work("broadcast", bytes, to_string(dtype));
  start_broadcast(work, data, count, dtype, root);
  return Work(work);
}

Work Communicator::all_gather_async(const void* send, void* recv, std::size_t count, DType dtype) {
  const std::uint64_t bytes = count * size_of(dtype);
  if (count > 0 && (send == nullptr || recv == nullptr)) {
    throw CollectiveError(context("all_gather", bytes), "null buffer");
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
