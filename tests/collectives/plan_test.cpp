// Bucket planning and element conversions, in-process without MPI.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "collectives/bucketer.h"
#include "collectives/dtype.h"
#include "collectives/model_shapes.h"

using namespace dojo::collectives;

TEST_CASE("buckets fill from the last tensor and stay under the bucket size") {
  // 4-byte elements, 64-byte alignment: tensors pad to multiples of 16 elements.
  const BucketPlan plan = BucketPlan::make({16, 16, 16, 16, 16}, 128, 4);
  REQUIRE(plan.buckets.size() == 3);
  CHECK(plan.buckets[0].tensors == std::vector<std::size_t>{4, 3});
  CHECK(plan.buckets[1].tensors == std::vector<std::size_t>{2, 1});
  CHECK(plan.buckets[2].tensors == std::vector<std::size_t>{0});
  CHECK(plan.tensor_offset[4] == 0);
  CHECK(plan.tensor_offset[3] == 16);
  CHECK(plan.tensor_offset[0] == 64);
  CHECK(plan.tensor_bucket[1] == 1);
  CHECK(plan.total == 80);
}

TEST_CASE("a tensor larger than a bucket gets a bucket of its own") {
  const BucketPlan plan = BucketPlan::make({10, 1000, 10}, 256, 4);
  REQUIRE(plan.buckets.size() == 3);
  CHECK(plan.buckets[1].tensors == std::vector<std::size_t>{1});
  CHECK(plan.buckets[1].count == 1008);  // padded to 64 bytes
  CHECK(plan.total == 16 + 1008 + 16);
}

TEST_CASE("zero-size tensors and an empty model plan without error") {
  const BucketPlan empty = BucketPlan::make({}, 1024, 4);
  CHECK(empty.buckets.empty());
  CHECK(empty.total == 0);
  const BucketPlan zeros = BucketPlan::make({0, 0, 5}, 1024, 4);
  CHECK(zeros.buckets.size() == 1);
  CHECK(zeros.buckets[0].tensors.size() == 3);
  CHECK_THROWS_WITH_AS(BucketPlan::make({1}, 0, 4), "bucket size must be greater than 0 bytes",
                       dojo::Error);
}

TEST_CASE("a ResNet-50-sized set of 161 tensors fills 25 MiB buckets") {
  // 25.6 M parameters in 161 tensors: the bucket count follows from the bytes.
  std::vector<std::size_t> counts(161, 25'557'032 / 161);
  const BucketPlan plan = BucketPlan::make(counts, std::size_t{25} << 20, 4);
  CHECK(plan.buckets.size() == 4);
  std::size_t tensors = 0;
  for (const auto& b : plan.buckets) {
    CHECK(b.count * 4 <= (std::size_t{25} << 20));
    tensors += b.tensors.size();
  }
  CHECK(tensors == 161);
}

TEST_CASE("bf16 and f16 conversions round to nearest even and keep specials") {
  CHECK(bf16_to_f32(f32_to_bf16(1.0f)) == 1.0f);
  CHECK(bf16_to_f32(f32_to_bf16(3.0f)) == 3.0f);
  // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties to even (1).
  CHECK(bf16_to_f32(f32_to_bf16(1.0f + std::ldexp(1.0f, -8))) == 1.0f);
  CHECK(bf16_to_f32(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8))) == 1.0f + std::ldexp(1.0f, -6));
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isinf(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::infinity()))));

  CHECK(f16_to_f32(f32_to_f16(1.0f)) == 1.0f);
  CHECK(f16_to_f32(f32_to_f16(65504.0f)) == 65504.0f);
  CHECK(std::isinf(f16_to_f32(f32_to_f16(65520.0f))));
  CHECK(f16_to_f32(f32_to_f16(std::ldexp(1.0f, -24))) ==
        std::ldexp(1.0f, -24));                                  // smallest subnormal
  CHECK(f16_to_f32(f32_to_f16(std::ldexp(1.0f, -25))) == 0.0f);  // ties to even: 0
  CHECK(f16_to_f32(f32_to_f16(-2.5f)) == -2.5f);
  CHECK(f16_to_f32(f32_to_f16(0.1f)) == doctest::Approx(0.1f).epsilon(1e-3));
  // Every f16 value survives a round trip through f32.
  int bad = 0;
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(static_cast<std::uint16_t>(h));
    if (std::isnan(f))
      continue;
    if (f32_to_f16(f) != h)
      ++bad;
  }
  CHECK(bad == 0);
}

TEST_CASE("reduce combines sources in order and refuses avg on integers") {
  const float a[3] = {1, 5, -2};
  const float b[3] = {4, 2, -7};
  const void* sources[2] = {a, b};
  float out[3];
  reduce(out, sources, 2, 3, DType::kF32, ReduceOp::kMax);
  CHECK(out[0] == 4);
  CHECK(out[1] == 5);
  CHECK(out[2] == -2);
  reduce(out, sources, 2, 3, DType::kF32, ReduceOp::kAvg, 0.5);
  CHECK(out[0] == 2.5f);
  const std::int32_t i[1] = {3};
  const void* int_sources[1] = {i};
  std::int32_t int_out[1];
  CHECK_THROWS_WITH_AS(reduce(int_out, int_sources, 1, 1, DType::kI32, ReduceOp::kAvg),
                       "avg is not defined for integer type i32 (use sum and divide)", dojo::Error);
  CHECK(parse_dtype("bf16") == DType::kBF16);
  CHECK_FALSE(parse_dtype("fp8").has_value());
}

TEST_CASE("model gradient shapes match the published parameter counts") {
  auto total = [](const std::vector<std::size_t>& shapes) {
    std::size_t sum = 0;
    for (std::size_t s : shapes)
      sum += s;
    return sum;
  };
  const auto resnet = model_gradient_shapes("resnet50");
  CHECK(resnet.size() == 161);
  CHECK(total(resnet) == 25'557'032);
  const auto resnet101 = model_gradient_shapes("resnet101");
  CHECK(resnet101.size() == 314);
  CHECK(total(resnet101) == 44'549'160);
  const auto bert = model_gradient_shapes("bert-large");
  CHECK(bert.size() == 391);
  CHECK(total(bert) == doctest::Approx(335e6).epsilon(0.01));
  const auto gpt = model_gradient_shapes("gpt-1.3b");
  CHECK(gpt.size() == 292);
  CHECK(total(gpt) == doctest::Approx(1.3e9).epsilon(0.05));
  CHECK_THROWS_WITH_AS(model_gradient_shapes("vgg16"),
                       "unknown model \"vgg16\" (resnet50, resnet101, bert-large, gpt-1.3b)",
                       dojo::Error);
}
