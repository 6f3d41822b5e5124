#pragma once
// An HTTP endpoint that serves Prometheus metrics (prometheus-cpp's pull
// exposer), bound to loopback unless configured otherwise.

#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "common/error.h"

namespace prometheus {
class Exposer;
}

namespace dojo::metrics {

/// An exporter that could not be started (address in use, bad address, ...).
class MetricsError : public Error {
 public:
  using Error::Error;
};

struct ExporterOptions {
  std::string bind = "127.0.0.1";  ///< IPv4 or IPv6 literal (IPv6 without brackets)
  int port = 0;                    ///< 0: the kernel picks a free port
};

/// Serves /metrics for the registries added to it until destroyed.
class Exporter {
 public:
  /// Starts listening. Throws MetricsError naming the address on failure.
  explicit Exporter(const ExporterOptions& options);
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  /// The port actually bound (the chosen one when options.port was 0).
  int port() const { return port_; }
  /// "host:port" as a Prometheus scrape target writes it.
  std::string endpoint() const;

  /// Serves `registry` from now on; the exporter keeps it alive.
  void add(std::shared_ptr<prometheus::Registry> registry);

 private:
  std::string bind_;
  int port_ = 0;
  std::vector<std::shared_ptr<prometheus::Registry>> registries_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace dojo::metrics
