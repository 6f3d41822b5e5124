// The MLP's gradients, the optimizers, the checkpoint format and Young-Daly.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "orchestrator/reliability/young_daly.h"
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

TEST_CASE("Young-Daly: sqrt(2 x save time x job MTBF) with the job MTBF from the device MTBF") {
  using namespace dojo::reliability;
  CHECK(job_mtbf_seconds(50000, 1000) == doctest::Approx(180000));
  CHECK(young_daly_interval_seconds(30, 180000) == doctest::Approx(std::sqrt(2.0 * 30 * 180000)));
  // Llama 3's scale: 16,384 GPUs at 419 failures in 54 days is one every ~3.1 h.
  CHECK(job_mtbf_seconds(16384.0 * 54 * 24 / 419, 16384) ==
        doctest::Approx(54.0 * 24 * 3600 / 419));
  CHECK_THROWS_WITH_AS(young_daly_interval_seconds(0, 10),
                       doctest::Contains("needs a positive save time and MTBF"), dojo::Error);
}

namespace {

TrainState sample_state(std::int64_t step) {
  TrainState s;
  s.job = "unit";
  s.seed = 42;
  s.step = step;
  s.epoch = 2;
  s.position = 384;
  s.optimizer_steps = step;
  s.model = {{1.0f, 2.0f, 3.0f}, {-1.5f}};
  s.optimizer = {{0.1f, 0.2f, 0.3f}, {0.5f}};
  return s;
}

std::vector<unsigned char> read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::filesystem::path& p, const std::vector<unsigned char>& bytes) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("a checkpoint round-trips and every kind of damage is named") {
  const TrainState s = sample_state(7);
  const auto bytes = serialize(s);
  const TrainState back = deserialize(bytes, "x");
  CHECK(back.job == "unit");
  CHECK(back.step == 7);
  CHECK(back.position == 384);
  CHECK(back.model == s.model);
  CHECK(back.optimizer == s.optimizer);

  auto truncated = bytes;
  truncated.resize(bytes.size() - 9);
  CHECK_THROWS_WITH_AS(deserialize(truncated, "ck"), doctest::Contains("ck: truncated"),
                       CheckpointError);
  auto flipped = bytes;
  flipped[40] ^= 0x10;
  CHECK_THROWS_WITH_AS(deserialize(flipped, "ck"), "ck: checksum mismatch (the file is corrupt)",
                       CheckpointError);
  auto magic = bytes;
  magic[0] = 'X';
  CHECK_THROWS_WITH_AS(deserialize(magic, "ck"), "ck: not a dojo checkpoint (bad magic)",
                       CheckpointError);
  auto version = bytes;
  version[8] = 9;
  CHECK_THROWS_WITH_AS(deserialize(version, "ck"), "ck: format version 9, this dojo reads 1",
                       CheckpointError);
}

TEST_CASE("the store keeps the newest K and falls back past a corrupt newest checkpoint") {
  dojo::test::TempDir dir;
  CheckpointStore store(dir.path() / "ckpt", 2);
  for (std::int64_t step : {10, 20, 30})
    store.save(sample_state(step));
  const auto files = store.list();
  REQUIRE(files.size() == 2);
  CHECK(files[0].filename() == "step-000000000020.ckpt");
  CHECK(files[1].filename() == "step-000000000030.ckpt");

  auto newest = read_all(files[1]);
  newest[newest.size() / 2] ^= 0xff;
  write_all(files[1], newest);
  std::vector<std::string> skipped;
  const auto loaded =
      store.load_newest([&](const auto&, const std::string& why) { skipped.push_back(why); });
  REQUIRE(loaded.has_value());
  CHECK(loaded->step == 20);
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0] == files[1].string() + ": checksum mismatch (the file is corrupt)");

  std::filesystem::resize_file(files[0], 30);  // truncated too: nothing usable
  skipped.clear();
  CHECK_FALSE(
      store.load_newest([&](const auto&, const std::string& why) { skipped.push_back(why); })
          .has_value());
  CHECK(skipped.size() == 2);
}

TEST_CASE("a checkpoint that cannot be written leaves no file behind") {
  dojo::test::TempDir dir;
  const auto blocked = dir.path() / "not-a-dir";
  std::ofstream(blocked) << "a file where the checkpoint directory should be";
  CheckpointStore store(blocked / "ckpt", 2);
  CHECK_THROWS_AS(store.save(sample_state(1)), std::exception);
  CHECK(std::filesystem::is_regular_file(blocked));
}
