#include "orchestrator/train/fashion_mnist.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>

#include "common/atomic_file.h"
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

/// One pair of IDX files as stored: pixels 0-255 and labels.
struct Decoded {
  std::size_t count = 0;
  std::size_t features = 0;
  std::vector<unsigned char> pixels;
  std::vector<std::uint8_t> labels;
};

// Inflating the 60,000 training images costs every rank about 0.45 s of its
// start (and a restarted attempt as much); reading them back uncompressed
// costs some 0.02 s. So the first rank to decode a pair of files keeps them
// in a cache file, named by the files' paths, sizes, modification times and
// gzip trailers (the CRC-32 of their contents): a changed file is decoded afresh. Written
// atomically; one that does not read back whole is decoded again. No cache directory, no cache.
constexpr char kCacheMagic[8] = {'D', 'O', 'J', 'O', 'I', 'D', 'X', '1'};

std::optional<std::filesystem::path> cache_path(const std::filesystem::path& images,
                                                const std::filesystem::path& labels,
                                                const std::string& prefix) {
  std::filesystem::path root;
  if (const char* dir = std::getenv("DOJO_CACHE_DIR"); dir != nullptr && *dir != '\0')
    root = dir;
  else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0')
    root = std::filesystem::path(xdg) / "dojo";
  else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    root = std::filesystem::path(home) / ".cache" / "dojo";
  else
    return std::nullopt;
  std::string key;
  for (const std::filesystem::path& file : {images, labels}) {
    std::error_code ec;
    const std::filesystem::path canonical = std::filesystem::canonical(file, ec);
    const auto size = std::filesystem::file_size(file, ec);
    const auto modified = std::filesystem::last_write_time(file, ec);
    if (ec || size < 8)
      return std::nullopt;  // decoding names what is wrong with the file
    // A gzip file ends with the CRC-32 and size of what it holds: files
    // rewritten within one timestamp tick still differ there.
    char trailer[8] = {};
    std::ifstream in(file, std::ios::binary);
    in.seekg(-8, std::ios::end);
    in.read(trailer, sizeof(trailer));
    key += canonical.string() + "\n" + std::to_string(size) + "\n" +
           std::to_string(modified.time_since_epoch().count()) + "\n" +
           std::string(trailer, sizeof(trailer)) + "\n";
  }
  char name[64];
  std::snprintf(name, sizeof(name), "%s-%016zx.u8", prefix.c_str(), std::hash<std::string>{}(key));
  return root / "fashion-mnist" / name;
}

bool read_cache(const std::filesystem::path& path, Decoded& out) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return false;
  const auto size = static_cast<std::size_t>(in.tellg());
  in.seekg(0);
  char magic[8];
  std::uint64_t count = 0;
  std::uint64_t features = 0;
  in.read(magic, sizeof(magic));
  in.read(reinterpret_cast<char*>(&count), sizeof(count));
  in.read(reinterpret_cast<char*>(&features), sizeof(features));
  constexpr std::size_t kHeader = sizeof(kCacheMagic) + 2 * sizeof(std::uint64_t);
  if (!in || std::memcmp(magic, kCacheMagic, sizeof(magic)) != 0 || features != 28 * 28 ||
      count > (size - kHeader) || size != kHeader + count * (1 + features))
    return false;
  out.count = count;
  out.features = features;
  out.labels.resize(count);
  out.pixels.resize(count * features);
  in.read(reinterpret_cast<char*>(out.labels.data()), static_cast<std::streamsize>(count));
  in.read(reinterpret_cast<char*>(out.pixels.data()),
          static_cast<std::streamsize>(out.pixels.size()));
  return static_cast<bool>(in) &&
         std::all_of(out.labels.begin(), out.labels.end(),
                     [](std::uint8_t label) { return label < kFashionClasses; });
}

void write_cache(const std::filesystem::path& path, const Decoded& d) {
  std::string bytes(kCacheMagic, sizeof(kCacheMagic));
  const std::uint64_t header[2] = {d.count, d.features};
  bytes.append(reinterpret_cast<const char*>(header), sizeof(header));
  bytes.append(reinterpret_cast<const char*>(d.labels.data()), d.labels.size());
  bytes.append(reinterpret_cast<const char*>(d.pixels.data()), d.pixels.size());
  try {
    std::filesystem::create_directories(path.parent_path());
    write_file_atomically(path.string(), bytes);
  } catch (const std::exception&) {
    // A read-only or full cache directory only costs the next start the decoding.
  }
}

/// Inflates and checks one pair of IDX files into `pixels` and `labels`.
void decode_idx(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                Decoded& out) {
  IdxFile images(images_path);
  IdxFile labels(labels_path);

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

  out.count = count;
  out.features = static_cast<std::size_t>(rows) * cols;
  out.pixels.resize(out.count * out.features);
  images.read(out.pixels.data(), out.pixels.size(), "pixels");
  images.expect_end();
  out.labels.resize(out.count);
  labels.read(out.labels.data(), out.labels.size(), "labels");
  labels.expect_end();
  for (std::size_t i = 0; i < out.count; ++i) {
    if (out.labels[i] >= kFashionClasses) {
      throw Error(labels.path().string() + ": label " + std::to_string(out.labels[i]) +
                  " of image " + std::to_string(i) + " is not a class 0-9");
    }
  }
}

}  // namespace

Dataset load_fashion_mnist(const std::filesystem::path& dir, const std::string& prefix) {
  const std::filesystem::path images = dir / (prefix + "-images-idx3-ubyte.gz");
  const std::filesystem::path labels = dir / (prefix + "-labels-idx1-ubyte.gz");
  const std::optional<std::filesystem::path> cache = cache_path(images, labels, prefix);
  Decoded decoded;
  if (!cache || !read_cache(*cache, decoded)) {
    decode_idx(images, labels, decoded);
    if (cache)
      write_cache(*cache, decoded);
  }
  Dataset data;
  data.count = decoded.count;
  data.features = decoded.features;
  data.labels = std::move(decoded.labels);
  const std::vector<unsigned char>& pixels = decoded.pixels;
  // (p / 255 - mean) / std as one multiply-add per pixel.
  constexpr float kScale = 1.0f / (255.0f * kPixelStd);
  constexpr float kShift = -kPixelMean / kPixelStd;
  data.images.resize(pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i)
    data.images[i] = static_cast<float>(pixels[i]) * kScale + kShift;
  return data;
}

}  // namespace dojo::train
