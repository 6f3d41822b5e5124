#pragma once
// Writing files so that a crash never leaves a half-written one behind.

#include <string>

namespace dojo {

struct AtomicWriteOptions {
  unsigned mode = 0644;  ///< permissions of the new file
  /// A fault_point() visited when half the bytes are written (tests only).
  const char* fault_point = nullptr;
};

/// Writes `text` to `path` atomically: a temporary file in the same
/// directory (".NAME.XXXXXX"), fsync, rename, directory fsync. Readers see
/// the old file or the new one, never a half-written one; a failure (a full
/// disk) removes the temporary file and leaves the old file as it was.
/// Throws dojo::Error naming the path and the cause.
void write_file_atomically(const std::string& path, const std::string& text,
                           const AtomicWriteOptions& options = {});

/// True for the name of a temporary file write_file_atomically() left behind
/// when its process was killed: ".NAME.XXXXXX".
bool is_atomic_write_leftover(const std::string& filename);

}  // namespace dojo
