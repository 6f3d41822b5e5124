#pragma once
// Heartbeats: how ranks tell the launcher they make progress. Nodes share no
// filesystem, so they travel as UDP datagrams to DOJO_HEARTBEAT_ADDR.
//
// One datagram is one line of text:
//   dojo-heartbeat 1 JOB ATTEMPT RANK HOST STEP SEQUENCE
// where STEP counts training steps and SEQUENCE the rank's collectives; the
// launcher sees progress when either grows. Any program can send them, e.g.
// in Python:
//   import os, socket
//   host, port = os.environ["DOJO_HEARTBEAT_ADDR"].rsplit(":", 1)
//   s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
//   env = os.environ
//   line = (f"dojo-heartbeat 1 {env['DOJO_JOB']} {env['DOJO_ATTEMPT']} "
//           f"{env['RANK']} {socket.gethostname()} {step} 0")
//   s.sendto(line.encode(), (host, int(port)))

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <string>

namespace dojo::heartbeat {

struct Heartbeat {
  std::string job;
  int attempt = 0;
  int rank = 0;
  std::string host;
  std::int64_t step = 0;
  std::uint64_t sequence = 0;
};

std::string format(const Heartbeat& beat);
/// nullopt for anything that is not a well-formed heartbeat line.
std::optional<Heartbeat> parse(const std::string& line);

/// Sends heartbeats to "host:port" (IPv4, or [IPv6]:port). Never throws
/// after construction: a lost heartbeat is only a missed sign of life.
class Sender {
 public:
  /// Throws dojo::Error for an address that does not resolve.
  explicit Sender(const std::string& address);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;
  void send(const Heartbeat& beat);

 private:
  int fd_ = -1;
  std::string address_;
  unsigned char peer_[128] = {};
  unsigned peer_length_ = 0;
};

/// Sends the latest heartbeat every `interval_ms` from a thread of its own, so
/// that a rank blocked in a collective still shows it is alive (while its
/// step and sequence number show it makes no progress).
class Pulse {
 public:
  Pulse(std::unique_ptr<Sender> sender, Heartbeat first, int interval_ms = 1000);
  ~Pulse();
  Pulse(const Pulse&) = delete;
  Pulse& operator=(const Pulse&) = delete;
  /// Records progress and sends a heartbeat at once.
  void update(std::int64_t step, std::uint64_t sequence);

 private:
  std::unique_ptr<Sender> sender_;
  std::mutex mutex_;
  std::condition_variable wake_;
  Heartbeat beat_;
  bool stopping_ = false;
  int interval_ms_;
  std::thread thread_;
};

/// Receives heartbeats on a UDP port of `bind` (port 0: any free port).
class Receiver {
 public:
  explicit Receiver(const std::string& bind = "127.0.0.1", int port = 0);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  int port() const { return port_; }
  /// The next well-formed heartbeat within `timeout_ms`, or nullopt.
  std::optional<Heartbeat> receive(int timeout_ms);

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace dojo::heartbeat
