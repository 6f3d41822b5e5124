#pragma once
// Writing files so that a crash never leaves a half-written one behind.

#include <string>

namespace dojo {

/// Writes `text` to `path` atomically: a temporary file in the same
/// directory, fsync, rename, directory fsync. Readers see the old file or the
/// new one, never a half-written one. Throws dojo::Error on failure.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace dojo
