#pragma once
// An HTTP endpoint that serves Prometheus metrics from prometheus-cpp
// registries, bound to loopback unless configured otherwise.
//
// Why not prometheus-cpp's own Exposer: it runs on civetweb, which Debian
// builds with a fixed 100 KiB stack per worker thread, and glibc carves each
// thread's static TLS out of that stack. In a training rank the TLS of
// OpenBLAS (60 KiB), NCCL (12 KiB) and the CUDA runtime (4 KiB) leaves too
// little, and the first scrape overflows the stack (a segfault seen in
// tests). This server keeps prometheus-cpp's registries and text format and
// runs its connections on threads with the default stack.

#include <prometheus/collectable.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"

namespace dojo::metrics {

/// An exporter that could not be started (address in use, bad address, ...).
class MetricsError : public Error {
 public:
  using Error::Error;
};

struct ExporterOptions {
  std::string bind = "127.0.0.1";  ///< IPv4 or IPv6 literal (IPv6 without brackets)
  int port = 0;                    ///< 0: the kernel picks a free port
  int max_connections = 128;       ///< concurrent connections; more wait in the backlog
  /// "user:password": HTTP basic auth required on every request (401
  /// otherwise); empty serves without auth. TLS belongs to a reverse proxy.
  std::string basic_auth = {};
};

/// Serves GET /metrics (text format 0.0.4) for the collectables added to it
/// until destroyed. HTTP/1.1 keep-alive and HTTP/1.0 are both served.
class Exporter {
 public:
  /// Starts listening. Throws MetricsError naming the address on failure.
  explicit Exporter(const ExporterOptions& options);
  /// Stops listening and closes every connection.
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  /// The port actually bound (the chosen one when options.port was 0).
  int port() const { return port_; }
  /// "host:port" as a Prometheus scrape target writes it.
  std::string endpoint() const;

  /// Serves `collectable` from now on; the exporter keeps it alive.
  void add(std::shared_ptr<prometheus::Collectable> collectable);

  /// Caches the rendered exposition while `version` returns the same string:
  /// for large expositions whose content changes rarely (serializing 85,000
  /// series takes tens of milliseconds). Concurrent scrapes on a stale cache
  /// wait for one render instead of each rendering.
  void cache_while(std::function<std::string()> version);

  /// The exposition as a scrape would see it.
  std::string render() const;

  /// Also serves GET `path` (not /metrics) with `content_type`, the body
  /// `render` returns at each request; behind the same basic auth. A render
  /// that throws answers 500 with its message.
  void add_page(std::string path, std::string content_type, std::function<std::string()> render);

 private:
  std::string render_now() const;
  std::string page(const std::string& path, bool keep_alive, bool head_only) const;
  void accept_loop();
  void serve(int fd);

  std::string bind_;
  std::string expected_authorization_;  // "Basic <base64>" or empty
  int port_ = 0;
  int max_connections_;
  int listen_fd_ = -1;
  int wake_fd_[2] = {-1, -1};  // a pipe that interrupts poll() on shutdown
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::vector<int> open_fds_;
  std::function<std::string()> version_;  // empty: render every scrape
  struct Page {
    std::string path, content_type;
    std::function<std::string()> render;
  };
  std::vector<Page> pages_;  // guarded by mutex_
  mutable std::mutex cache_mutex_;
  mutable std::string cached_version_, cached_text_;
  mutable bool cached_ = false;
  std::condition_variable idle_;
  int active_ = 0;  // connection threads alive (guarded by mutex_)
  std::thread acceptor_;

  int active_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return active_;
  }
};

}  // namespace dojo::metrics
