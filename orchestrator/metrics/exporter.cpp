#include "orchestrator/metrics/exporter.h"

#include <arpa/inet.h>
#include <prometheus/exposer.h>

namespace dojo::metrics {
namespace {

bool is_ipv6(const std::string& address) {
  in6_addr parsed{};
  return inet_pton(AF_INET6, address.c_str(), &parsed) == 1;
}

bool is_ipv4(const std::string& address) {
  in_addr parsed{};
  return inet_pton(AF_INET, address.c_str(), &parsed) == 1;
}

// civetweb writes IPv6 listening addresses as [addr]:port.
std::string listening_address(const std::string& bind, int port) {
  return (is_ipv6(bind) ? "[" + bind + "]" : bind) + ":" + std::to_string(port);
}

}  // namespace

Exporter::Exporter(const ExporterOptions& options) : bind_(options.bind) {
  if (!is_ipv4(bind_) && !is_ipv6(bind_)) {
    throw MetricsError("metrics bind address \"" + bind_ +
                       "\" is not an IPv4 or IPv6 address (use 127.0.0.1 for this machine only)");
  }
  if (options.port < 0 || options.port > 65535) {
    throw MetricsError("metrics port " + std::to_string(options.port) + " is not in [0, 65535]");
  }
  const std::string address = listening_address(bind_, options.port);
  try {
    // One worker thread is plenty for a few scrapers and keeps the footprint small.
    exposer_ = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    throw MetricsError("cannot serve metrics on " + address + ": " + e.what() +
                       (options.port != 0 ? " (is the port in use? port 0 picks a free one)" : ""));
  }
  const std::vector<int> ports = exposer_->GetListeningPorts();
  if (ports.empty())
    throw MetricsError("metrics exporter on " + address + " is not listening");
  port_ = ports.front();
}

Exporter::~Exporter() = default;

std::string Exporter::endpoint() const {
  return listening_address(bind_, port_);
}

void Exporter::add(std::shared_ptr<prometheus::Registry> registry) {
  exposer_->RegisterCollectable(registry);
  registries_.push_back(std::move(registry));
}

}  // namespace dojo::metrics
