#include "collectives/bench/allreduce_bench.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <vector>

#include "collectives/backends/mpi/mpi_check.h"
#include "collectives/backends/mpi/mpi_types.h"
#include "collectives/bucketer.h"
#include "collectives/communicator.h"
#include "collectives/model_shapes.h"
#include "common/error.h"

namespace dojo::collectives::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Small integers: every sum is exact in every dtype, so max_err is 0 unless
// something is wrong (or the op divides, for avg).
double input(int rank, std::size_t i) {
  return static_cast<double>((rank + i) % 5 + 1);
}

double expected(ReduceOp op, int ranks, std::size_t i) {
  double sum = 0, lo = 1e300, hi = -1e300;
  for (int r = 0; r < ranks; ++r) {
    sum += input(r, i);
    lo = std::min(lo, input(r, i));
    hi = std::max(hi, input(r, i));
  }
  switch (op) {
    case ReduceOp::kSum:
      return sum;
    case ReduceOp::kAvg:
      return sum / ranks;
    case ReduceOp::kMin:
      return lo;
    case ReduceOp::kMax:
      return hi;
  }
  return 0;
}

void fill(std::vector<unsigned char>& buffer, DType t, int rank, std::size_t first,
          std::size_t count) {
  for (std::size_t i = 0; i < count; ++i)
    store_element(buffer.data(), i, t, input(rank, first + i));
}

double max_error(const unsigned char* data, DType t, ReduceOp op, int ranks, std::size_t first,
                 std::size_t count) {
  double worst = 0;
  for (std::size_t i = 0; i < count; ++i) {
    worst = std::max(worst, std::abs(load_element(data, i, t) - expected(op, ranks, first + i)));
  }
  return worst;
}

// Seconds per iteration of `body`, the slowest rank's, after `warmup` untimed runs.
template <class Body>
double time_per_iteration(MPI_Comm comm, int warmup, int iterations, Body body) {
  for (int i = 0; i < warmup; ++i)
    body();
  mpi::check(MPI_Barrier(comm), "MPI_Barrier");
  const auto start = Clock::now();
  for (int i = 0; i < iterations; ++i)
    body();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count() / iterations;
  double slowest = 0;
  mpi::check(MPI_Allreduce(&seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm), "MPI_Allreduce");
  return slowest;
}

double max_over_ranks(MPI_Comm comm, double value) {
  double result = 0;
  mpi::check(MPI_Allreduce(&value, &result, 1, MPI_DOUBLE, MPI_MAX, comm), "MPI_Allreduce");
  return result;
}

std::vector<std::size_t> split(std::size_t count, int tensors) {
  std::vector<std::size_t> counts(static_cast<std::size_t>(tensors));
  for (std::size_t t = 0; t < counts.size(); ++t) {
    counts[t] = count * (t + 1) / counts.size() - count * t / counts.size();
  }
  return counts;
}

struct Row {
  std::size_t bytes = 0;
  std::size_t count = 0;
  int tensors = 1;
  double seconds = 0;
  double max_err = 0;
  double mpi_seconds = 0;
};

}  // namespace

void validate(const AllReduceBenchOptions& o) {
  if (o.min_bytes == 0 || o.max_bytes < o.min_bytes) {
    throw UsageError("sizes must satisfy 0 < -b <= -e");
  }
  if (!(o.factor > 1))
    throw UsageError("-f must be greater than 1");
  if (o.iterations < 1 || o.warmup < 0)
    throw UsageError("-n must be >= 1 and -w >= 0");
  if (o.fused < 0)
    throw UsageError("--fused must not be negative");
  if (!o.model.empty()) {
    try {
      model_gradient_shapes(o.model);
    } catch (const Error& e) {
      throw UsageError(e.what());
    }
  }
  if ((o.fused > 0 || !o.model.empty()) && (o.dtype != DType::kF32 || o.op != ReduceOp::kSum)) {
    throw UsageError("--fused runs f32 gradients through the bucketer: use --dtype f32 --op sum");
  }
  if (o.op == ReduceOp::kAvg && !is_floating(o.dtype)) {
    throw UsageError(std::string("--op avg is not defined for ") + to_string(o.dtype));
  }
}

namespace {

/// One sweep of the benchmark on this rank: each case is one row, a list of
/// tensors all-reduced together, timed beside raw MPI_Allreduce.
class Sweep {
 public:
  Sweep(const AllReduceBenchOptions& options, mpi::MpiBootstrap& bootstrap, std::ostream& out)
      : o_(options), mpi_(bootstrap.comm()), out_(out) {
    CommunicatorOptions comm_options;
    comm_options.timeout = std::chrono::duration<double>(options.timeout_s);
    comm_ = create_communicator(options.backend, bootstrap, comm_options);
    if (bucketed() && comm_->memory() != MemoryKind::kHost) {
      throw UsageError("--fused needs a host-memory backend; " + comm_->backend() +
                       " is on devices");
    }
    ranks_ = comm_->size();
    element_ = size_of(o_.dtype);
    leader_ = comm_->rank() == 0;
  }

  /// Runs every case; returns the largest error seen on any rank.
  double run() {
    write_header();
    double worst = 0;
    for (const std::vector<std::size_t>& counts : cases()) {
      Row row;
      for (std::size_t c : counts)
        row.count += c;
      row.bytes = row.count * element_;
      row.tensors = static_cast<int>(counts.size());
      if (bucketed())
        time_bucketed(counts, row);
      else if (comm_->memory() == MemoryKind::kHost)
        time_host(row);
      else
        time_device(row);
      row.max_err = max_over_ranks(mpi_, row.max_err);
      worst = std::max(worst, row.max_err);
      row.mpi_seconds = time_mpi_baseline(counts, row);
      if (leader_)
        write_row(row);
    }
    return worst;
  }

 private:
  bool bucketed() const { return o_.fused > 0 || !o_.model.empty(); }

  void write_header() {
    if (!leader_)
      return;
    if (o_.csv) {
      out_ << kAllReduceCsvHeader << "\n";
      return;
    }
    const std::string what =
        !o_.model.empty() ? o_.model + " gradients through the bucketer"
        : o_.fused > 0    ? "fused " + std::to_string(o_.fused) + " tensors through the bucketer"
                          : "user buffers";
    char line[512];
    std::snprintf(line, sizeof(line),
                  "# dojo bench allreduce: %d ranks, backend %s, dtype %s, op %s, %d iterations "
                  "(%d warm-up), %s\n# baseline: raw MPI_Allreduce of the same bytes on plain "
                  "buffers%s; busbw = algbw * 2(n-1)/n\n",
                  ranks_, comm_->backend().c_str(), to_string(o_.dtype), to_string(o_.op),
                  o_.iterations, o_.warmup, what.c_str(),
                  bucketed() ? ", one call per tensor" : "");
    out_ << line;
    std::snprintf(line, sizeof(line), "#%12s %11s %5s %7s %11s %10s %10s %8s %11s %10s %7s\n",
                  "bytes", "count", "type", "tensors", "time_us", "algbw_GB/s", "busbw_GB/s",
                  "max_err", "mpi_time_us", "mpi_busbw", "ratio");
    out_ << line;
  }

  /// The model's tensors, or one size (split into --fused tensors) per row.
  std::vector<std::vector<std::size_t>> cases() const {
    std::vector<std::vector<std::size_t>> all;
    if (!o_.model.empty()) {
      all.push_back(model_gradient_shapes(o_.model));
      return all;
    }
    for (double size = static_cast<double>(o_.min_bytes); size <= static_cast<double>(o_.max_bytes);
         size *= o_.factor) {
      const std::size_t count = std::max<std::size_t>(1, static_cast<std::size_t>(size) / element_);
      const int tensors =
          o_.fused > 0 ? static_cast<int>(std::min<std::size_t>(count, o_.fused)) : 1;
      all.push_back(split(count, tensors));
      if (size * o_.factor == size)
        break;
    }
    return all;
  }

  template <typename Step>
  double timed(Step&& step) const {
    return time_per_iteration(mpi_, o_.warmup, o_.iterations, std::forward<Step>(step));
  }

  void time_bucketed(const std::vector<std::size_t>& counts, Row& row) {
    BucketerOptions bucket_options;
    bucket_options.bucket_bytes = o_.bucket_bytes;
    Bucketer bucketer(*comm_, counts, bucket_options);
    auto step = [&] {
      bucketer.begin_step(1.0, 1.0);  // a plain sum: nothing to scale
      for (std::size_t k = counts.size(); k-- > 0;)
        bucketer.ready(k);
      bucketer.finish();
    };
    if (o_.check) {
      std::size_t first = 0;
      std::vector<unsigned char> staging;
      for (std::size_t k = 0; k < counts.size(); ++k) {
        staging.resize(counts[k] * element_);
        fill(staging, o_.dtype, comm_->rank(), first, counts[k]);
        std::memcpy(bucketer.gradient(k).data(), staging.data(), staging.size());
        first += counts[k];
      }
      step();
      first = 0;
      for (std::size_t k = 0; k < counts.size(); ++k) {
        const auto g = bucketer.gradient(k);
        row.max_err =
            std::max(row.max_err, max_error(reinterpret_cast<const unsigned char*>(g.data()),
                                            o_.dtype, o_.op, ranks_, first, counts[k]));
        first += counts[k];
      }
    }
    row.seconds = timed(step);
  }

  void time_host(Row& row) {
    std::vector<unsigned char> send(row.bytes), recv(row.bytes);
    fill(send, o_.dtype, comm_->rank(), 0, row.count);
    auto step = [&] { comm_->all_reduce(send.data(), recv.data(), row.count, o_.dtype, o_.op); };
    if (o_.check) {
      step();
      row.max_err = max_error(recv.data(), o_.dtype, o_.op, ranks_, 0, row.count);
    }
    row.seconds = timed(step);
  }

  void time_device(Row& row) {
    auto send = comm_->allocate(row.bytes);
    auto recv = comm_->allocate(row.bytes);
    std::vector<unsigned char> host(row.bytes);
    fill(host, o_.dtype, comm_->rank(), 0, row.count);
    send->write(0, host.data(), host.size());
    auto step = [&] { comm_->all_reduce(send->data(), recv->data(), row.count, o_.dtype, o_.op); };
    if (o_.check) {
      step();
      recv->read(0, host.data(), host.size());
      row.max_err = max_error(host.data(), o_.dtype, o_.op, ranks_, 0, row.count);
    }
    row.seconds = timed(step);
  }

  /// The baseline: raw MPI_Allreduce, one call per tensor, plain buffers.
  double time_mpi_baseline(const std::vector<std::size_t>& counts, const Row& row) const {
    std::vector<unsigned char> send(row.bytes), recv(row.bytes);
    fill(send, o_.dtype, comm_->rank(), 0, row.count);
    const MPI_Datatype type = mpi::datatype(o_.dtype);
    const MPI_Op op = mpi::operation(o_.dtype, o_.op);
    return timed([&] {
      std::size_t first = 0;
      for (std::size_t c : counts) {
        mpi::check(MPI_Allreduce(send.data() + first * element_, recv.data() + first * element_,
                                 static_cast<int>(c), type, op, mpi_),
                   "MPI_Allreduce");
        first += c;
      }
    });
  }

  void write_row(const Row& row) {
    const double bus_factor = ranks_ > 1 ? 2.0 * (ranks_ - 1) / ranks_ : 0.0;
    const double algbw = row.bytes / row.seconds / 1e9;
    const double busbw = algbw * bus_factor;
    const double mpi_busbw = row.bytes / row.mpi_seconds / 1e9 * bus_factor;
    // With one rank there is no bus: compare times instead.
    const double ratio = ranks_ > 1 ? busbw / mpi_busbw : row.mpi_seconds / row.seconds;
    char line[512];
    if (o_.csv) {
      std::snprintf(line, sizeof(line), "%d,%zu,%zu,%s,%d,%.3f,%.4f,%.4f,%g,%.3f,%.4f,%.4f\n",
                    ranks_, row.bytes, row.count, to_string(o_.dtype), row.tensors,
                    row.seconds * 1e6, algbw, busbw, row.max_err, row.mpi_seconds * 1e6, mpi_busbw,
                    ratio);
    } else {
      std::snprintf(line, sizeof(line),
                    " %12zu %11zu %5s %7d %11.2f %10.3f %10.3f %8.2g %11.2f %10.3f %7.2f\n",
                    row.bytes, row.count, to_string(o_.dtype), row.tensors, row.seconds * 1e6,
                    algbw, busbw, row.max_err, row.mpi_seconds * 1e6, mpi_busbw, ratio);
    }
    out_ << line << std::flush;
  }

  const AllReduceBenchOptions& o_;
  const MPI_Comm mpi_;
  std::ostream& out_;
  std::unique_ptr<Communicator> comm_;
  int ranks_ = 1;
  std::size_t element_ = 4;
  bool leader_ = false;
};

}  // namespace

double run_allreduce_bench(const AllReduceBenchOptions& options, mpi::MpiBootstrap& bootstrap,
                           std::ostream& out) {
  validate(options);
  Sweep sweep(options, bootstrap, out);
  return sweep.run();
}

}  // namespace dojo::collectives::bench
