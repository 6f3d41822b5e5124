#include "collectives/bucketer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "common/error.h"

namespace dojo::collectives {
namespace {

constexpr std::size_t kAlignBytes = 64;

std::size_t align_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace

BucketPlan BucketPlan::make(const std::vector<std::size_t>& counts, std::size_t bucket_bytes,
                            std::size_t element_bytes) {
  if (bucket_bytes == 0)
    throw Error("bucket size must be greater than 0 bytes");
  const std::size_t align = std::max<std::size_t>(1, kAlignBytes / element_bytes);
  BucketPlan plan;
  plan.tensor_offset.assign(counts.size(), 0);
  plan.tensor_bucket.assign(counts.size(), 0);
  std::size_t offset = 0;
  Bucket current;
  for (std::size_t k = counts.size(); k-- > 0;) {
    const std::size_t padded = align_up(counts[k], align);
    const std::size_t current_bytes = current.count * element_bytes;
    if (!current.tensors.empty() && current_bytes + padded * element_bytes > bucket_bytes) {
      offset += current.count;
      plan.buckets.push_back(std::move(current));
      current = Bucket{};
      current.offset = offset;
    }
    plan.tensor_offset[k] = current.offset + current.count;
    plan.tensor_bucket[k] = plan.buckets.size();
    current.tensors.push_back(k);
    current.count += padded;
  }
  if (!current.tensors.empty()) {
    offset += current.count;
    plan.buckets.push_back(std::move(current));
  }
  plan.total = offset;
  return plan;
}

Bucketer::Bucketer(Communicator& comm, std::vector<std::size_t> tensor_counts,
                   BucketerOptions options)
    : comm_(comm), options_(options), counts_(std::move(tensor_counts)) {
  // With compression the buckets are sized by what travels: bf16.
  const std::size_t wire_element = options_.bf16_compression ? 2 : 4;
  plan_ = BucketPlan::make(counts_, options_.bucket_bytes, wire_element);
  fusion_ = comm_.allocate(std::max<std::size_t>(plan_.total, 1) * wire_element);
  if (options_.bf16_compression) {
    f32_storage_ = comm_.allocate(std::max<std::size_t>(plan_.total, 1) * sizeof(float));
    f32_ = static_cast<float*>(f32_storage_->data());
    comm_.zero(f32_, plan_.total * sizeof(float));
  } else {
    f32_ = static_cast<float*>(fusion_->data());
  }
  comm_.zero(fusion_->data(), plan_.total * wire_element);  // padding stays zero
  is_ready_.assign(counts_.size(), false);
  missing_.assign(plan_.buckets.size(), 0);
}

Bucketer::~Bucketer() {
  // Buckets in flight read and write the fusion buffer: let them land first.
  for (const Work& w : works_) {
    try {
      w.wait();
    } catch (...) {
    }
  }
}

void Bucketer::begin_step(double weight, double total_weight) {
  if (in_step_)
    throw Error("bucketer: begin_step() called twice without finish()");
  if (!(weight >= 0))
    throw Error("bucketer: a rank's weight must not be negative");
  if (total_weight <= 0) {
    total_weight = weight;
    comm_.control_all_reduce(&total_weight, 1, DType::kF64, ReduceOp::kSum);
    if (!(total_weight > 0))
      throw Error("bucketer: the ranks' weights add up to 0");
  }
  scale_ = static_cast<float>(weight / total_weight);
  std::fill(is_ready_.begin(), is_ready_.end(), false);
  for (std::size_t b = 0; b < plan_.buckets.size(); ++b)
    missing_[b] = plan_.buckets[b].tensors.size();
  works_.clear();
  next_launch_ = 0;
  in_step_ = true;
}

std::span<float> Bucketer::gradient(std::size_t i) {
  if (i >= counts_.size())
    throw Error("bucketer: no tensor " + std::to_string(i));
  return {f32_ + plan_.tensor_offset[i], counts_[i]};
}

void Bucketer::ready(std::size_t i, const float* values) {
  const std::span<float> slot = gradient(i);
  // CommBuffer::write copies to device memory too.
  CommBuffer& storage = options_.bf16_compression ? *f32_storage_ : *fusion_;
  storage.write(plan_.tensor_offset[i] * sizeof(float), values, slot.size_bytes());
  ready(i);
}

void Bucketer::ready(std::size_t i) {
  if (!in_step_)
    begin_step(1.0, static_cast<double>(comm_.size()));
  std::span<float> slot = gradient(i);
  if (is_ready_[i])
    throw Error("bucketer: tensor " + std::to_string(i) + " marked ready twice");
  is_ready_[i] = true;
  if (scale_ != 1.0f)
    comm_.scale(slot.data(), slot.size(), scale_);
  if (options_.bf16_compression) {
    auto* wire = static_cast<std::uint16_t*>(fusion_->data());
    comm_.encode_bf16(slot.data(), wire + plan_.tensor_offset[i], slot.size());
  }
  --missing_[plan_.tensor_bucket[i]];
  launch_ready_buckets();
}

void Bucketer::launch_ready_buckets() {
  // Buckets launch in plan order on every rank, so collectives always match.
  while (next_launch_ < plan_.buckets.size() && missing_[next_launch_] == 0) {
    const BucketPlan::Bucket& b = plan_.buckets[next_launch_];
    const DType wire = options_.bf16_compression ? DType::kBF16 : DType::kF32;
    works_.push_back(comm_.all_reduce_async(*fusion_, b.offset * size_of(wire), b.count, wire,
                                            ReduceOp::kSum, static_cast<int>(next_launch_)));
    ++next_launch_;
  }
}

void Bucketer::finish() {
  if (!in_step_)
    begin_step(1.0, static_cast<double>(comm_.size()));
  if (next_launch_ < plan_.buckets.size()) {
    std::string names;
    std::size_t shown = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      if (is_ready_[i])
        continue;
      if (shown++ < 8)
        names += (names.empty() ? "" : ", ") + std::to_string(i);
    }
    in_step_ = false;
    throw Error(
        "bucketer: finish() before every gradient was ready; tensors never marked "
        "ready: " +
        names + (shown > 8 ? " and " + std::to_string(shown - 8) + " more" : ""));
  }
  const auto start = std::chrono::steady_clock::now();
  in_step_ = false;
  for (std::size_t b = 0; b < works_.size(); ++b) {
    works_[b].wait();
    if (options_.bf16_compression) {
      const BucketPlan::Bucket& bucket = plan_.buckets[b];
      const auto* wire = static_cast<const std::uint16_t*>(fusion_->data());
      comm_.decode_bf16(wire + bucket.offset, f32_ + bucket.offset, bucket.count);
    }
  }
  comm_.synchronize();  // device memory: results are in place before anyone reads them
  if (!works_.empty()) {
    communication_seconds_ = std::chrono::duration<double>(works_.back().state()->finished_at() -
                                                           works_.front().state()->started())
                                 .count();
  }
  works_.clear();
  exposed_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::size_t Bucketer::wire_bytes() const {
  return plan_.total * (options_.bf16_compression ? 2 : 4);
}

}  // namespace dojo::collectives
