// libFuzzer target over the config loader and the `--set` parser.
//
// Each input is split at its first newline: the first line is a `--set`
// flag's text (parsed, and when it parses, applied); the whole input is also
// a YAML document of any kind. Documents are anchored in configs/jobs/ of the
// source tree, so their references (`cluster: ../cluster/local.yaml`) resolve
// to shipped files. dojo::Error is the expected way to refuse input; any
// other exception, crash, leak or sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "orchestrator/config/loader.h"

namespace {

const std::filesystem::path kAnchor =
    std::filesystem::path(DOJO_SOURCE_DIR) / "configs" / "jobs" / "fuzz-input.yaml";
const std::filesystem::path kShippedJob =
    std::filesystem::path(DOJO_SOURCE_DIR) / "configs" / "jobs" / "fashion-mnist.yaml";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string first_line = text.substr(0, text.find('\n'));
  std::vector<dojo::config::Override> overrides;
  try {
    overrides.push_back(dojo::config::parse_override(first_line));
  } catch (const dojo::Error&) {
  }
  try {
    (void)dojo::config::load_document_text(text, kAnchor);
  } catch (const dojo::Error&) {
  }
  if (!overrides.empty()) {
    try {
      (void)dojo::config::load_document(kShippedJob, overrides);
    } catch (const dojo::Error&) {
    }
  }
  return 0;
}
