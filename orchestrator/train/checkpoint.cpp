#include "orchestrator/train/checkpoint.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "common/atomic_file.h"

namespace dojo::train {
namespace {

constexpr char kMagic[8] = {'D', 'O', 'J', 'O', 'C', 'K', 'P', 'T'};
constexpr std::size_t kHeaderBytes = 8 + 4 + 4 + 8;

class Writer {
 public:
  template <class T>
  void put(T value) {
    const auto* p = reinterpret_cast<const unsigned char*>(&value);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<std::uint32_t>(s.size()));
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  void put_tensors(const std::vector<std::vector<float>>& tensors) {
    put(static_cast<std::uint32_t>(tensors.size()));
    for (const auto& t : tensors) {
      put(static_cast<std::uint64_t>(t.size()));
      const auto* p = reinterpret_cast<const unsigned char*>(t.data());
      bytes.insert(bytes.end(), p, p + t.size() * sizeof(float));
    }
  }
  std::vector<unsigned char> bytes;
};

class Reader {
 public:
  Reader(const unsigned char* data, std::size_t size, const std::string& source)
      : data_(data), size_(size), source_(source) {}
  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, data_ + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  std::string get_string(const char* what) {
    const auto n = get<std::uint32_t>(what);
    need(n, what);
    std::string s(reinterpret_cast<const char*>(data_ + at_), n);
    at_ += n;
    return s;
  }
  std::vector<std::vector<float>> get_tensors(const char* what) {
    const auto n = get<std::uint32_t>(what);
    std::vector<std::vector<float>> tensors;
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto count = get<std::uint64_t>(what);
      if (count > (size_ - at_) / sizeof(float))
        need(size_ + 1, what);
      std::vector<float> t(count);
      std::memcpy(t.data(), data_ + at_, count * sizeof(float));
      at_ += count * sizeof(float);
      tensors.push_back(std::move(t));
    }
    return tensors;
  }
  std::size_t remaining() const { return size_ - at_; }

 private:
  void need(std::size_t bytes, const char* what) {
    if (bytes > size_ - at_)
      throw CheckpointError(source_ + ": truncated inside the " + what);
  }
  const unsigned char* data_;
  std::size_t size_;
  std::size_t at_ = 0;
  std::string source_;
};

std::uint32_t crc_of(const unsigned char* data, std::size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    const uInt piece = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
    crc = crc32(crc, data, piece);
    data += piece;
    size -= piece;
  }
  return static_cast<std::uint32_t>(crc);
}

std::int64_t step_of(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  if (name.size() != 22 || name.rfind("step-", 0) != 0 || path.extension() != ".ckpt")
    return -1;
  try {
    return std::stoll(name.substr(5, 12));
  } catch (...) {
    return -1;
  }
}

}  // namespace

std::vector<unsigned char> serialize(const TrainState& state) {
  Writer payload;
  payload.put_string(state.job);
  payload.put(state.seed);
  payload.put(state.step);
  payload.put(state.epoch);
  payload.put(state.position);
  payload.put(state.optimizer_steps);
  payload.put(state.skipped_steps);
  payload.put_tensors(state.model);
  payload.put_tensors(state.optimizer);

  Writer file;
  file.bytes.insert(file.bytes.end(), std::begin(kMagic), std::end(kMagic));
  file.put(kCheckpointVersion);
  file.put(std::uint32_t{0});
  file.put(static_cast<std::uint64_t>(payload.bytes.size()));
  file.bytes.insert(file.bytes.end(), payload.bytes.begin(), payload.bytes.end());
  file.put(crc_of(file.bytes.data(), file.bytes.size()));
  return std::move(file.bytes);
}

TrainState deserialize(const std::vector<unsigned char>& bytes, const std::string& source) {
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    throw CheckpointError(source + ": not a dojo checkpoint (bad magic)");
  }
  if (bytes.size() < kHeaderBytes + 4)
    throw CheckpointError(source + ": truncated header");
  Reader header(bytes.data() + 8, kHeaderBytes - 8, source);
  const auto version = header.get<std::uint32_t>("header");
  header.get<std::uint32_t>("header");
  const auto payload_bytes = header.get<std::uint64_t>("header");
  if (version != kCheckpointVersion) {
    throw CheckpointError(source + ": format version " + std::to_string(version) +
                          ", this dojo reads " + std::to_string(kCheckpointVersion));
  }
  if (bytes.size() != kHeaderBytes + payload_bytes + 4) {
    throw CheckpointError(source + ": truncated (" + std::to_string(bytes.size()) +
                          " bytes, the header announces " +
                          std::to_string(kHeaderBytes + payload_bytes + 4) + ")");
  }
  std::uint32_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - 4, 4);
  if (crc_of(bytes.data(), bytes.size() - 4) != stored) {
    throw CheckpointError(source + ": checksum mismatch (the file is corrupt)");
  }
  Reader r(bytes.data() + kHeaderBytes, payload_bytes, source);
  TrainState state;
  state.job = r.get_string("job name");
  state.seed = r.get<std::uint64_t>("seed");
  state.step = r.get<std::int64_t>("step");
  state.epoch = r.get<std::int64_t>("epoch");
  state.position = r.get<std::int64_t>("position");
  state.optimizer_steps = r.get<std::int64_t>("optimizer steps");
  state.skipped_steps = r.get<std::int64_t>("skipped steps");
  state.model = r.get_tensors("model tensors");
  state.optimizer = r.get_tensors("optimizer tensors");
  if (r.remaining() != 0)
    throw CheckpointError(source + ": unexpected bytes after the payload");
  return state;
}

CheckpointStore::CheckpointStore(std::filesystem::path dir, int keep)
    : dir_(std::move(dir)), keep_(std::max(keep, 1)) {}

std::vector<std::filesystem::path> CheckpointStore::list() const {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (step_of(entry.path()) >= 0)
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return step_of(a) < step_of(b); });
  return files;
}

std::filesystem::path CheckpointStore::save(const TrainState& state) {
  std::filesystem::create_directories(dir_);
  // Owner only: model weights are the job owner's.
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);
  // The temporary file of a save cut short by a kill is never a checkpoint
  // (list() ignores it), but is removed so that it takes no space.
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    const std::string file = entry.path().filename().string();
    if (is_atomic_write_leftover(file) && file.rfind(".step-", 0) == 0) {
      std::error_code ec;
      std::filesystem::remove(entry.path(), ec);
    }
  }
  char name[32];
  std::snprintf(name, sizeof(name), "step-%012lld.ckpt", static_cast<long long>(state.step));
  const std::filesystem::path path = dir_ / name;
  const std::vector<unsigned char> bytes = serialize(state);
  write_file_atomically(path.string(), std::string(bytes.begin(), bytes.end()),
                        AtomicWriteOptions{0600, "checkpoint.write"});
  std::vector<std::filesystem::path> files = list();
  while (static_cast<int>(files.size()) > keep_) {
    std::error_code ec;
    std::filesystem::remove(files.front(), ec);
    files.erase(files.begin());
  }
  return path;
}

std::optional<TrainState> CheckpointStore::load_newest(
    const std::function<void(const std::filesystem::path&, const std::string&)>& skipped,
    std::vector<unsigned char>* raw) const {
  std::vector<std::filesystem::path> files = list();
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    try {
      return read_checkpoint(*it, raw);
    } catch (const CheckpointError& e) {
      skipped(*it, e.what());
    }
  }
  return std::nullopt;
}

TrainState read_checkpoint(const std::filesystem::path& path, std::vector<unsigned char>* raw) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    throw CheckpointError(path.string() + ": cannot be read");
  std::vector<unsigned char> bytes(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!in)
    throw CheckpointError(path.string() + ": cannot be read");
  TrainState state = deserialize(bytes, path.string());
  if (raw != nullptr)
    *raw = std::move(bytes);
  return state;
}

}  // namespace dojo::train
