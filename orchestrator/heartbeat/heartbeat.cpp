#include "orchestrator/heartbeat/heartbeat.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>

#include "common/error.h"

namespace dojo::heartbeat {

std::string format(const Heartbeat& b) {
  return "dojo-heartbeat 1 " + b.job + " " + std::to_string(b.attempt) + " " +
         std::to_string(b.rank) + " " + b.host + " " + std::to_string(b.step) + " " +
         std::to_string(b.sequence);
}

std::optional<Heartbeat> parse(const std::string& line) {
  std::istringstream in(line);
  std::string magic;
  int version = 0;
  Heartbeat b;
  if (!(in >> magic >> version >> b.job >> b.attempt >> b.rank >> b.host >> b.step >> b.sequence)) {
    return std::nullopt;
  }
  std::string extra;
  if (magic != "dojo-heartbeat" || version != 1 || (in >> extra) || b.rank < 0 || b.attempt < 0) {
    return std::nullopt;
  }
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
}

Receiver::~Receiver() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::optional<Heartbeat> Receiver::receive(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0)
    return std::nullopt;
  char buffer[512];
  const ssize_t n = ::recv(fd_, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0)
    return std::nullopt;
  return parse(std::string(buffer, static_cast<std::size_t>(n)));
}

}  // namespace dojo::heartbeat
