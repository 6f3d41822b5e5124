#pragma once
// `dojo bench allreduce`: all-reduce time, algbw and busbw per message size
// in the manner of nccl-tests, beside a raw MPI_Allreduce of the same bytes
// measured in the same run.

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>

#include "collectives/backends/mpi/mpi_bootstrap.h"
#include "collectives/bench/bench_csv.h"
#include "collectives/dtype.h"

namespace dojo::collectives::bench {

struct AllReduceBenchOptions {
  std::size_t min_bytes = 8;             ///< -b
  std::size_t max_bytes = 128u << 20;    ///< -e
  double factor = 2;                     ///< -f: next size = size * factor
  int iterations = 20;                   ///< -n
  int warmup = 5;                        ///< -w
  bool check = true;                     ///< -c
  DType dtype = DType::kF32;             ///< --dtype
  ReduceOp op = ReduceOp::kSum;          ///< --op
  std::string backend = "mpi";           ///< --backend
  int fused = 0;                         ///< --fused N: N tensors through the bucketer
  std::string model;                     ///< --model NAME: that model's gradients, bucketed
  std::size_t bucket_bytes = 25u << 20;  ///< --bucket-mib
  bool csv = false;                      ///< --csv
  double timeout_s = 300;                ///< --timeout-s: deadline of each collective
};

/// Throws UsageError for options that cannot run (before MPI is touched).
void validate(const AllReduceBenchOptions& options);

/// Runs the sweep on every rank of `bootstrap`; rank 0 writes the report to
/// `out`. Returns the largest error seen (0 when the check is off).
double run_allreduce_bench(const AllReduceBenchOptions& options, mpi::MpiBootstrap& bootstrap,
                           std::ostream& out);

}  // namespace dojo::collectives::bench
