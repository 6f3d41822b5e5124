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

double run_allreduce_bench(const AllReduceBenchOptions& options, mpi::MpiBootstrap& bootstrap,
                           std::ostream& out) {
  validate(options);
  CommunicatorOptions comm_options;
  comm_options.timeout = std::chrono::duration<double>(options.timeout_s);
  auto comm = create_communicator(options.backend, bootstrap, comm_options);
  const bool bucketed = options.fused > 0 || !options.model.empty();
  if (bucketed && comm->memory() != MemoryKind::kHost) {
    throw UsageError("--fused needs a host-memory backend; " + comm->backend() + " is on devices");
  }
  const MPI_Comm mpi = bootstrap.comm();
  const int ranks = comm->size();
  const DType t = options.dtype;
  const std::size_t element = size_of(t);
  const bool leader = comm->rank() == 0;

  char line[512];
  if (leader && !options.csv) {
    std::snprintf(
        line, sizeof(line),
        "# dojo bench allreduce: %d ranks, backend %s, dtype %s, op %s, %d iterations "
        "(%d warm-up), %s\n# baseline: raw MPI_Allreduce of the same bytes on plain "
        "buffers%s; busbw = algbw * 2(n-1)/n\n",
        ranks, comm->backend().c_str(), to_string(t), to_string(options.op), options.iterations,
        options.warmup,
        !options.model.empty() ? (options.model + " gradients through the bucketer").c_str()
        : options.fused > 0
            ? ("fused " + std::to_string(options.fused) + " tensors through the bucketer").c_str()
            : "user buffers",
        bucketed ? ", one call per tensor" : "");
    out << line;
    std::snprintf(line, sizeof(line), "#%12s %11s %5s %7s %11s %10s %10s %8s %11s %10s %7s\n",
                  "bytes", "count", "type", "tensors", "time_us", "algbw_GB/s", "busbw_GB/s",
                  "max_err", "mpi_time_us", "mpi_busbw", "ratio");
    out << line;
  }
  if (leader && options.csv)
    out << kAllReduceCsvHeader << "\n";

  // Each case is one row: a list of tensors all-reduced together.
  std::vector<std::vector<std::size_t>> cases;
  if (!options.model.empty()) {
    cases.push_back(model_gradient_shapes(options.model));
  } else {
    for (double size = static_cast<double>(options.min_bytes);
         size <= static_cast<double>(options.max_bytes); size *= options.factor) {
      const std::size_t count = std::max<std::size_t>(1, static_cast<std::size_t>(size) / element);
      const int tensors =
          options.fused > 0 ? static_cast<int>(std::min<std::size_t>(count, options.fused)) : 1;
      cases.push_back(split(count, tensors));
      if (size * options.factor == size)
        break;
    }
  }

  double worst = 0;
  for (const std::vector<std::size_t>& counts : cases) {
    Row row;
    for (std::size_t c : counts)
      row.count += c;
    row.bytes = row.count * element;
    row.tensors = static_cast<int>(counts.size());

    if (bucketed) {
      BucketerOptions bucket_options;
      bucket_options.bucket_bytes = options.bucket_bytes;
      Bucketer bucketer(*comm, counts, bucket_options);
      auto step = [&] {
        bucketer.begin_step(1.0, 1.0);  // a plain sum: nothing to scale
        for (std::size_t k = counts.size(); k-- > 0;)
          bucketer.ready(k);
        bucketer.finish();
      };
      if (options.check) {
        std::size_t first = 0;
        std::vector<unsigned char> staging;
        for (std::size_t k = 0; k < counts.size(); ++k) {
          staging.resize(counts[k] * element);
          fill(staging, t, comm->rank(), first, counts[k]);
          std::memcpy(bucketer.gradient(k).data(), staging.data(), staging.size());
          first += counts[k];
        }
        step();
        first = 0;
        for (std::size_t k = 0; k < counts.size(); ++k) {
          const auto g = bucketer.gradient(k);
          row.max_err =
              std::max(row.max_err, max_error(reinterpret_cast<const unsigned char*>(g.data()), t,
                                              options.op, ranks, first, counts[k]));
          first += counts[k];
        }
      }
      row.seconds = time_per_iteration(mpi, options.warmup, options.iterations, step);
    } else if (comm->memory() == MemoryKind::kHost) {
      std::vector<unsigned char> send(row.bytes), recv(row.bytes);
      fill(send, t, comm->rank(), 0, row.count);
      if (options.check) {
        comm->all_reduce(send.data(), recv.data(), row.count, t, options.op);
        row.max_err = max_error(recv.data(), t, options.op, ranks, 0, row.count);
      }
      row.seconds = time_per_iteration(mpi, options.warmup, options.iterations, [&] {
        comm->all_reduce(send.data(), recv.data(), row.count, t, options.op);
      });
    } else {
      auto send = comm->allocate(row.bytes);
      auto recv = comm->allocate(row.bytes);
      std::vector<unsigned char> host(row.bytes);
      fill(host, t, comm->rank(), 0, row.count);
      send->write(0, host.data(), host.size());
      if (options.check) {
        comm->all_reduce(send->data(), recv->data(), row.count, t, options.op);
        recv->read(0, host.data(), host.size());
        row.max_err = max_error(host.data(), t, options.op, ranks, 0, row.count);
      }
      row.seconds = time_per_iteration(mpi, options.warmup, options.iterations, [&] {
        comm->all_reduce(send->data(), recv->data(), row.count, t, options.op);
      });
    }
    row.max_err = max_over_ranks(mpi, row.max_err);
    worst = std::max(worst, row.max_err);

    {  // The baseline: raw MPI_Allreduce, one call per tensor, plain buffers.
      std::vector<unsigned char> send(row.bytes), recv(row.bytes);
      fill(send, t, comm->rank(), 0, row.count);
      const MPI_Datatype type = mpi::datatype(t);
      const MPI_Op op = mpi::operation(t, options.op);
      row.mpi_seconds = time_per_iteration(mpi, options.warmup, options.iterations, [&] {
        std::size_t first = 0;
        for (std::size_t c : counts) {
          mpi::check(MPI_Allreduce(send.data() + first * element, recv.data() + first * element,
                                   static_cast<int>(c), type, op, mpi),
                     "MPI_Allreduce");
          first += c;
        }
      });
    }

    if (leader) {
      const double bus_factor = ranks > 1 ? 2.0 * (ranks - 1) / ranks : 0.0;
      const double algbw = row.bytes / row.seconds / 1e9;
      const double busbw = algbw * bus_factor;
      const double mpi_busbw = row.bytes / row.mpi_seconds / 1e9 * bus_factor;
      // With one rank there is no bus: compare times instead.
      const double ratio = ranks > 1 ? busbw / mpi_busbw : row.mpi_seconds / row.seconds;
      if (options.csv) {
        std::snprintf(line, sizeof(line), "%d,%zu,%zu,%s,%d,%.3f,%.4f,%.4f,%g,%.3f,%.4f,%.4f\n",
                      ranks, row.bytes, row.count, to_string(t), row.tensors, row.seconds * 1e6,
                      algbw, busbw, row.max_err, row.mpi_seconds * 1e6, mpi_busbw, ratio);
      } else {
        std::snprintf(line, sizeof(line),
                      " %12zu %11zu %5s %7d %11.2f %10.3f %10.3f %8.2g %11.2f %10.3f %7.2f\n",
                      row.bytes, row.count, to_string(t), row.tensors, row.seconds * 1e6, algbw,
                      busbw, row.max_err, row.mpi_seconds * 1e6, mpi_busbw, ratio);
      }
      out << line << std::flush;
    }
  }
  return worst;
}

}  // namespace dojo::collectives::bench
