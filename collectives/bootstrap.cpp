#include "collectives/bootstrap.h"

#include <cstring>

#include "common/error.h"

namespace dojo::collectives {

StaticBootstrap::StaticBootstrap(int rank, int size, int local_rank, int local_size,
                                 std::vector<unsigned char> shared_bytes)
    : rank_(rank),
      size_(size),
      local_rank_(local_rank),
      local_size_(local_size),
      shared_(std::move(shared_bytes)) {
  if (size < 1 || rank < 0 || rank >= size || local_rank < 0 || local_rank >= local_size ||
      local_size > size) {
    throw Error("static bootstrap: rank " + std::to_string(rank) + " of " + std::to_string(size) +
                " (local " + std::to_string(local_rank) + " of " + std::to_string(local_size) +
                ") is not a valid place in a job");
  }
}

void StaticBootstrap::broadcast(void* data, std::size_t bytes, int root) {
  if (root == rank_ && size_ == 1)
    return;
  if (bytes != shared_.size()) {
    throw Error("static bootstrap: asked to broadcast " + std::to_string(bytes) +
                " bytes but was given " + std::to_string(shared_.size()));
  }
  std::memcpy(data, shared_.data(), bytes);
}

void StaticBootstrap::all_gather(const void* in, void* out, std::size_t bytes) {
  if (size_ != 1)
    throw Error("static bootstrap: all_gather needs a real rendezvous for >1 rank");
  std::memcpy(out, in, bytes);
}

}  // namespace dojo::collectives
