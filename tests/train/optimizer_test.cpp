// The optimizers and the learning-rate schedule.
#include <doctest/doctest.h>

#include <cmath>

#include "orchestrator/train/optimizer.h"

using namespace dojo::train;

TEST_CASE("the learning rate warms up linearly then decays by cosine to zero") {
  dojo::config::OptimizerConfig config;
  config.learning_rate = 0.1;
  config.warmup_steps = 10;
  Optimizer opt(config, {1}, 110);
  CHECK(opt.learning_rate(0) == doctest::Approx(0.01));
  CHECK(opt.learning_rate(9) == doctest::Approx(0.1));
  CHECK(opt.learning_rate(10) == doctest::Approx(0.1));
  CHECK(opt.learning_rate(60) == doctest::Approx(0.05));
  CHECK(opt.learning_rate(110) == doctest::Approx(0.0));
  config.schedule = dojo::config::LrSchedule::kConstant;
  CHECK(Optimizer(config, {1}, 110).learning_rate(100) == doctest::Approx(0.1));
}

TEST_CASE("SGD with momentum and AdamW update as their papers say") {
  dojo::config::OptimizerConfig sgd;
  sgd.learning_rate = 0.5;
  sgd.momentum = 0.9;
  sgd.schedule = dojo::config::LrSchedule::kConstant;
  Optimizer opt(sgd, {2}, 10);
  std::vector<std::vector<float>> w = {{1.0f, -1.0f}};
  const std::vector<float> g = {0.2f, 0.4f};
  opt.step(w, {std::span<const float>(g)}, 1.0f);
  CHECK(w[0][0] == doctest::Approx(0.9));  // 1 - 0.5 * 0.2
  opt.step(w, {std::span<const float>(g)}, 1.0f);
  CHECK(w[0][0] == doctest::Approx(0.9 - 0.5 * (0.9 * 0.2 + 0.2)));
  opt.step(w, {std::span<const float>(g)}, 0.5f);  // clipped gradient
  CHECK(w[0][1] == doctest::Approx(-1.0 - 0.5 * 0.4 - 0.5 * (0.9 * 0.4 + 0.4) -
                                   0.5 * (0.9 * (0.9 * 0.4 + 0.4) + 0.2)));

  dojo::config::OptimizerConfig adam;
  adam.type = dojo::config::OptimizerType::kAdamW;
  adam.learning_rate = 0.01;
  adam.weight_decay = 0.1;
  adam.schedule = dojo::config::LrSchedule::kConstant;
  Optimizer adamw(adam, {1}, 10);
  std::vector<std::vector<float>> v = {{2.0f}};
  const std::vector<float> grad = {-3.0f};
  adamw.step(v, {std::span<const float>(grad)}, 1.0f);
  // First step: m_hat / sqrt(v_hat) = sign(g); decoupled decay 0.01 * 0.1 * 2.
  CHECK(v[0][0] == doctest::Approx(2.0 + 0.01 - 0.01 * 0.1 * 2.0).epsilon(1e-5));
  CHECK(adamw.steps() == 1);
  CHECK(global_norm({std::span<const float>(g)}) == doctest::Approx(std::sqrt(0.2)));
}
