// `dojo flight RUN_DIR`: the flight recorder's verdict of each hung attempt
// again, with each rank's latest collectives.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/error.h"
#include "common/flags.h"
#include "orchestrator/cli/command.h"

namespace dojo::cli {

int run_flight(std::span<const std::string> args, Streams& io) {
  std::vector<std::string> dirs;
  int last = 4;
  Flags flags("flight");
  flags.positionals("RUN_DIR", dirs);
  flags.integer("--records", last, 1, 1000);
  flags.parse(args);
  if (dirs.size() != 1)
    throw UsageError("expects one RUN_DIR");
  const std::filesystem::path dir = dirs.front();
  if (!std::filesystem::is_directory(dir))
    throw Error(dir.string() + " is not a directory");
  static const std::regex kName(R"(flight-attempt-(\d+)\.json)");
  std::vector<std::pair<int, std::filesystem::path>> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, kName))
      files.emplace_back(std::stoi(m[1].str()), entry.path());
  }
  if (files.empty()) {
    io.out << "no attempt of " << dir.string() << " hung: no flight record\n";
    return kExitOk;
  }
  std::sort(files.begin(), files.end());
  for (const auto& [attempt, path] : files) {
    std::ifstream in(path);
    const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.contains("verdict") || !doc.contains("records"))
      throw Error(path.string() + ": not a flight record of dojo launch");
    io.out << "attempt " << attempt << " hung: " << doc.value("reason", std::string()) << "\n"
           << "  verdict (" << doc.value("source", std::string("?"))
           << "): " << doc["verdict"].get<std::string>() << "\n";
    for (const auto& [rank, ops] : doc["records"].items()) {
      io.out << "  rank " << rank << ":";
      const std::size_t first = ops.size() > static_cast<std::size_t>(last) ? ops.size() - last : 0;
      for (std::size_t i = first; i < ops.size(); ++i) {
        const nlohmann::json& o = ops[i];
        char text[160];
        std::snprintf(text, sizeof(text), " %s #%llu %s%s", o.value("op", std::string("?")).c_str(),
                      static_cast<unsigned long long>(o.value("seq", 0ULL)),
                      o.value("state", std::string("?")).c_str(), i + 1 < ops.size() ? "," : "");
        io.out << text;
      }
      io.out << "\n";
    }
  }
  return kExitOk;
}

}  // namespace dojo::cli
