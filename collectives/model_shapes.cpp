#include "collectives/model_shapes.h"

#include <string>

#include "common/error.h"

namespace dojo::collectives {
namespace {

// torchvision ResNet-50 ({3, 4, 6, 3} bottleneck blocks) and ResNet-101 ({3, 4, 23, 3}).
std::vector<std::size_t> resnet(const std::size_t (&blocks)[4]) {
  std::vector<std::size_t> t;
  auto conv = [&](std::size_t in, std::size_t out, std::size_t k) {
    t.push_back(in * out * k * k);
  };
  auto batch_norm = [&](std::size_t channels) {
    t.push_back(channels);  // weight
    t.push_back(channels);  // bias
  };
  conv(3, 64, 7);
  batch_norm(64);
  std::size_t in = 64;
  const std::size_t widths[] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    const std::size_t width = widths[stage];
    for (std::size_t b = 0; b < blocks[stage]; ++b) {
      conv(in, width, 1);
      batch_norm(width);
      conv(width, width, 3);
      batch_norm(width);
      conv(width, width * 4, 1);
      batch_norm(width * 4);
      if (b == 0) {  // the downsample projection of each stage's first block
        conv(in, width * 4, 1);
        batch_norm(width * 4);
      }
      in = width * 4;
    }
  }
  t.push_back(2048 * 1000);  // fc weight
  t.push_back(1000);         // fc bias
  return t;
}

std::vector<std::size_t> bert_large() {
  constexpr std::size_t kHidden = 1024, kInner = 4096, kVocab = 30522, kPositions = 512;
  std::vector<std::size_t> t = {kVocab * kHidden, kPositions * kHidden, 2 * kHidden, kHidden,
                                kHidden};
  for (int layer = 0; layer < 24; ++layer) {
    for (int qkv = 0; qkv < 3; ++qkv) {
      t.push_back(kHidden * kHidden);
      t.push_back(kHidden);
    }
    t.insert(t.end(), {kHidden * kHidden, kHidden, kHidden, kHidden, kHidden * kInner, kInner,
                       kInner * kHidden, kHidden, kHidden, kHidden});
  }
  t.push_back(kHidden * kHidden);  // pooler
  t.push_back(kHidden);
  return t;
}

std::vector<std::size_t> gpt_1_3b() {
  constexpr std::size_t kModel = 2048, kVocab = 50257, kContext = 2048;
  std::vector<std::size_t> t = {kVocab * kModel, kContext * kModel};
  for (int layer = 0; layer < 24; ++layer) {
    t.insert(t.end(),
             {kModel, kModel, kModel * 3 * kModel, 3 * kModel, kModel * kModel, kModel, kModel,
              kModel, kModel * 4 * kModel, 4 * kModel, 4 * kModel * kModel, kModel});
  }
  t.push_back(kModel);  // final layer norm
  t.push_back(kModel);
  return t;
}

}  // namespace

std::vector<std::size_t> model_gradient_shapes(std::string_view model) {
  if (model == "resnet50")
    return resnet({3, 4, 6, 3});
  if (model == "resnet101")
    return resnet({3, 4, 23, 3});
  if (model == "bert-large")
    return bert_large();
  if (model == "gpt-1.3b")
    return gpt_1_3b();
  throw Error("unknown model \"" + std::string(model) +
              "\" (resnet50, resnet101, bert-large, gpt-1.3b)");
}

double model_gflop_per_sample(std::string_view model) {
  if (model == "resnet50")
    return 3 * 8.2;
  if (model == "resnet101")  // 7.8 G multiply-accumulates forward: 15.6 GFLOP
    return 3 * 15.6;
  if (model == "bert-large")
    return 6 * 335e6 * 512 / 1e9;
  if (model == "gpt-1.3b")
    return 6 * 1.3e9 * 2048 / 1e9;
  throw Error("unknown model \"" + std::string(model) +
              "\" (resnet50, resnet101, bert-large, gpt-1.3b)");
}

std::vector<std::string_view> known_models() {
  return {"resnet50", "resnet101", "bert-large", "gpt-1.3b"};
}

}  // namespace dojo::collectives
