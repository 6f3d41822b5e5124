#pragma once
// Checkpoints: everything needed to resume a run bit for bit, in one file
// with a magic, a format version and a CRC-32 over all of it.
//
// Layout (little-endian): "DOJOCKPT", u32 version (1), u32 flags (0),
// u64 payload bytes, the payload, u32 CRC-32 (zlib) of everything before it.
// Payload: job name (u32 length + bytes), u64 seed, i64 step, i64 epoch,
// i64 position in the epoch, i64 optimizer steps, i64 skipped steps, then
// the model tensors and the optimizer tensors (u32 count, then per tensor
// u64 elements and the f32 values). The data order is a pure function of
// (seed, epoch), so seed, epoch and position are the whole RNG state.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace dojo::train {

inline constexpr std::uint32_t kCheckpointVersion = 1;

/// A checkpoint that cannot be used: truncated, corrupt, or of another format.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

struct TrainState {
  std::string job;
  std::uint64_t seed = 0;
  std::int64_t step = 0;      ///< steps completed
  std::int64_t epoch = 0;     ///< the epoch the next step belongs to
  std::int64_t position = 0;  ///< samples of that epoch already consumed
  std::int64_t optimizer_steps = 0;
  std::int64_t skipped_steps = 0;
  std::vector<std::vector<float>> model;
  std::vector<std::vector<float>> optimizer;
};

std::vector<unsigned char> serialize(const TrainState& state);
/// Throws CheckpointError saying what is wrong, prefixed with `source`.
TrainState deserialize(const std::vector<unsigned char>& bytes, const std::string& source);

/// Reads and checks one checkpoint file. Throws CheckpointError naming the
/// file and what is wrong (unreadable, truncated, checksum mismatch, ...).
/// `raw`, when given, receives the file's bytes (what serialize wrote).
TrainState read_checkpoint(const std::filesystem::path& path,
                           std::vector<unsigned char>* raw = nullptr);

/// The checkpoints of one run: `<dir>/step-<12 digits>.ckpt`.
class CheckpointStore {
 public:
  CheckpointStore(std::filesystem::path dir, int keep);

  /// Writes atomically (temporary file, fsync, rename, directory fsync), then
  /// deletes all but the newest `keep`. Throws dojo::Error (disk full, ...)
  /// leaving earlier checkpoints intact.
  std::filesystem::path save(const TrainState& state);

  /// The newest checkpoint that reads back intact; each newer one that does
  /// not is reported through `skipped` (path and reason) and passed over.
  /// `raw`, when given, receives its file's bytes.
  std::optional<TrainState> load_newest(
      const std::function<void(const std::filesystem::path&, const std::string&)>& skipped,
      std::vector<unsigned char>* raw = nullptr) const;

  /// Checkpoint files, oldest first.
  std::vector<std::filesystem::path> list() const;

 private:
  std::filesystem::path dir_;
  int keep_;
};

}  // namespace dojo::train
