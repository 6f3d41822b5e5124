#include "orchestrator/metrics/exporter.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dojo::metrics {
namespace {

constexpr std::size_t kMaxRequestBytes = 16 * 1024;
constexpr int kIdleTimeoutMs = 10'000;  // keep-alive connections idle longer are closed

bool is_ipv6(const std::string& address) {
  in6_addr parsed{};
  return inet_pton(AF_INET6, address.c_str(), &parsed) == 1;
}

bool is_ipv4(const std::string& address) {
  in_addr parsed{};
  return inet_pton(AF_INET, address.c_str(), &parsed) == 1;
}

std::string address_text(const std::string& bind, int port) {
  return (is_ipv6(bind) ? "[" + bind + "]" : bind) + ":" + std::to_string(port);
}

bool send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
            kAlphabet[v & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

// The value of header `name` (lower case) in `head`, whose header names may be
// in any case; `lowered` is `head` lower-cased.
std::string header_value(const std::string& head, const std::string& lowered,
                         const std::string& name) {
  const std::size_t at = lowered.find("\r\n" + name + ":");
  if (at == std::string::npos)
    return {};
  std::size_t begin = at + 3 + name.size();
  const std::size_t end = std::min(head.find("\r\n", begin), head.size());
  while (begin < end && (head[begin] == ' ' || head[begin] == '\t'))
    ++begin;
  std::size_t last = end;
  while (last > begin && (head[last - 1] == ' ' || head[last - 1] == '\t'))
    --last;
  return head.substr(begin, last - begin);
}

// Compares without an early exit, so timing does not leak the secret's prefix.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string response(int status, const char* reason, const std::string& type,
                     const std::string& body, bool keep_alive, bool head,
                     const std::string& extra_header = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  out += extra_header;
  out += "Content-Type: " + type + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (!head)
    out += body;
  return out;
}

}  // namespace

Exporter::Exporter(const ExporterOptions& options)
    : bind_(options.bind),
      expected_authorization_(options.basic_auth.empty() ? ""
                                                         : "Basic " + base64(options.basic_auth)),
      max_connections_(std::max(1, options.max_connections)) {
  const bool v6 = is_ipv6(bind_);
  if (!v6 && !is_ipv4(bind_)) {
    throw MetricsError("metrics bind address \"" + bind_ +
                       "\" is not an IPv4 or IPv6 address (use 127.0.0.1 for this machine only)");
  }
  if (options.port < 0 || options.port > 65535) {
    throw MetricsError("metrics port " + std::to_string(options.port) + " is not in [0, 65535]");
  }
  const std::string address = address_text(bind_, options.port);
  listen_fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0)
    throw MetricsError("cannot serve metrics on " + address + ": " + errno_text(errno));
  const int yes = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<std::uint16_t>(options.port));
    inet_pton(AF_INET6, bind_.c_str(), &a->sin6_addr);
    length = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<std::uint16_t>(options.port));
    inet_pton(AF_INET, bind_.c_str(), &a->sin_addr);
    length = sizeof(sockaddr_in);
  }
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    const int saved = errno;
    ::close(listen_fd_);
    throw MetricsError("cannot serve metrics on " + address + ": " + errno_text(saved) +
                       (options.port != 0 ? " (is the port in use? port 0 picks a free one)" : ""));
  }
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&storage), &length);
  port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                   : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  if (::pipe2(wake_fd_, O_CLOEXEC) != 0) {
    ::close(listen_fd_);
    throw MetricsError("cannot create the exporter's wake-up pipe: " + errno_text(errno));
  }
  acceptor_ = std::thread([this] { accept_loop(); });
}

Exporter::~Exporter() {
  stopping_ = true;
  const char byte = 0;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_[1], &byte, 1);
  if (acceptor_.joinable())
    acceptor_.join();
  {
    // Wake connections blocked in poll, then wait for their threads to leave.
    std::unique_lock<std::mutex> lock(mutex_);
    for (int fd : open_fds_)
      ::shutdown(fd, SHUT_RDWR);
    idle_.wait(lock, [&] { return active_ == 0; });
  }
  ::close(listen_fd_);
  ::close(wake_fd_[0]);
  ::close(wake_fd_[1]);
}

std::string Exporter::endpoint() const {
  return address_text(bind_, port_);
}

std::string Exporter::page(const std::string& path, bool keep_alive, bool head_only) const {
  std::function<std::string()> render;
  std::string type;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Page& p : pages_) {
      if (p.path == path) {
        render = p.render;
        type = p.content_type;
      }
    }
  }
  if (!render) {
    return response(404, "Not Found", "text/plain", "metrics are at /metrics\n", keep_alive,
                    head_only);
  }
  try {
    return response(200, "OK", type, render(), keep_alive, head_only);
  } catch (const std::exception& e) {
    return response(500, "Internal Server Error", "text/plain", std::string(e.what()) + "\n",
                    keep_alive, head_only);
  }
}

void Exporter::add(std::shared_ptr<prometheus::Collectable> collectable) {
  std::lock_guard<std::mutex> lock(mutex_);
  collectables_.push_back(std::move(collectable));
}

void Exporter::add_page(std::string path, std::string content_type,
                        std::function<std::string()> render) {
  std::lock_guard<std::mutex> lock(mutex_);
  pages_.push_back({std::move(path), std::move(content_type), std::move(render)});
}

void Exporter::cache_while(std::function<std::string()> version) {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  version_ = std::move(version);
  cached_ = false;
}

std::string Exporter::render() const {
  std::unique_lock<std::mutex> cache_lock(cache_mutex_);
  if (!version_) {
    cache_lock.unlock();
    return render_now();
  }
  std::string version = version_();
  if (!cached_ || version != cached_version_) {
    cached_text_ = render_now();
    cached_version_ = std::move(version);
    cached_ = true;
  }
  return cached_text_;
}

std::string Exporter::render_now() const {
  std::vector<prometheus::MetricFamily> families;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& c : collectables_) {
      auto collected = c->Collect();
      families.insert(families.end(), std::make_move_iterator(collected.begin()),
                      std::make_move_iterator(collected.end()));
    }
  }
  return prometheus::TextSerializer().Serialize(families);
}

void Exporter::accept_loop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    if (fds[1].revents != 0 || stopping_)
      return;
    if (active_count() >= max_connections_) {
      ::poll(nullptr, 0, 5);  // let a connection finish; the kernel queues the rest
      continue;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    const int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    std::lock_guard<std::mutex> lock(mutex_);
    ++active_;
    open_fds_.push_back(fd);
    // Detached: the destructor waits for active_ to reach zero instead.
    std::thread([this, fd] { serve(fd); }).detach();
  }
}

void Exporter::serve(int fd) {
  std::string buffer;
  char chunk[4096];
  bool keep_alive = true;
  while (keep_alive && !stopping_) {
    // Read one request head.
    std::size_t end = std::string::npos;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, kIdleTimeoutMs) <= 0 || buffer.size() > kMaxRequestBytes) {
        keep_alive = false;
        break;
      }
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        keep_alive = false;
        break;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    if (end == std::string::npos)
      break;
    const std::string head = buffer.substr(0, end);
    buffer.erase(0, end + 4);

    const std::size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const std::string headers = lower(line_end == std::string::npos ? "" : head.substr(line_end));
    const std::size_t sp1 = request_line.find(' ');
    const std::size_t sp2 = request_line.find(' ', sp1 + 1);
    const std::string method = request_line.substr(0, sp1);
    std::string path = sp1 == std::string::npos ? "" : request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string version = sp2 == std::string::npos ? "" : request_line.substr(sp2 + 1);
    path = path.substr(0, path.find('?'));
    keep_alive = version == "HTTP/1.1"
                     ? headers.find("connection: close") == std::string::npos
                     : headers.find("connection: keep-alive") != std::string::npos;
    const bool head_only = method == "HEAD";
    std::string reply;
    const std::string line_and_head = line_end == std::string::npos ? "" : head.substr(line_end);
    if (!expected_authorization_.empty() &&
        !same_secret(header_value(line_and_head, headers, "authorization"),
                     expected_authorization_)) {
      reply = response(401, "Unauthorized", "text/plain", "authorization required\n", keep_alive,
                       head_only, "WWW-Authenticate: Basic realm=\"dojo\"\r\n");
    } else if (method != "GET" && method != "HEAD") {
      reply = response(405, "Method Not Allowed", "text/plain", "only GET\n", keep_alive, false);
    } else if (path == "/metrics") {
      reply = response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", render(), keep_alive,
                       head_only);
    } else {
      reply = page(path, keep_alive, head_only);
    }
    if (!send_all(fd, reply))
      break;
  }
  ::close(fd);
  std::lock_guard<std::mutex> lock(mutex_);
  std::erase(open_fds_, fd);
  --active_;
  idle_.notify_all();
}

}  // namespace dojo::metrics
