// `dojo checkpoint verify`: reads checkpoints back and checks them.
#include <algorithm>
#include <filesystem>
#include <ostream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/flags.h"
#include "orchestrator/cli/command.h"
#include "orchestrator/train/checkpoint.h"

namespace dojo::cli {

int run_checkpoint(std::span<const std::string> args, Streams& io) {
  if (args.empty() || args[0] != "verify")
    throw UsageError("which checkpoint command? (verify)");
  Flags flags("checkpoint verify");
  std::vector<std::string> paths;
  flags.positionals("FILE_OR_DIR", paths);
  flags.parse(args.subspan(1));
  if (paths.empty())
    throw UsageError("checkpoint verify needs checkpoint files or directories");
  int bad = 0, good = 0;
  const auto verify = [&](const std::filesystem::path& file) {
    try {
      const train::TrainState state = train::read_checkpoint(file);
      io.out << "ok: " << file.string() << ": job " << state.job << ", step " << state.step << "\n";
      ++good;
    } catch (const Error& e) {
      io.err << "corrupt: " << e.what() << "\n";
      ++bad;
    }
  };
  for (const std::filesystem::path path : paths) {
    if (!std::filesystem::is_directory(path)) {
      verify(path);
      continue;
    }
    // Checkpoints in it; the leftover of a save cut short is reported, not read.
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(path))
      files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      if (file.extension() == ".ckpt") {
        verify(file);
      } else if (is_atomic_write_leftover(file.filename().string())) {
        io.err << "leftover: " << file.string() << ": the temporary file of an unfinished save\n";
        ++bad;
      }
    }
  }
  io.out << good << " intact, " << bad << " bad\n";
  return bad == 0 && good > 0 ? kExitOk : kExitFailure;
}

}  // namespace dojo::cli
