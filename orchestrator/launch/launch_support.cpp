#include "orchestrator/launch/launch_support.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "common/error.h"

namespace dojo::launch {

namespace {

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

EventLog::EventLog(const std::filesystem::path& path) : out_(path, std::ios::app) {}

void EventLog::add(const std::string& event, const nlohmann::ordered_json& fields) {
  if (!out_)
    return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  nlohmann::ordered_json line = {{"time", now_iso()}, {"unix_ms", ms}, {"event", event}};
  for (const auto& [key, value] : fields.items())
    line[key] = value;
  // Invalid UTF-8 (a rank's message) is replaced, never a failed event.
  out_ << line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n"
       << std::flush;
}

void EventLog::add(const std::string& event) {
  add(event, nlohmann::ordered_json::object());
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string config_hash(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::ostringstream out;
  out << std::hex << std::setw(16) << std::setfill('0') << h;
  return out.str();
}

std::string name_from_command(const std::string& program) {
  std::string base = std::filesystem::path(program).filename().string();
  std::string name;
  for (char c : base)
    name +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '-';
  while (!name.empty() && !std::isalnum(static_cast<unsigned char>(name[0])))
    name.erase(0, 1);
  if (name.empty())
    name = "command";
  return name.substr(0, 63);
}

int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(a);
  int port = 29500;  // torchrun's default, if the kernel will not say
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0)
    ::close(fd);
  return port;
}

std::string interface_address(const std::string& name) {
  ifaddrs* all = nullptr;
  if (name.empty() || ::getifaddrs(&all) != 0)
    return "";
  std::string found;
  for (ifaddrs* i = all; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET || name != i->ifa_name)
      continue;
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof(text));
    found = text;
    break;
  }
  ::freeifaddrs(all);
  return found;
}

bool is_local(const std::string& host) {
  return host == "localhost" || host == "127.0.0.1" || host == this_host();
}

int next_attempt_number(const std::filesystem::path& run_dir) {
  int next = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir, ec)) {
    const std::string name = entry.path().filename().string();
    constexpr std::string_view kPrefix = "attempt-", kSuffix = ".log";
    if (name.size() <= kPrefix.size() + kSuffix.size() || name.rfind(kPrefix, 0) != 0 ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
      continue;
    const std::string digits =
        name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
    if (digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    next = std::max(next, std::stoi(digits) + 1);
  }
  return next;
}

}  // namespace dojo::launch
