#include "collectives/backends/mpi/stream_copy.h"

#include <emmintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace dojo::collectives::mpi {
namespace {

// Below this, the copy likely stays in cache and plain stores are faster.
constexpr std::size_t kStreamThreshold = std::size_t{256} << 10;

}  // namespace

std::size_t last_level_cache_bytes() {
  static const std::size_t bytes = [] {
    // sysfs reports what this machine (or VM) has; sysconf may report the host's.
    for (const char* path : {"/sys/devices/system/cpu/cpu0/cache/index3/size",
                             "/sys/devices/system/cpu/cpu0/cache/index2/size"}) {
      std::ifstream in(path);
      std::size_t value = 0;
      char unit = 0;
      if (in >> value >> unit)
        return unit == 'M' ? value << 20 : unit == 'K' ? value << 10 : value;
    }
    return std::size_t{32} << 20;
  }();
  return bytes;
}

std::size_t default_staging_bytes() {
  static const std::size_t bytes = [] {
    std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index2/size");
    std::size_t value = 0;
    char unit = 0;
    std::size_t l2 = std::size_t{1} << 20;
    if (in >> value >> unit)
      l2 = unit == 'M' ? value << 20 : unit == 'K' ? value << 10 : value;
    const std::size_t piece = std::clamp(l2 / 2, std::size_t{64} << 10, std::size_t{4} << 20);
    return 2 * piece;
  }();
  return bytes;
}

void stream_copy(void* dst_raw, const void* src_raw, std::size_t bytes) {
  auto* dst = static_cast<char*>(dst_raw);
  const auto* src = static_cast<const char*>(src_raw);
  if (bytes < kStreamThreshold) {
    std::memcpy(dst, src, bytes);
    return;
  }
  // Align the destination to 16 bytes; the source may stay unaligned.
  const std::size_t head = (16 - reinterpret_cast<std::uintptr_t>(dst) % 16) % 16;
  std::memcpy(dst, src, head);
  dst += head;
  src += head;
  bytes -= head;
  const std::size_t blocks = bytes / 64;
  for (std::size_t i = 0; i < blocks; ++i) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 32));
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 48), d);
    src += 64;
    dst += 64;
  }
  std::memcpy(dst, src, bytes - blocks * 64);
  _mm_sfence();
}

}  // namespace dojo::collectives::mpi
