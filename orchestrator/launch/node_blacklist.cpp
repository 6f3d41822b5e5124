#include "orchestrator/launch/node_blacklist.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/numbers.h"
#include "orchestrator/launch/state_lock.h"

namespace dojo::launch {
namespace {

constexpr const char* kFile = "blacklist.tsv";

/// One token of a line: tabs and newlines would break it.
std::string field(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\t' || c == '\n'; }, ' ');
  return text;
}

bool parse(const std::string& line, BlacklistEntry& e) {
  std::istringstream in(line);
  std::string until, h100e;
  if (!std::getline(in, e.host, '\t') || !std::getline(in, until, '\t') ||
      !std::getline(in, e.cause, '\t') || !std::getline(in, e.job, '\t') ||
      !std::getline(in, h100e, '\t') || !std::getline(in, e.reason))
    return false;
  const auto u = parse_integer(until);
  const auto h = parse_finite_double(h100e);
  if (!u || !h || e.host.empty())
    return false;
  e.until = *u;
  e.h100e = *h;
  return true;
}

}  // namespace

NodeBlacklist::NodeBlacklist(std::filesystem::path state_dir) : dir_(std::move(state_dir)) {}

std::vector<BlacklistEntry> NodeBlacklist::read_active() const {
  std::vector<BlacklistEntry> entries;
  std::ifstream in(dir_ / kFile);
  const long long now = static_cast<long long>(std::time(nullptr));
  for (std::string line; std::getline(in, line);) {
    BlacklistEntry e;
    if (parse(line, e) && e.until > now)  // a malformed or ended line is dropped
      entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(),
            [](const BlacklistEntry& a, const BlacklistEntry& b) { return a.host < b.host; });
  return entries;
}

void NodeBlacklist::write(const std::vector<BlacklistEntry>& entries) const {
  std::ostringstream out;
  for (const BlacklistEntry& e : entries) {
    out << field(e.host) << '\t' << e.until << '\t' << field(e.cause) << '\t' << field(e.job)
        << '\t' << e.h100e << '\t' << field(e.reason) << '\n';
  }
  write_file_atomically((dir_ / kFile).string(), out.str());
}

void NodeBlacklist::add(BlacklistEntry entry) {
  StateLock lock(dir_, "blacklist.lock", "the node blacklist");
  std::vector<BlacklistEntry> entries = read_active();
  std::erase_if(entries, [&](const BlacklistEntry& e) { return e.host == entry.host; });
  entries.push_back(std::move(entry));
  write(entries);
}

std::vector<BlacklistEntry> NodeBlacklist::active() const {
  StateLock lock(dir_, "blacklist.lock", "the node blacklist");
  return read_active();
}

bool NodeBlacklist::clear(const std::string& host) {
  StateLock lock(dir_, "blacklist.lock", "the node blacklist");
  std::vector<BlacklistEntry> entries = read_active();
  const std::size_t before = entries.size();
  std::erase_if(entries, [&](const BlacklistEntry& e) { return e.host == host; });
  write(entries);
  return entries.size() != before;
}

}  // namespace dojo::launch
