#include "orchestrator/train/mlp_init.h"

#include <cmath>
#include <random>

#include "common/error.h"

namespace dojo::train {
namespace {

// A standard normal draw from two 53-bit uniforms (Box-Muller), written out so
// that initial weights do not depend on the standard library's distributions.
double normal(std::mt19937_64& rng) {
  constexpr double kScale = 1.0 / 9007199254740992.0;  // 2^-53
  const double u1 = (static_cast<double>(rng() >> 11) + 1.0) * kScale;
  const double u2 = static_cast<double>(rng() >> 11) * kScale;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace

std::vector<std::size_t> layer_widths(const MlpShape& shape) {
  if (shape.inputs == 0 || shape.classes == 0)
    throw Error("an MLP needs inputs and classes");
  std::vector<std::size_t> widths{shape.inputs};
  for (int h : shape.hidden) {
    if (h < 1)
      throw Error("every hidden layer needs at least one unit");
    widths.push_back(static_cast<std::size_t>(h));
  }
  widths.push_back(shape.classes);
  return widths;
}

std::vector<std::vector<float>> initial_parameters(const MlpShape& shape, std::uint64_t seed) {
  const std::vector<std::size_t> widths = layer_widths(shape);
  std::mt19937_64 rng(seed);
  std::vector<std::vector<float>> params;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    const std::size_t in = widths[l];
    const std::size_t out = widths[l + 1];
    std::vector<float> weight(in * out);
    const double stddev = std::sqrt(2.0 / static_cast<double>(in));  // He initialisation for ReLU
    for (float& w : weight)
      w = static_cast<float>(normal(rng) * stddev);
    params.push_back(std::move(weight));
    params.emplace_back(out, 0.0f);
  }
  return params;
}

}  // namespace dojo::train
