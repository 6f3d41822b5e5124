// The metrics exporter: binding, free ports, serving, and its errors.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "common/atomic_file.h"
#include "orchestrator/metrics/exporter.h"
#include "tests/support.h"

using dojo::metrics::Exporter;
using dojo::metrics::ExporterOptions;
using dojo::metrics::MetricsError;

namespace {

// A minimal HTTP/1.0 GET against 127.0.0.1:port; returns the whole response.
std::string http_get(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0)
    response.append(buffer, n);
  close(fd);
  return response;
}

}  // namespace

TEST_CASE("an exporter on port 0 gets a free loopback port and serves its registries") {
  Exporter exporter(ExporterOptions{});
  CHECK(exporter.port() > 0);
  CHECK(exporter.endpoint() == "127.0.0.1:" + std::to_string(exporter.port()));
  auto registry = std::make_shared<prometheus::Registry>();
  auto& family = prometheus::BuildCounter()
                     .Name("dojo_test_events_total")
                     .Help("Test events.")
                     .Register(*registry);
  family.Add({{"kind", "unit"}}).Increment(3);
  exporter.add(registry);
  const std::string response = http_get(exporter.port(), "/metrics");
  CHECK(response.find("200 OK") != std::string::npos);
  CHECK(response.find("dojo_test_events_total{kind=\"unit\"} 3") != std::string::npos);
}

TEST_CASE("two exporters on port 0 get different ports") {
  Exporter a(ExporterOptions{});
  Exporter b(ExporterOptions{});
  CHECK(a.port() != b.port());
}

TEST_CASE("a port in use is an error that names the address") {
  Exporter first(ExporterOptions{});
  const std::string address = "127.0.0.1:" + std::to_string(first.port());
  const std::string expected = "cannot serve metrics on " + address;
  CHECK_THROWS_WITH_AS(Exporter(ExporterOptions{"127.0.0.1", first.port()}),
                       doctest::Contains(expected.c_str()), MetricsError);
}

TEST_CASE("a bind address that is not an IP address is refused") {
  CHECK_THROWS_WITH_AS(Exporter(ExporterOptions{"metrics.example", 0}),
                       "metrics bind address \"metrics.example\" is not an IPv4 or IPv6 address "
                       "(use 127.0.0.1 for this machine only)",
                       MetricsError);
  CHECK_THROWS_WITH_AS(Exporter(ExporterOptions{"127.0.0.1", 70000}),
                       "metrics port 70000 is not in [0, 65535]", MetricsError);
}

TEST_CASE("the exporter answers other paths and methods and keeps HTTP/1.1 connections alive") {
  Exporter exporter(ExporterOptions{});
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("dojo_test_total")
      .Help("Test.")
      .Register(*registry)
      .Add({})
      .Increment();
  exporter.add(registry);
  CHECK(http_get(exporter.port(), "/nope").find("404 Not Found") != std::string::npos);

  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(exporter.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  const std::string two =
      "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nPOST /metrics HTTP/1.1\r\nHost: x\r\nConnection: "
      "close\r\n\r\n";
  REQUIRE(send(fd, two.data(), two.size(), 0) == static_cast<ssize_t>(two.size()));
  std::string response;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0)
    response.append(buffer, n);
  close(fd);
  CHECK(response.find("HTTP/1.1 200 OK") == 0);
  CHECK(response.find("dojo_test_total 1") != std::string::npos);
  CHECK(response.find("HTTP/1.1 405 Method Not Allowed") != std::string::npos);
}

TEST_CASE("an exporter can bind the IPv6 loopback") {
  Exporter exporter(ExporterOptions{"::1", 0});
  CHECK(exporter.endpoint() == "[::1]:" + std::to_string(exporter.port()));
}

TEST_CASE("a cached exposition is served until its version changes") {
  Exporter exporter(ExporterOptions{});
  auto registry = std::make_shared<prometheus::Registry>();
  auto& counter = prometheus::BuildCounter()
                      .Name("dojo_test_cached_total")
                      .Help("Test events.")
                      .Register(*registry)
                      .Add({});
  exporter.add(registry);
  std::string version = "v1";
  exporter.cache_while([&version] { return version; });
  counter.Increment(1);
  CHECK(exporter.render().find("dojo_test_cached_total 1") != std::string::npos);
  counter.Increment(1);  // same version: the cached text, not the new value
  CHECK(exporter.render().find("dojo_test_cached_total 1") != std::string::npos);
  version = "v2";
  CHECK(exporter.render().find("dojo_test_cached_total 2") != std::string::npos);
  CHECK(http_get(exporter.port(), "/metrics").find("dojo_test_cached_total 2") !=
        std::string::npos);
}
