#pragma once
// Gradient fusion: tensors are packed into buckets that are all-reduced, each
// as soon as backward has produced all of its gradients, while backward goes
// on computing the rest.

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "collectives/communicator.h"

namespace dojo::collectives {

/// Which tensors share a bucket, and where each lives in the fusion buffer.
/// Backward produces gradients in reverse order of registration, so bucket 0
/// holds the last-registered tensors and is launched first.
struct BucketPlan {
  struct Bucket {
    std::vector<std::size_t> tensors;  ///< registration indices, in the order they fill
    std::size_t offset = 0;            ///< first element in the fusion buffer
    std::size_t count = 0;             ///< elements, padding included
  };
  std::vector<Bucket> buckets;
  std::vector<std::size_t> tensor_offset;  ///< element offset of each tensor
  std::vector<std::size_t> tensor_bucket;  ///< bucket of each tensor
  std::size_t total = 0;                   ///< elements in the fusion buffer

  /// Tensors of `counts` elements of `element_bytes` each, into buckets of
  /// at most `bucket_bytes` (a larger tensor gets a bucket of its own). Each
  /// tensor starts on a 64-byte boundary.
  static BucketPlan make(const std::vector<std::size_t>& counts, std::size_t bucket_bytes,
                         std::size_t element_bytes);
};

struct BucketerOptions {
  /// PyTorch DDP's default bucket size.
  std::size_t bucket_bytes = std::size_t{25} << 20;
  /// Send f32 gradients as bf16 (half the bytes), accumulating in f32.
  bool bf16_compression = false;
};

/// Fuses f32 gradients (in the communicator's memory: host for mpi, device
/// for nccl) into buckets and all-reduces them to the
/// weighted mean sum_r(w_r * g_r) / sum_r(w_r), where g_r is rank r's mean
/// gradient over its w_r samples. Every rank must register the same tensors
/// and mark them ready in any order; buckets launch in plan order everywhere.
class Bucketer {
 public:
  /// Collective: allocates the fusion buffer from `comm`.
  Bucketer(Communicator& comm, std::vector<std::size_t> tensor_counts,
           BucketerOptions options = {});
  ~Bucketer();

  const BucketPlan& plan() const { return plan_; }

  /// Starts a step in which this rank's gradients are means over `weight`
  /// samples. `total_weight` is the sum over all ranks (the global batch);
  /// 0 asks the ranks for it (one small all-reduce).
  void begin_step(double weight, double total_weight = 0);

  /// Where tensor `i`'s gradient goes (in the communicator's memory):
  /// backward writes it here, then calls ready(i).
  std::span<float> gradient(std::size_t i);

  /// Tensor `i`'s gradient is complete: it is weighted, and its bucket is
  /// launched when full (after every earlier bucket).
  void ready(std::size_t i);
  /// Copies `values` into tensor `i`'s place, then ready(i).
  void ready(std::size_t i, const float* values);

  /// Waits for every bucket. Afterwards gradient(i) holds the weighted mean.
  /// Throws dojo::Error naming tensors never marked ready, and the error of a
  /// failed all-reduce.
  void finish();

  /// Seconds spent waiting in the last finish(): communication not hidden by compute.
  double exposed_seconds() const { return exposed_seconds_; }
  /// Seconds from the first bucket's launch to the last bucket's completion
  /// in the last step: communication time, hidden or not.
  double communication_seconds() const { return communication_seconds_; }
  /// Bytes all-reduced per step (what goes on the wire per rank).
  std::size_t wire_bytes() const;

 private:
  void launch_ready_buckets();

  Communicator& comm_;
  BucketerOptions options_;
  BucketPlan plan_;
  std::vector<std::size_t> counts_;
  std::unique_ptr<CommBuffer> fusion_;       // f32, or bf16 with compression
  std::unique_ptr<CommBuffer> f32_storage_;  // with compression: where gradients are written
  float* f32_ = nullptr;                     // gradient storage
  std::vector<std::size_t> missing_;         // per bucket: tensors not yet ready
  std::vector<bool> is_ready_;
  std::vector<Work> works_;
  std::size_t next_launch_ = 0;
  float scale_ = 1.0f;
  bool in_step_ = false;
  double exposed_seconds_ = 0;
  double communication_seconds_ = 0;
};

}  // namespace dojo::collectives
