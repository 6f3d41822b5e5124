// The MLP's gradients.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "orchestrator/train/checkpoint.h"
#include "orchestrator/train/mlp.h"
#include "orchestrator/train/optimizer.h"
#include "tests/support.h"

using namespace dojo::train;

TEST_CASE("backward matches finite differences and reports the last layer first") {
  MlpShape shape;
  shape.inputs = 6;
  shape.hidden = {5, 4};
  shape.classes = 3;
  Mlp mlp(shape, 11);
  const std::vector<float> x = {0.3f, -1.2f, 0.8f,  0.1f,  -0.5f, 2.0f, 1.1f,  0.4f, -0.3f,
                                0.9f, 0.2f,  -0.7f, -1.0f, 0.5f,  0.6f, -0.2f, 1.3f, 0.05f};
  const std::vector<std::uint8_t> labels = {2, 0, 1};
  auto counts = mlp.parameter_counts();
  std::vector<std::vector<float>> grads;
  for (auto c : counts)
    grads.emplace_back(c);
  std::vector<std::size_t> order;
  mlp.forward(x.data(), labels.data(), 3);
  mlp.backward([&](std::size_t t) { return std::span<float>(grads[t]); },
               [&](std::size_t t) { order.push_back(t); });
  CHECK(order == std::vector<std::size_t>{4, 5, 2, 3, 0, 1});

  auto mean_loss = [&] { return mlp.evaluate(x.data(), labels.data(), 3).loss_sum / 3.0; };
  int checked = 0;
  for (std::size_t t = 0; t < counts.size(); ++t) {
    for (std::size_t i = 0; i < counts[t]; i += 3) {
      float& w = mlp.parameters()[t][i];
      const float saved = w;
      const float h = 1e-2f;
      w = saved + h;
      const double up = mean_loss();
      w = saved - h;
      const double down = mean_loss();
      w = saved;
      const double numeric = (up - down) / (2 * h);
      CHECK(grads[t][i] == doctest::Approx(numeric).epsilon(2e-2).scale(1e-3));
      ++checked;
    }
  }
  CHECK(checked > 20);
}
