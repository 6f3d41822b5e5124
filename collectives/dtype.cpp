#include "collectives/dtype.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace dojo::collectives {
namespace {

std::uint32_t bits_of(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float float_of(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

// Element access that widens 16-bit floats to f32 for arithmetic.
template <class T>
struct Element {
  using Storage = T;
  using Math = T;
  static Math load(Storage v) { return v; }
  static Storage store(Math v) { return v; }
};
struct F16 {
  using Storage = std::uint16_t;
  using Math = float;
  static Math load(Storage v) { return f16_to_f32(v); }
  static Storage store(Math v) { return f32_to_f16(v); }
};
struct BF16 {
  using Storage = std::uint16_t;
  using Math = float;
  static Math load(Storage v) { return bf16_to_f32(v); }
  static Storage store(Math v) { return f32_to_bf16(v); }
};

// Blocks keep the partial results in a small stack array that stays in L1,
// while each source streams through once.
constexpr std::size_t kBlock = 1024;

template <class E, class Combine>
void reduce_typed(void* dst_raw, void* copy_raw, const void* const* sources, std::size_t n,
                  std::size_t count, Combine combine, double scale) {
  using S = typename E::Storage;
  using M = typename E::Math;
  S* dst = static_cast<S*>(dst_raw);
  S* copy = static_cast<S*>(copy_raw);
  M acc[kBlock];
  for (std::size_t base = 0; base < count; base += kBlock) {
    const std::size_t len = std::min(kBlock, count - base);
    const S* first = static_cast<const S*>(sources[0]) + base;
    for (std::size_t i = 0; i < len; ++i)
      acc[i] = E::load(first[i]);
    for (std::size_t s = 1; s < n; ++s) {
      const S* src = static_cast<const S*>(sources[s]) + base;
      for (std::size_t i = 0; i < len; ++i)
        acc[i] = combine(acc[i], E::load(src[i]));
    }
    if (scale != 1.0) {
      const M factor = static_cast<M>(scale);
      for (std::size_t i = 0; i < len; ++i)
        acc[i] *= factor;
    }
    for (std::size_t i = 0; i < len; ++i)
      dst[base + i] = E::store(acc[i]);
    if (copy != nullptr)
      std::memcpy(copy + base, dst + base, len * sizeof(S));
  }
}

template <class E>
void reduce_op(void* dst, void* copy, const void* const* sources, std::size_t n, std::size_t count,
               ReduceOp op, double scale) {
  using M = typename E::Math;
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kAvg:
      reduce_typed<E>(
          dst, copy, sources, n, count, [](M a, M b) { return a + b; }, scale);
      break;
    case ReduceOp::kMin:
      reduce_typed<E>(
          dst, copy, sources, n, count, [](M a, M b) { return b < a ? b : a; }, scale);
      break;
    case ReduceOp::kMax:
      reduce_typed<E>(
          dst, copy, sources, n, count, [](M a, M b) { return a < b ? b : a; }, scale);
      break;
  }
}

}  // namespace

std::size_t size_of(DType dtype) {
  switch (dtype) {
    case DType::kF32:
    case DType::kI32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
      return 2;
    case DType::kF64:
    case DType::kI64:
      return 8;
  }
  return 0;
}

const char* to_string(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "f32";
    case DType::kF16:
      return "f16";
    case DType::kBF16:
      return "bf16";
    case DType::kF64:
      return "f64";
    case DType::kI32:
      return "i32";
    case DType::kI64:
      return "i64";
  }
  return "?";
}

const char* to_string(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "sum";
    case ReduceOp::kAvg:
      return "avg";
    case ReduceOp::kMin:
      return "min";
    case ReduceOp::kMax:
      return "max";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view name) {
  for (DType d : {DType::kF32, DType::kF16, DType::kBF16, DType::kF64, DType::kI32, DType::kI64}) {
    if (name == to_string(d))
      return d;
  }
  return std::nullopt;
}

std::optional<ReduceOp> parse_reduce_op(std::string_view name) {
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAvg, ReduceOp::kMin, ReduceOp::kMax}) {
    if (name == to_string(op))
      return op;
  }
  return std::nullopt;
}

bool is_floating(DType dtype) {
  return dtype != DType::kI32 && dtype != DType::kI64;
}

std::uint16_t f32_to_bf16(float value) {
  std::uint32_t bits = bits_of(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<std::uint16_t>((bits >> 16) | 0x40u);  // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);                      // round to nearest even
  return static_cast<std::uint16_t>(bits >> 16);
}

float bf16_to_f32(std::uint16_t bits) {
  return float_of(static_cast<std::uint32_t>(bits) << 16);
}

std::uint16_t f32_to_f16(float value) {
  const std::uint32_t bits = bits_of(value);
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  const std::uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u)
    return static_cast<std::uint16_t>(sign | 0x7e00u);  // NaN
  if (abs >= 0x477ff000u)
    return static_cast<std::uint16_t>(sign | 0x7c00u);  // overflow to inf
  if (abs < 0x38800000u) {
    // Subnormal or zero in f16: shift the (implicit-1) mantissa into place, rounding to even.
    if (abs < 0x33000000u)
      return static_cast<std::uint16_t>(sign);  // below half the smallest subnormal
    const std::uint32_t exponent = abs >> 23;
    const std::uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - exponent;  // value / 2^-24, the f16 subnormal step
    std::uint32_t half = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1u)))
      ++half;
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  rounded -= 0x38000000u;  // rebias exponent from 127 to 15
  return static_cast<std::uint16_t>(sign | (rounded >> 13));
}

float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f)
    return float_of(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    if (mantissa == 0)
      return float_of(sign);
    // Subnormal: normalise.
    int e = -1;
    do {
      ++e;
      mantissa <<= 1;
    } while ((mantissa & 0x400u) == 0);
    mantissa &= 0x3ffu;
    return float_of(sign | (static_cast<std::uint32_t>(112 - e) << 23) | (mantissa << 13));
  }
  return float_of(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

void reduce(void* dst, const void* const* sources, std::size_t num_sources, std::size_t count,
            DType dtype, ReduceOp op, double scale) {
  reduce_with_copy(dst, nullptr, sources, num_sources, count, dtype, op, scale);
}

void reduce_with_copy(void* dst, void* copy, const void* const* sources, std::size_t num_sources,
                      std::size_t count, DType dtype, ReduceOp op, double scale) {
  if (!is_floating(dtype) && (op == ReduceOp::kAvg || scale != 1.0)) {
    throw Error(std::string("avg is not defined for integer type ") + to_string(dtype) +
                " (use sum and divide)");
  }
  if (count == 0 || num_sources == 0)
    return;
  switch (dtype) {
    case DType::kF32:
      return reduce_op<Element<float>>(dst, copy, sources, num_sources, count, op, scale);
    case DType::kF64:
      return reduce_op<Element<double>>(dst, copy, sources, num_sources, count, op, scale);
    case DType::kI32:
      return reduce_op<Element<std::int32_t>>(dst, copy, sources, num_sources, count, op, 1.0);
    case DType::kI64:
      return reduce_op<Element<std::int64_t>>(dst, copy, sources, num_sources, count, op, 1.0);
    case DType::kF16:
      return reduce_op<F16>(dst, copy, sources, num_sources, count, op, scale);
    case DType::kBF16:
      return reduce_op<BF16>(dst, copy, sources, num_sources, count, op, scale);
  }
}

void store_element(void* data, std::size_t index, DType dtype, double value) {
  unsigned char* at = static_cast<unsigned char*>(data) + index * size_of(dtype);
  switch (dtype) {
    case DType::kF32: {
      const float f = static_cast<float>(value);
      std::memcpy(at, &f, 4);
      return;
    }
    case DType::kF64:
      std::memcpy(at, &value, 8);
      return;
    case DType::kI32: {
      const auto x = static_cast<std::int32_t>(value);
      std::memcpy(at, &x, 4);
      return;
    }
    case DType::kI64: {
      const auto x = static_cast<std::int64_t>(value);
      std::memcpy(at, &x, 8);
      return;
    }
    case DType::kF16:
    case DType::kBF16: {
      const float f = static_cast<float>(value);
      const std::uint16_t h = dtype == DType::kF16 ? f32_to_f16(f) : f32_to_bf16(f);
      std::memcpy(at, &h, 2);
      return;
    }
  }
}

double load_element(const void* data, std::size_t index, DType dtype) {
  const unsigned char* at = static_cast<const unsigned char*>(data) + index * size_of(dtype);
  switch (dtype) {
    case DType::kF32: {
      float f;
      std::memcpy(&f, at, 4);
      return f;
    }
    case DType::kF64: {
      double d;
      std::memcpy(&d, at, 8);
      return d;
    }
    case DType::kI32: {
      std::int32_t x;
      std::memcpy(&x, at, 4);
      return x;
    }
    case DType::kI64: {
      std::int64_t x;
      std::memcpy(&x, at, 8);
      return static_cast<double>(x);
    }
    case DType::kF16:
    case DType::kBF16: {
      std::uint16_t h;
      std::memcpy(&h, at, 2);
      return dtype == DType::kF16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
  }
  return 0;
}

void scale_in_place(void* data, std::size_t count, DType dtype, double scale) {
  const void* sources[1] = {data};
  reduce(data, sources, 1, count, dtype, ReduceOp::kSum, scale);
}

}  // namespace dojo::collectives
