// Batch shares, the epoch order and the Fashion-MNIST reader.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <vector>

#include "common/batch_shares.h"
#include "common/error.h"
#include "orchestrator/train/data_parallel.h"
#include "orchestrator/train/fashion_mnist.h"
#include "tests/support.h"

using namespace dojo::train;
using dojo::check_given_shares;
using dojo::split_batch;

TEST_CASE("the epoch order is a permutation fixed by seed and epoch") {
  const auto a = epoch_order(7, 0, 1000);
  const auto b = epoch_order(7, 0, 1000);
  const auto c = epoch_order(7, 1, 1000);
  const auto d = epoch_order(8, 0, 1000);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a != d);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::uint32_t i = 0; i < 1000; ++i)
    CHECK(sorted[i] == i);
  // Written out by hand (Mersenne Twister + rejection), so these never change.
  const auto small = epoch_order(1, 0, 5);
  CHECK(small.size() == 5);
  CHECK(epoch_order(1, 0, 5) == small);
}

namespace {

// Writes a gzip'd IDX file: magic, dimensions, then `payload` bytes.
void write_idx(const std::filesystem::path& path, std::uint32_t magic,
               const std::vector<std::uint32_t>& dims, const std::vector<unsigned char>& payload,
               std::size_t truncate_to = SIZE_MAX) {
  std::vector<unsigned char> bytes;
  auto put = [&](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<unsigned char>(v >> shift));
  };
  put(magic);
  for (auto d : dims)
    put(d);
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  bytes.resize(std::min(bytes.size(), truncate_to));
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

void write_set(const std::filesystem::path& dir, std::uint32_t images, std::uint32_t labels,
               unsigned char label_value = 3, std::uint32_t image_magic = 0x803,
               std::size_t truncate_images = SIZE_MAX) {
  write_idx(dir / "train-images-idx3-ubyte.gz", image_magic, {images, 28, 28},
            std::vector<unsigned char>(images * 784, 128), truncate_images);
  write_idx(dir / "train-labels-idx1-ubyte.gz", 0x801, {labels},
            std::vector<unsigned char>(labels, label_value));
}

}  // namespace

TEST_CASE("the Debian Fashion-MNIST files load with their published sizes") {
  const Dataset train = load_fashion_mnist("/usr/share/datasets/fashion-mnist", "train");
  CHECK(train.count == 60000);
  CHECK(train.features == 784);
  CHECK(train.images.size() == 60000u * 784);
  CHECK(*std::max_element(train.labels.begin(), train.labels.end()) == 9);
  const Dataset test = load_fashion_mnist("/usr/share/datasets/fashion-mnist", "t10k");
  CHECK(test.count == 10000);
}

TEST_CASE("decoded files are cached, and a changed or damaged cache file is not trusted") {
  dojo::test::TempDir dir;
  const std::filesystem::path cache = dir.path() / "cache";
  ::setenv("DOJO_CACHE_DIR", cache.c_str(), 1);
  write_set(dir.path(), 4, 4, 3);
  CHECK(load_fashion_mnist(dir.path(), "train").labels[0] == 3);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(cache / "fashion-mnist"))
    files.push_back(entry.path());
  REQUIRE(files.size() == 1);
  CHECK(std::filesystem::file_size(files[0]) == 24 + 4 + 4 * 784);
  CHECK(load_fashion_mnist(dir.path(), "train").labels[0] == 3);  // from the cache
  write_set(dir.path(), 4, 4, 5);  // same sizes, other contents: decoded afresh
  CHECK(load_fashion_mnist(dir.path(), "train").labels[0] == 5);
  for (const auto& entry : std::filesystem::directory_iterator(cache / "fashion-mnist"))
    std::filesystem::resize_file(entry.path(), 100);  // damaged: ignored, decoded again
  CHECK(load_fashion_mnist(dir.path(), "train").labels[0] == 5);
  ::unsetenv("DOJO_CACHE_DIR");
}

TEST_CASE("a missing, truncated or mislabelled dataset file is a clear error naming it") {
  dojo::test::TempDir dir;
  CHECK_THROWS_WITH_AS(load_fashion_mnist(dir.path(), "train"),
                       doctest::Contains("train-images-idx3-ubyte.gz: no such file (is the Debian "
                                         "package dataset-fashion-mnist installed"),
                       dojo::Error);
  write_set(dir.path(), 4, 4);
  CHECK(load_fashion_mnist(dir.path(), "train").count == 4);

  write_set(dir.path(), 4, 4, 3, 0x803, 16 + 784 * 2 + 10);
  CHECK_THROWS_WITH_AS(
      load_fashion_mnist(dir.path(), "train"),
      doctest::Contains("train-images-idx3-ubyte.gz: truncated: the file ends inside the pixels"),
      dojo::Error);
  write_set(dir.path(), 4, 4, 12);
  CHECK_THROWS_WITH_AS(
      load_fashion_mnist(dir.path(), "train"),
      doctest::Contains("train-labels-idx1-ubyte.gz: label 12 of image 0 is not a class 0-9"),
      dojo::Error);
  write_set(dir.path(), 4, 5);
  CHECK_THROWS_WITH_AS(load_fashion_mnist(dir.path(), "train"),
                       doctest::Contains("train-labels-idx1-ubyte.gz: 5 labels for 4 images"),
                       dojo::Error);
  write_set(dir.path(), 4, 4, 3, 0x801);
  CHECK_THROWS_WITH_AS(load_fashion_mnist(dir.path(), "train"),
                       doctest::Contains("not an IDX image file (magic 2049, expected 2051)"),
                       dojo::Error);
}
