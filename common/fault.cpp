#include "common/fault.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace dojo {
namespace {

std::atomic<bool> g_armed{false};
std::mutex g_mutex;
std::string g_point;
long g_hit = 0;
long g_seen = 0;
bool g_stall = false;

}  // namespace

void arm_stall_fault(const std::string& point, long hit) {
  arm_kill_fault(point, hit);
  std::lock_guard<std::mutex> lock(g_mutex);
  g_stall = true;
}

void arm_kill_fault(const std::string& point, long hit) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_stall = false;
  g_point = point;
  g_hit = hit;
  g_seen = 0;
  g_armed.store(!point.empty() && hit > 0, std::memory_order_relaxed);
}

void fault_point(const char* point) {
  if (!g_armed.load(std::memory_order_relaxed))
    return;
  std::unique_lock<std::mutex> lock(g_mutex);
  if (g_point != point || ++g_seen != g_hit)
    return;
  if (g_stall) {
    lock.unlock();
    char line[256];
    const int n =
        std::snprintf(line, sizeof(line), "dojo fault: stalled at %s hit %ld\n", point, g_hit);
    if (n > 0)
      (void)!write(STDERR_FILENO, line, static_cast<std::size_t>(n));
    for (;;)
      pause();
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  char line[256];
  const int n =
      std::snprintf(line, sizeof(line), "dojo fault: SIGKILL at %s hit %ld unix_ms %lld\n", point,
                    g_hit, static_cast<long long>(ms));
  if (n > 0)
    (void)!write(STDERR_FILENO, line, static_cast<std::size_t>(n));
  raise(SIGKILL);
}

}  // namespace dojo
