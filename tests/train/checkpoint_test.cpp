// The checkpoint format and the store.
#include <doctest/doctest.h>

#include <fstream>

#include "orchestrator/train/checkpoint.h"
#include "tests/support.h"

using namespace dojo::train;

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
