#pragma once
// Large copies with non-temporal stores.

#include <cstddef>

namespace dojo::collectives::mpi {

/// memcpy that, for large copies, writes with non-temporal (streaming)
/// stores: the destination is not read first (no read-for-ownership) and does
/// not evict the caches, which cuts the memory traffic of an all-reduce whose
/// buffers exceed the last-level cache by about a third. Ends with a store
/// fence, so the data is visible to other processes after the next barrier.
void stream_copy(void* dst, const void* src, std::size_t bytes);

/// The last-level cache of this machine in bytes (from sysfs; 32 MiB when
/// it cannot be read). Streaming pays off once an operation's working set
/// is larger than this.
std::size_t last_level_cache_bytes();

/// Staging bytes per rank for all-reducing user buffers: two pieces of half
/// a core's L2 cache each (from sysfs; 1 MiB when unknown). Cutting an
/// operation into pieces this small keeps its working set in cache; on this
/// project's 2-core machine it made 4-64 MiB all-reduces 1.5-2 x faster than
/// 32 MiB pieces (docs/PERFORMANCE.md).
std::size_t default_staging_bytes();

}  // namespace dojo::collectives::mpi
