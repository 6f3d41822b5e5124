// `dojo bench allreduce`: run under mpirun.
#include <iostream>
#include <string>

#include "collectives/bench/allreduce_bench.h"
#include "common/error.h"
#include "common/flags.h"
#include "common/numbers.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/train/node_bench.h"

namespace dojo::cli {
namespace {

using collectives::bench::AllReduceBenchOptions;

std::size_t size_arg(const std::string& flag, const std::string& value) {
  const auto size = parse_byte_size(value);
  if (!size)
    throw UsageError(flag + " expects a size such as 8, 64K, 4M or 1G, got \"" + value + "\"");
  return *size;
}

int int_arg(const std::string& flag, const std::string& value) {
  return static_cast<int>(integer_flag(flag, value, 0, 1'000'000'000));
}

AllReduceBenchOptions parse(std::span<const std::string> args) {
  AllReduceBenchOptions o;
  Flags flags("bench allreduce");
  std::string min_b, max_b, factor, iterations, warmup, check, dtype, op, fused, bucket_mib,
      timeout_s;
  flags.flag("--csv", o.csv);
  flags.text("-b", min_b);
  flags.text("-e", max_b);
  flags.text("-f", factor);
  flags.text("-n", iterations);
  flags.text("-w", warmup);
  flags.text("-c", check);
  flags.text("--dtype", dtype);
  flags.text("--op", op);
  flags.text("--backend", o.backend);
  flags.text("--model", o.model);
  flags.text("--fused", fused);
  flags.text("--bucket-mib", bucket_mib);
  flags.text("--timeout-s", timeout_s);
  flags.parse(args);
  if (!min_b.empty())
    o.min_bytes = size_arg("-b", min_b);
  if (!max_b.empty())
    o.max_bytes = size_arg("-e", max_b);
  if (!factor.empty())
    o.factor = number_flag("-f", factor, -1e9, 1e9);
  if (!iterations.empty())
    o.iterations = int_arg("-n", iterations);
  if (!warmup.empty())
    o.warmup = int_arg("-w", warmup);
  if (!check.empty())
    o.check = integer_flag("-c", check, 0, 1) != 0;
  if (!dtype.empty()) {
    const auto parsed = collectives::parse_dtype(dtype);
    if (!parsed)
      throw UsageError("--dtype expects f32, f16, bf16, f64, i32 or i64, got \"" + dtype + "\"");
    o.dtype = *parsed;
  }
  if (!op.empty()) {
    const auto parsed = collectives::parse_reduce_op(op);
    if (!parsed)
      throw UsageError("--op expects sum, avg, min or max, got \"" + op + "\"");
    o.op = *parsed;
  }
  if (!fused.empty())
    o.fused = int_arg("--fused", fused);
  if (!bucket_mib.empty()) {
    const double mib = number_flag("--bucket-mib", bucket_mib, 0, 1e9);
    if (!(mib > 0))
      throw UsageError("--bucket-mib must be greater than 0");
    o.bucket_bytes = static_cast<std::size_t>(mib * (1 << 20));
  }
  if (!timeout_s.empty()) {
    o.timeout_s = number_flag("--timeout-s", timeout_s, 0, 1e9);
    if (!(o.timeout_s > 0))
      throw UsageError("--timeout-s must be greater than 0");
  }
  return o;
}

}  // namespace

int run_node_bench(std::span<const std::string> args, Streams& io) {
  train::NodeBenchOptions o;
  Flags flags("bench node");
  std::string out_file, gemm_size, seconds, threads, reference;
  flags.text("--out", out_file);
  flags.text("--gemm-size", gemm_size);
  flags.text("--seconds", seconds);
  flags.text("--threads", threads);
  flags.text("--reference-tflops", reference);
  flags.text("--accelerator", o.accelerator);
  flags.parse(args);
  o.out = out_file;
  if (!gemm_size.empty())
    o.gemm_size = int_arg("--gemm-size", gemm_size);
  if (!seconds.empty())
    o.seconds = number_flag("--seconds", seconds, 0, 1e6);
  if (!threads.empty())
    o.threads = int_arg("--threads", threads);
  if (!reference.empty())
    o.reference_tflops = number_flag("--reference-tflops", reference, 0, 1e9);
  train::run_node_bench(o, io.out);
  return kExitOk;
}

int run_bench(std::span<const std::string> args, Streams& io) {
  if (args.empty())
    throw UsageError("which benchmark? (allreduce, node)");
  if (args[0] == "node")
    return run_node_bench(args.subspan(1), io);
  if (args[0] != "allreduce") {
    throw UsageError("unknown benchmark \"" + args[0] + "\" (allreduce, node)");
  }
  const AllReduceBenchOptions options = parse(args.subspan(1));
  collectives::bench::validate(options);
  collectives::mpi::MpiSession session(nullptr, nullptr);
  collectives::mpi::MpiBootstrap bootstrap;
  const double worst = collectives::bench::run_allreduce_bench(options, bootstrap, io.out);
  // A wrong result is a failure even though the run completed.
  if (options.check && worst > 0 && options.op != collectives::ReduceOp::kAvg) {
    io.err << "dojo bench allreduce: wrong results (max error " << worst << ")\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace dojo::cli
