#include "orchestrator/heartbeat/heartbeat.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "common/error.h"

namespace dojo::heartbeat {

namespace {

/// The receive buffer asked for: the kernel counts about 1 KiB per small
/// datagram, so this holds some 60,000 heartbeats, most of a second of an
/// 85,000-rank job's at 1 Hz, while the launcher is busy elsewhere.
constexpr int kBufferBytes = 64 << 20;

/// A token of the line: no whitespace, never empty ("-" stands for none).
std::string token(const std::string& text) {
  if (text.empty())
    return "-";
  std::string t = text.substr(0, 64);
  for (char& c : t) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      c = '_';
  }
  return t;
}

/// Splits on single spaces into at most `N` fields; the count found.
template <std::size_t N>
std::size_t split(std::string_view line, std::string_view (&fields)[N]) {
  std::size_t n = 0;
  while (!line.empty()) {
    const std::size_t space = line.find(' ');
    const std::string_view field = line.substr(0, space);
    if (!field.empty()) {
      if (n == N)
        return N + 1;
      fields[n++] = field;
    }
    if (space == std::string_view::npos)
      break;
    line.remove_prefix(space + 1);
  }
  return n;
}

template <typename T>
bool read(std::string_view text, T& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end;
}

}  // namespace

std::string format(const Heartbeat& b) {
  char figures[160];
  std::snprintf(figures, sizeof(figures), " %.6f %.6f %lld %.9g ", b.step_seconds, b.comm_seconds,
                static_cast<long long>(b.samples), b.loss);
  char checkpoint[32] = "";
  if (b.checkpoint_seconds > 0)
    std::snprintf(checkpoint, sizeof(checkpoint), " %.6f", b.checkpoint_seconds);
  return "dojo-heartbeat 2 " + token(b.job) + " " + std::to_string(b.attempt) + " " +
         std::to_string(b.rank) + " " + token(b.host) + " " + std::to_string(b.step) + " " +
         std::to_string(b.sequence) + figures + token(b.collective) + (b.done ? " done" : " run") +
         checkpoint;
}

std::string format_exit(const Heartbeat& b) {
  const bool signalled = b.exit_signal != 0;
  return "dojo-exit 1 " + token(b.job) + " " + std::to_string(b.attempt) + " " +
         std::to_string(b.rank) + " " + token(b.host) + (signalled ? " signal " : " code ") +
         std::to_string(signalled ? b.exit_signal : b.exit_code);
}

namespace {

std::optional<Heartbeat> parse_exit(const std::string_view (&f)[15], std::size_t n) {
  Heartbeat b;
  int version = 0;
  int value = 0;
  if (n != 8 || !read(f[1], version) || version != 1 || !read(f[3], b.attempt) ||
      !read(f[4], b.rank) || !read(f[7], value) || b.rank < 0 || b.attempt < 0 ||
      !(f[6] == "code" || f[6] == "signal") || value < 0 || value > 255)
    return std::nullopt;
  b.job = f[2];
  b.host = f[5];
  b.exited = true;
  (f[6] == "code" ? b.exit_code : b.exit_signal) = value;
  if (b.exit_signal == 0 && f[6] == "signal")
    return std::nullopt;
  return b;
}

std::optional<Heartbeat> parse_flight(const std::string_view (&f)[15], std::size_t n) {
  Heartbeat b;
  int version = 0;
  b.flight_end = f[0] == "dojo-flight-end";
  if (n != (b.flight_end ? 7u : 14u) || !read(f[1], version) || version != 1 ||
      !read(f[3], b.attempt) || !read(f[4], b.rank) || b.rank < 0 || b.attempt < 0)
    return std::nullopt;
  b.job = f[2];
  b.host = f[5];
  for (std::size_t i = 6; i < n; ++i)
    b.flight_record += (i > 6 ? " " : "") + std::string(f[i]);
  return b;
}

}  // namespace

std::optional<Heartbeat> parse(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.remove_suffix(1);
  std::string_view f[15];
  const std::size_t n = split(line, f);
  if (n > 0 && f[0] == "dojo-exit")
    return parse_exit(f, n);
  if (n > 0 && (f[0] == "dojo-flight" || f[0] == "dojo-flight-end"))
    return parse_flight(f, n);
  Heartbeat b;
  int version = 0;
  if ((n != 8 && n != 14 && n != 15) || f[0] != "dojo-heartbeat" || !read(f[1], version) ||
      version != (n == 8 ? 1 : 2))
    return std::nullopt;
  if (!read(f[3], b.attempt) || !read(f[4], b.rank) || !read(f[6], b.step) ||
      !read(f[7], b.sequence) || b.rank < 0 || b.attempt < 0)
    return std::nullopt;
  b.job = f[2];
  b.host = f[5];
  if (version == 1)
    return b;
  if (!read(f[8], b.step_seconds) || !read(f[9], b.comm_seconds) || !read(f[10], b.samples) ||
      !(read(f[11], b.loss) || f[11] == "nan" || f[11] == "-nan") ||
      !(f[13] == "run" || f[13] == "done") || b.step_seconds < 0 || b.comm_seconds < 0 ||
      b.samples < 0)
    return std::nullopt;
  if (f[11] == "nan" || f[11] == "-nan")
    b.loss = std::numeric_limits<double>::quiet_NaN();
  if (f[12] != "-")
    b.collective = f[12];
  b.done = f[13] == "done";
  if (n == 15 && (!read(f[14], b.checkpoint_seconds) || !(b.checkpoint_seconds >= 0)))
    return std::nullopt;
  return b;
}

Sender::Sender(const std::string& address) : address_(address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos)
    throw Error("heartbeat address \"" + address + "\" is not host:port");
  std::string host = address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    throw Error("heartbeat address \"" + address + "\" does not resolve");
  }
  fd_ = ::socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  std::memcpy(peer_, found->ai_addr, std::min<std::size_t>(found->ai_addrlen, sizeof(peer_)));
  peer_length_ = found->ai_addrlen;
  freeaddrinfo(found);
  if (fd_ < 0)
    throw Error("cannot open a heartbeat socket: " + errno_text(errno));
}

Sender::~Sender() {
  if (fd_ >= 0)
    ::close(fd_);
}

void Sender::send(const Heartbeat& beat) {
  const std::string line = format(beat);
  ::sendto(fd_, line.data(), line.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(peer_),
           peer_length_);
}

void Sender::send_lines(const std::vector<std::string>& lines) {
  constexpr std::size_t kBatch = 256;
  iovec iov[kBatch];
  mmsghdr messages[kBatch];
  for (std::size_t first = 0; first < lines.size(); first += kBatch) {
    const std::size_t n = std::min(kBatch, lines.size() - first);
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& line = lines[first + i];
      iov[i] = {const_cast<char*>(line.data()), line.size()};
      messages[i] = {};
      messages[i].msg_hdr.msg_name = peer_;
      messages[i].msg_hdr.msg_namelen = peer_length_;
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    for (std::size_t sent = 0; sent < n;) {
      const int k = ::sendmmsg(fd_, messages + sent, static_cast<unsigned>(n - sent), MSG_NOSIGNAL);
      if (k <= 0) {
        if (errno != EAGAIN && errno != ENOBUFS)
          break;  // a lost heartbeat is only a missed sign of life
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 10);
        continue;
      }
      sent += static_cast<std::size_t>(k);
    }
  }
}

Pulse::Pulse(std::unique_ptr<Sender> sender, Heartbeat first, int interval_ms)
    : sender_(std::move(sender)), beat_(std::move(first)), interval_ms_(interval_ms) {
  sender_->send(beat_);
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (
        !wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [&] { return stopping_; })) {
      sender_->send(beat_);
    }
  });
}

Pulse::~Pulse() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Pulse::update(std::int64_t step, std::uint64_t sequence) {
  std::lock_guard<std::mutex> lock(mutex_);
  beat_.step = step;
  beat_.sequence = sequence;
  sender_->send(beat_);
}

void Pulse::in_collective(const std::string& collective, std::uint64_t sequence) {
  std::lock_guard<std::mutex> lock(mutex_);
  beat_.collective = collective;
  beat_.sequence = sequence;
}

void Pulse::update(const Heartbeat& beat) {
  std::lock_guard<std::mutex> lock(mutex_);
  beat_ = beat;
  sender_->send(beat_);
}

Receiver::Receiver(const std::string& bind, int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, bind.c_str(), &address.sin_addr) != 1) {
    throw Error("heartbeat bind address \"" + bind + "\" is not an IPv4 address");
  }
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int saved = errno;
    if (fd_ >= 0)
      ::close(fd_);
    throw Error("cannot receive heartbeats on " + bind + ":" + std::to_string(port) + ": " +
                errno_text(saved));
  }
  socklen_t length = sizeof(address);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  // The kernel's default (about 200 KiB) holds well under a second of an
  // 85,000-rank job's heartbeats; ask for more, beyond rmem_max where we may.
  int want = kBufferBytes;
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
  socklen_t size = sizeof(buffer_bytes_);
  ::getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer_bytes_, &size);
}

Receiver::~Receiver() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::optional<Heartbeat> Receiver::receive(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0)
    return std::nullopt;
  char buffer[kMaxLineBytes];
  const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
  if (n <= 0 || static_cast<std::size_t>(n) == sizeof(buffer))
    return std::nullopt;
  return parse(std::string_view(buffer, static_cast<std::size_t>(n)));
}

std::size_t Receiver::receive_waiting(std::vector<Heartbeat>& out, std::size_t max) {
  constexpr std::size_t kBatch = 64;
  static thread_local char buffers[kBatch][kMaxLineBytes];
  iovec iov[kBatch];
  mmsghdr messages[kBatch];
  std::size_t read = 0;
  while (read < max) {
    const std::size_t n = std::min(kBatch, max - read);
    for (std::size_t i = 0; i < n; ++i) {
      iov[i] = {buffers[i], kMaxLineBytes};
      messages[i] = {};
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int k = ::recvmmsg(fd_, messages, static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
    if (k <= 0)
      break;
    for (int i = 0; i < k; ++i) {
      const std::size_t length = messages[i].msg_len;
      if (length >= kMaxLineBytes)
        continue;  // cut: longer than any heartbeat
      if (auto beat = parse(std::string_view(buffers[i], length)))
        out.push_back(std::move(*beat));
    }
    read += static_cast<std::size_t>(k);
    if (static_cast<std::size_t>(k) < n)
      break;
  }
  return read;
}

}  // namespace dojo::heartbeat
