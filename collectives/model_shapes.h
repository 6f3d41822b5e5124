#pragma once
// The gradient tensors of well-known models, in registration (forward)
// order: what a data-parallel step of that model all-reduces.

#include <cstddef>
#include <string_view>
#include <vector>

namespace dojo::collectives {

/// Element counts of every parameter tensor of `model`: "resnet50"
/// (torchvision ResNet-50: 161 tensors, 25,557,032 parameters), "resnet101"
/// (314 tensors, 44,549,160 parameters),
/// "bert-large" (BERT-Large uncased with pooler: 391 tensors, ~335 M) or
/// "gpt-1.3b" (GPT-style, 24 layers, d_model 2048: 292 tensors, ~1.3 B).
/// Throws dojo::Error for another name.
std::vector<std::size_t> model_gradient_shapes(std::string_view model);

/// Forward + backward FLOPs of one sample of `model` (about 3 x the forward
/// pass): resnet50 at 224 x 224 (3 x 8.2 GFLOP), resnet101 (3 x 15.6 GFLOP: its often-quoted
/// "7.8 GFLOPs" are multiply-accumulates, where ResNet-50's 8.2 are FLOPs), bert-large at 512
/// tokens and gpt-1.3b at 2,048 tokens (6 x parameters x tokens), in GFLOP. Throws dojo::Error for
/// another name.
double model_gflop_per_sample(std::string_view model);

/// The names model_gradient_shapes() knows.
std::vector<std::string_view> known_models();

}  // namespace dojo::collectives
