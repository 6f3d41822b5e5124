#include "orchestrator/train/fashion_mnist.h"

#include <zlib.h>

#include <array>
#include <cerrno>
#include <memory>

#include "common/error.h"

namespace dojo::train {
namespace {

// Mean and standard deviation of the Fashion-MNIST training pixels in [0, 1].
constexpr float kPixelMean = 0.2860f;
constexpr float kPixelStd = 0.3530f;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};

class IdxFile {
 public:
  explicit IdxFile(const std::filesystem::path& path) : path_(path) {
    if (!std::filesystem::exists(path)) {
      throw Error(path.string() +
                  ": no such file (is the Debian package dataset-fashion-mnist "
                  "installed, or workload.dataset_dir set?)");
    }
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_)
      throw Error(path.string() + ": cannot open: " + errno_text(errno));
  }

  void read(void* out, std::size_t bytes, const char* what) {
    auto* at = static_cast<unsigned char*>(out);
    while (bytes > 0) {
      const unsigned piece = static_cast<unsigned>(std::min<std::size_t>(bytes, 1u << 30));
      const int n = gzread(file_.get(), at, piece);
      if (n < 0) {
        int code = 0;
        throw Error(path_.string() + ": corrupt gzip data while reading " + what + ": " +
                    gzerror(file_.get(), &code));
      }
      if (n == 0)
        throw Error(path_.string() + ": truncated: the file ends inside the " + what);
      at += n;
      bytes -= static_cast<std::size_t>(n);
    }
  }

  std::uint32_t big_endian(const char* what) {
    std::array<unsigned char, 4> b{};
    read(b.data(), 4, what);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           b[3];
  }

  void expect_end() {
    unsigned char extra = 0;
    if (gzread(file_.get(), &extra, 1) > 0) {
      throw Error(path_.string() + ": has data past the end its header announces");
    }
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
};

}  // namespace

Dataset load_fashion_mnist(const std::filesystem::path& dir, const std::string& prefix) {
  IdxFile images(dir / (prefix + "-images-idx3-ubyte.gz"));
  IdxFile labels(dir / (prefix + "-labels-idx1-ubyte.gz"));

  const std::uint32_t image_magic = images.big_endian("header");
  if (image_magic != 0x00000803) {
    throw Error(images.path().string() + ": not an IDX image file (magic " +
                std::to_string(image_magic) + ", expected 2051)");
  }
  const std::uint32_t count = images.big_endian("header");
  const std::uint32_t rows = images.big_endian("header");
  const std::uint32_t cols = images.big_endian("header");
  if (rows != 28 || cols != 28) {
    throw Error(images.path().string() + ": images are " + std::to_string(rows) + "x" +
                std::to_string(cols) + ", expected 28x28");
  }
  const std::uint32_t label_magic = labels.big_endian("header");
  if (label_magic != 0x00000801) {
    throw Error(labels.path().string() + ": not an IDX label file (magic " +
                std::to_string(label_magic) + ", expected 2049)");
  }
  const std::uint32_t label_count = labels.big_endian("header");
  if (label_count != count) {
    throw Error(labels.path().string() + ": " + std::to_string(label_count) + " labels for " +
                std::to_string(count) + " images in " + images.path().filename().string());
  }

  Dataset data;
  data.count = count;
  data.features = static_cast<std::size_t>(rows) * cols;
  std::vector<unsigned char> pixels(data.count * data.features);
  images.read(pixels.data(), pixels.size(), "pixels");
  images.expect_end();
  data.labels.resize(data.count);
  labels.read(data.labels.data(), data.labels.size(), "labels");
  labels.expect_end();
  for (std::size_t i = 0; i < data.count; ++i) {
    if (data.labels[i] >= kFashionClasses) {
      throw Error(labels.path().string() + ": label " + std::to_string(data.labels[i]) +
                  " of image " + std::to_string(i) + " is not a class 0-9");
    }
  }
  data.images.resize(pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    data.images[i] = (static_cast<float>(pixels[i]) / 255.0f - kPixelMean) / kPixelStd;
  }
  return data;
}

}  // namespace dojo::train
