// `dojo bench allreduce`: run under mpirun.
#include <cstdlib>
#include <iostream>
#include <string>

#include "collectives/bench/allreduce_bench.h"
#include "common/error.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/train/node_bench.h"

namespace dojo::cli {
namespace {

using collectives::bench::AllReduceBenchOptions;

std::size_t size_arg(const std::string& flag, const std::string& value) {
  const auto size = collectives::bench::parse_size(value);
  if (!size)
    throw UsageError(flag + " expects a size such as 8, 64K, 4M or 1G, got \"" + value + "\"");
  return *size;
}

long number_arg(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  const long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0') {
    throw UsageError(flag + " expects an integer, got \"" + value + "\"");
  }
  return n;
}

double real_arg(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  const double x = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0')
    throw UsageError(flag + " expects a number, got \"" + value + "\"");
  return x;
}

AllReduceBenchOptions parse(std::span<const std::string> args) {
  AllReduceBenchOptions o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--csv") {
      o.csv = true;
      continue;
    }
    if (i + 1 >= args.size())
      throw UsageError("unknown flag or missing value: \"" + flag + "\"");
    const std::string& value = args[++i];
    if (flag == "-b") {
      o.min_bytes = size_arg(flag, value);
    } else if (flag == "-e") {
      o.max_bytes = size_arg(flag, value);
    } else if (flag == "-f") {
      o.factor = real_arg(flag, value);
    } else if (flag == "-n") {
      o.iterations = static_cast<int>(number_arg(flag, value));
    } else if (flag == "-w") {
      o.warmup = static_cast<int>(number_arg(flag, value));
    } else if (flag == "-c") {
      o.check = number_arg(flag, value) != 0;
    } else if (flag == "--dtype") {
      const auto dtype = collectives::parse_dtype(value);
      if (!dtype)
        throw UsageError("--dtype expects f32, f16, bf16, f64, i32 or i64, got \"" + value + "\"");
      o.dtype = *dtype;
    } else if (flag == "--op") {
      const auto op = collectives::parse_reduce_op(value);
      if (!op)
        throw UsageError("--op expects sum, avg, min or max, got \"" + value + "\"");
      o.op = *op;
    } else if (flag == "--backend") {
      o.backend = value;
    } else if (flag == "--model") {
      o.model = value;
    } else if (flag == "--fused") {
      o.fused = static_cast<int>(number_arg(flag, value));
    } else if (flag == "--bucket-mib") {
      const double mib = real_arg(flag, value);
      if (!(mib > 0))
        throw UsageError("--bucket-mib must be greater than 0");
      o.bucket_bytes = static_cast<std::size_t>(mib * (1 << 20));
    } else if (flag == "--timeout-s") {
      o.timeout_s = real_arg(flag, value);
      if (!(o.timeout_s > 0))
        throw UsageError("--timeout-s must be greater than 0");
    } else {
      throw UsageError("unknown flag \"" + flag + "\"");
    }
  }
  return o;
}

}  // namespace

int run_node_bench(std::span<const std::string> args, Streams& io) {
  train::NodeBenchOptions o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (i + 1 >= args.size())
      throw UsageError("unknown flag or missing value: \"" + flag + "\"");
    const std::string& value = args[++i];
    if (flag == "--out") {
      o.out = value;
    } else if (flag == "--gemm-size") {
      o.gemm_size = static_cast<int>(number_arg(flag, value));
    } else if (flag == "--seconds") {
      o.seconds = real_arg(flag, value);
    } else if (flag == "--threads") {
      o.threads = static_cast<int>(number_arg(flag, value));
    } else if (flag == "--reference-tflops") {
      o.reference_tflops = real_arg(flag, value);
    } else if (flag == "--accelerator") {
      o.accelerator = value;
    } else {
      throw UsageError("unknown flag \"" + flag + "\"");
    }
  }
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
