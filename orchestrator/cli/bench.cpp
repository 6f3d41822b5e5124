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

/// The largest count a flag takes (iterations, threads, tensors); below 0
/// the benchmark's own validation names the rule.
constexpr std::int64_t kMaxCount = 1'000'000'000;

std::size_t size_arg(const std::string& flag, const std::string& value) {
  const auto size = parse_byte_size(value);
  if (!size)
    throw UsageError(flag + " expects a size such as 8, 64K, 4M or 1G, got \"" + value + "\"");
  return *size;
}

/// A positive number of seconds or MiB.
double positive_arg(const std::string& flag, const std::string& value) {
  const double x = number_flag(flag, value, 0, 1e9);
  if (!(x > 0))
    throw UsageError(flag + " must be greater than 0");
  return x;
}

AllReduceBenchOptions parse(std::span<const std::string> args) {
  AllReduceBenchOptions o;
  Flags flags("bench allreduce");
  flags.flag("--csv", o.csv);
  flags.value("-b", [&](const std::string& v) { o.min_bytes = size_arg("-b", v); });
  flags.value("-e", [&](const std::string& v) { o.max_bytes = size_arg("-e", v); });
  flags.number("-f", o.factor, -1e9, 1e9);
  flags.integer("-n", o.iterations, -kMaxCount, kMaxCount);
  flags.integer("-w", o.warmup, -kMaxCount, kMaxCount);
  flags.integer("-c", o.check, 0, 1);
  flags.value("--dtype", [&](const std::string& v) {
    const auto dtype = collectives::parse_dtype(v);
    if (!dtype)
      throw UsageError("--dtype expects f32, f16, bf16, f64, i32 or i64, got \"" + v + "\"");
    o.dtype = *dtype;
  });
  flags.value("--op", [&](const std::string& v) {
    const auto op = collectives::parse_reduce_op(v);
    if (!op)
      throw UsageError("--op expects sum, avg, min or max, got \"" + v + "\"");
    o.op = *op;
  });
  flags.text("--backend", o.backend);
  flags.text("--model", o.model);
  flags.integer("--fused", o.fused, -kMaxCount, kMaxCount);
  flags.value("--bucket-mib", [&](const std::string& v) {
    o.bucket_bytes = static_cast<std::size_t>(positive_arg("--bucket-mib", v) * (1 << 20));
  });
  flags.value("--timeout-s",
              [&](const std::string& v) { o.timeout_s = positive_arg("--timeout-s", v); });
  flags.parse(args);
  return o;
}

}  // namespace

int run_node_bench(std::span<const std::string> args, Streams& io) {
  train::NodeBenchOptions o;
  Flags flags("bench node");
  flags.value("--out", [&](const std::string& v) { o.out = v; });
  flags.integer("--gemm-size", o.gemm_size, 0, kMaxCount);
  flags.number("--seconds", o.seconds, 0, 1e6);
  flags.integer("--threads", o.threads, 0, kMaxCount);
  flags.number("--reference-tflops", o.reference_tflops, 0, 1e9);
  flags.text("--accelerator", o.accelerator);
  flags.parse(args);
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
