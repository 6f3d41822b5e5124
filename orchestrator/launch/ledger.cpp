#include "orchestrator/launch/ledger.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/atomic_file.h"
#include "orchestrator/launch/launch_error.h"
#include "orchestrator/launch/state_lock.h"

namespace dojo::launch {
namespace {

/// The ledger's lock, for the scope.
class Lock : public StateLock {
 public:
  explicit Lock(const std::filesystem::path& dir)
      : StateLock(dir, "ledger.lock", "the allocation ledger") {}
};

std::string format(const Booking& b) {
  std::string slots;
  for (const auto& [host, n] : b.slots)
    slots += (slots.empty() ? "" : ",") + host + ":" + std::to_string(n);
  std::ostringstream line;
  line << b.job_id << '\t' << b.launcher_host << '\t' << b.launcher_pid << '\t' << b.lease_until
       << '\t' << b.h100e << '\t' << slots;
  return line.str();
}

bool parse(const std::string& line, Booking& b) {
  std::istringstream in(line);
  std::string slots;
  if (!std::getline(in, b.job_id, '\t') || !std::getline(in, b.launcher_host, '\t'))
    return false;
  std::string pid, lease, h100e;
  if (!std::getline(in, pid, '\t') || !std::getline(in, lease, '\t') ||
      !std::getline(in, h100e, '\t') || !std::getline(in, slots)) {
    return false;
  }
  try {
    b.launcher_pid = std::stol(pid);
    b.lease_until = std::stoll(lease);
    b.h100e = std::stod(h100e);
  } catch (...) {
    return false;
  }
  std::istringstream items(slots);
  std::string item;
  while (std::getline(items, item, ',')) {
    const std::size_t colon = item.rfind(':');
    if (colon == std::string::npos)
      return false;
    b.slots.emplace_back(item.substr(0, colon), std::atoi(item.c_str() + colon + 1));
  }
  return true;
}

bool alive(const Booking& b) {
  if (b.lease_until < static_cast<long long>(std::time(nullptr)))
    return false;
  if (b.launcher_host == this_host()) {
    return ::kill(static_cast<pid_t>(b.launcher_pid), 0) == 0 || errno == EPERM;
  }
  return true;
}

}  // namespace

std::filesystem::path default_state_dir() {
  if (const char* dir = std::getenv("DOJO_STATE_DIR"); dir != nullptr && *dir != '\0')
    return dir;
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "dojo";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : "/tmp") / ".local" / "state" / "dojo";
}

Ledger::Ledger(std::filesystem::path state_dir) : dir_(std::move(state_dir)) {}

std::vector<Booking> Ledger::read_live() const {
  std::vector<Booking> live;
  std::ifstream in(dir_ / "ledger.tsv");
  std::string line;
  while (std::getline(in, line)) {
    Booking b;
    if (parse(line, b) && alive(b))
      live.push_back(std::move(b));
  }
  return live;
}

void Ledger::write(const std::vector<Booking>& bookings) const {
  std::string text;
  for (const Booking& b : bookings)
    text += format(b) + "\n";
  write_file_atomically((dir_ / "ledger.tsv").string(), text);
}

Placement Ledger::book(const std::string& job_id,
                       const std::function<Placement(const Unavailable&)>& place, bool granted) {
  Lock lock(dir_);
  std::vector<Booking> live = read_live();
  Unavailable unavailable;
  for (const Booking& b : live) {
    // Slots a scheduler granted are this job's whatever the ledger says.
    if (b.job_id == job_id || granted)
      continue;
    std::string held;
    for (const auto& [host, n] : b.slots) {
      unavailable.held_slots[host] += n;
      held += (held.empty() ? "" : ",") + host + ":" + std::to_string(n);
    }
    unavailable.holders.push_back(b.job_id + " holds " + held);
  }
  Placement placement = place(unavailable);
  std::erase_if(live, [&](const Booking& b) { return b.job_id == job_id; });
  Booking mine;
  mine.job_id = job_id;
  mine.launcher_host = this_host();
  mine.launcher_pid = ::getpid();
  mine.lease_until = static_cast<long long>(std::time(nullptr)) + kLeaseSeconds;
  mine.h100e = placement.h100e;
  for (const HostAllocation& h : placement.hosts)
    mine.slots.emplace_back(h.host, h.slots);
  live.push_back(mine);
  write(live);
  return placement;
}

void Ledger::renew(const std::string& job_id) {
  Lock lock(dir_);
  std::vector<Booking> live = read_live();
  for (Booking& b : live) {
    if (b.job_id == job_id)
      b.lease_until = static_cast<long long>(std::time(nullptr)) + kLeaseSeconds;
  }
  write(live);
}

void Ledger::release(const std::string& job_id) {
  Lock lock(dir_);
  std::vector<Booking> live = read_live();
  std::erase_if(live, [&](const Booking& b) { return b.job_id == job_id; });
  write(live);
}

std::vector<Booking> Ledger::bookings() const {
  Lock lock(dir_);
  return read_live();
}

}  // namespace dojo::launch
