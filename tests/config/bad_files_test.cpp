// The corpus of bad files under tests/data/bad: each file lists the exact
// errors it must produce as `# expect: LINE:COL: MESSAGE` comments (the
// absolute path of tests/data is written <data>).
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <vector>

#include "orchestrator/config/loader.h"
#include "tests/support.h"

namespace {

using dojo::config::ConfigError;
using dojo::config::Diagnostic;

std::vector<std::string> expectations(const std::filesystem::path& file) {
  std::vector<std::string> expected;
  std::ifstream in(file);
  std::string line;
  const std::string marker = "# expect: ";
  while (std::getline(in, line)) {
    if (line.rfind(marker, 0) == 0)
      expected.push_back(line.substr(marker.size()));
  }
  return expected;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

}  // namespace

TEST_CASE("every file of the bad corpus fails with exactly its expected errors") {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dojo::test::data_dir() / "bad")) {
    if (entry.path().extension() == ".yaml")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 33);

  const std::string data = dojo::test::data_dir().string();
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    const std::vector<std::string> expected = expectations(file);
    REQUIRE_FALSE(expected.empty());
    std::vector<std::string> actual;
    try {
      dojo::config::load_document(file);
      FAIL("loaded without error");
    } catch (const ConfigError& e) {
      for (const Diagnostic& d : e.diagnostics()) {
        CHECK(*d.where.source == file.string());
        actual.push_back(std::to_string(d.where.line) + ":" + std::to_string(d.where.column) +
                         ": " + replace_all(d.message, data, "<data>"));
      }
    }
    CHECK(actual == expected);
  }
}

TEST_CASE("ConfigError prints every diagnostic as path:line:col: error: message") {
  const auto file = dojo::test::data_dir() / "bad" / "out-of-range.yaml";
  try {
    dojo::config::load_document(file);
    FAIL("loaded without error");
  } catch (const ConfigError& e) {
    const std::string text = e.what();
    CHECK(text.find(file.string() + ":5:12: error: job.resources.ranks: must be at least 1\n") ==
          0);
    CHECK(std::count(text.begin(), text.end(), '\n') == 4);  // five lines
  }
}
