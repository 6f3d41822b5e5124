#pragma once
// Heartbeats: how ranks tell the launcher they make progress, and with what
// figures. Nodes share no filesystem, so they travel as UDP datagrams to
// DOJO_HEARTBEAT_ADDR, one line of text each (docs/LAUNCH.md, "The heartbeat
// wire format"; the Python client python/dojo_job and the C header
// include/dojo_job.h speak it):
//
//   dojo-heartbeat 2 JOB ATTEMPT RANK HOST STEP SEQUENCE STEP_SECONDS
//                  COMM_SECONDS SAMPLES LOSS COLLECTIVE STATE
//
// STEP is the last step the rank finished (-1 before the first), SEQUENCE the
// collectives it entered; the launcher sees progress when either grows.
// STEP_SECONDS, COMM_SECONDS and SAMPLES are running totals since the rank
// started (the time between its step calls, the part of it spent inside
// collectives, the samples it processed), so a lost datagram loses nothing.
// LOSS is the last loss or "nan"; COLLECTIVE the collective the rank is in
// now or "-"; STATE "run", or "done" once the rank has finished. An optional
// last field, CHECKPOINT_SECONDS, is the running total of the time spent
// saving checkpoints (for goodput accounting). Version 1 lines (the first
// eight fields) are still read.
//
// The rank shim (dojo-exec) sends one more kind of line the moment its
// rank's process ends, so the launcher need not wait for mpirun to notice:
//
//   dojo-exit 1 JOB ATTEMPT RANK HOST HOW VALUE
//
// HOW is "code" (VALUE the exit code) or "signal" (VALUE the signal number).
//
// Asked for its flight recorder (SIGUSR2 during a hang), a built-in rank
// sends its latest collectives, then an end line:
//
//   dojo-flight 1 JOB ATTEMPT RANK HOST SEQ OP BYTES DTYPE BUCKET STARTED_AGO FINISHED_AGO STATE
//   dojo-flight-end 1 JOB ATTEMPT RANK HOST COUNT

#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dojo::heartbeat {

struct Heartbeat {
  std::string job;
  int attempt = 0;
  int rank = 0;
  std::string host;
  std::int64_t step = 0;
  std::uint64_t sequence = 0;
  double step_seconds = 0;   ///< running total of the time between step calls
  double comm_seconds = 0;   ///< of which inside collectives
  std::int64_t samples = 0;  ///< running total
  double loss = std::numeric_limits<double>::quiet_NaN();
  std::string collective;         ///< the collective the rank is in now; empty: none
  bool done = false;              ///< the rank finished (or stopped) on its own
  double checkpoint_seconds = 0;  ///< running total of checkpoint saves (optional field)
  /// A dojo-exit line: the rank's process ended, with `exit_code` or of
  /// `exit_signal` (the other is 0); the figures above are not set.
  bool exited = false;
  int exit_code = 0;
  int exit_signal = 0;
  /// A dojo-flight line: the record's fields after HOST; a dojo-flight-end
  /// line sets `flight_end` (and the record holds COUNT).
  std::string flight_record;
  bool flight_end = false;
  bool is_flight() const { return flight_end || !flight_record.empty(); }
};

/// The longest line a receiver reads; longer datagrams are cut and refused.
inline constexpr std::size_t kMaxLineBytes = 512;

std::string format(const Heartbeat& beat);
/// The dojo-exit line of `beat` (job, attempt, rank, host, exit_code or exit_signal).
std::string format_exit(const Heartbeat& beat);
/// nullopt for anything that is not a well-formed heartbeat or dojo-exit line.
std::optional<Heartbeat> parse(std::string_view line);

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
  /// Sends prepared lines with as few system calls as the kernel allows.
  void send_lines(const std::vector<std::string>& lines);

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
  /// Records progress with the step's figures and sends a heartbeat at once.
  void update(const Heartbeat& beat);
  /// Records the collective the rank waits in ("" when none) and its
  /// sequence number, for the next heartbeat (no datagram of its own).
  void in_collective(const std::string& collective, std::uint64_t sequence);

 private:
  std::unique_ptr<Sender> sender_;
  std::mutex mutex_;
  std::condition_variable wake_;
  Heartbeat beat_;
  bool stopping_ = false;
  int interval_ms_;
  std::thread thread_;
};

/// Receives heartbeats on a UDP port of `bind` (port 0: any free port). Its
/// socket buffer holds a few seconds of a large job's heartbeats, so that a
/// receiver busy elsewhere for a moment loses none.
class Receiver {
 public:
  explicit Receiver(const std::string& bind = "127.0.0.1", int port = 0);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  int port() const { return port_; }
  /// The socket, to wait on with poll() beside other work.
  int fd() const { return fd_; }
  /// The next well-formed heartbeat within `timeout_ms`, or nullopt.
  std::optional<Heartbeat> receive(int timeout_ms);
  /// Appends every well-formed heartbeat waiting now (no wait) to `out`,
  /// at most `max` datagrams; returns the datagrams read, well-formed or not.
  std::size_t receive_waiting(std::vector<Heartbeat>& out, std::size_t max = 4096);
  /// Bytes the kernel holds for this socket (SO_RCVBUF as granted).
  int buffer_bytes() const { return buffer_bytes_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  int buffer_bytes_ = 0;
};

}  // namespace dojo::heartbeat
