#pragma once
// Fashion-MNIST from its IDX gzip files (Debian package dataset-fashion-mnist).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dojo::train {

/// Images as normalised floats (row-major, one row of 784 per image) and labels 0-9.
struct Dataset {
  std::size_t count = 0;
  std::size_t features = 0;  ///< 28 * 28
  std::vector<float> images;
  std::vector<std::uint8_t> labels;
};

inline constexpr std::size_t kFashionClasses = 10;

/// Reads `<dir>/<prefix>-images-idx3-ubyte.gz` and `-labels-idx1-ubyte.gz`
/// (prefix "train" or "t10k"). Pixels are scaled to [0, 1] and standardised
/// with the training set's mean 0.2860 and standard deviation 0.3530.
/// Throws dojo::Error naming the file for a missing, truncated or
/// mislabelled file (wrong magic, dimensions, counts, or a label >= 10).
Dataset load_fashion_mnist(const std::filesystem::path& dir, const std::string& prefix);

}  // namespace dojo::train
