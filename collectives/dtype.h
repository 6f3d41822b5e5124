#pragma once
// Element types and reduction operations of collectives, and the host
// kernels that reduce them. f16 and bf16 are stored as raw 16-bit patterns
// and reduced in f32, so a sum of many ranks rounds once, not once per rank.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dojo::collectives {

enum class DType { kF32, kF16, kBF16, kF64, kI32, kI64 };
enum class ReduceOp { kSum, kAvg, kMin, kMax };

std::size_t size_of(DType dtype);
const char* to_string(DType dtype);
const char* to_string(ReduceOp op);
std::optional<DType> parse_dtype(std::string_view name);
std::optional<ReduceOp> parse_reduce_op(std::string_view name);
bool is_floating(DType dtype);

/// IEEE 754 binary16 and bfloat16 conversions, rounding to nearest even.
std::uint16_t f32_to_f16(float value);
float f16_to_f32(std::uint16_t bits);
std::uint16_t f32_to_bf16(float value);
float bf16_to_f32(std::uint16_t bits);

/// dst[i] = op(sources[0][i], ..., sources[n-1][i]) for i < count, combining
/// the sources in index order (so every rank that runs it gets the same
/// bits). `dst` may alias any source. Each element is multiplied by `scale`
/// at the end (floating types only; 1 leaves it alone): avg is sum with
/// scale 1/size. Throws dojo::Error for avg or a scale on integer types.
void reduce(void* dst, const void* const* sources, std::size_t num_sources, std::size_t count,
            DType dtype, ReduceOp op, double scale = 1.0);

/// Element `index` of an array of `dtype`, written from and read as a double
/// (16-bit floats round to nearest even). For tests, checks and benchmarks.
void store_element(void* data, std::size_t index, DType dtype, double value);
double load_element(const void* data, std::size_t index, DType dtype);

/// reduce() that also writes the result to `copy` (when not null) while it
/// is still in cache: one pass instead of a reduce and a memcpy.
void reduce_with_copy(void* dst, void* copy, const void* const* sources, std::size_t num_sources,
                      std::size_t count, DType dtype, ReduceOp op, double scale = 1.0);

/// Multiplies `count` elements in place by `scale` (floating types only).
void scale_in_place(void* data, std::size_t count, DType dtype, double scale);

}  // namespace dojo::collectives
