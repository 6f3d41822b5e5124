#pragma once
// Small pieces of the launcher: the run's event log, fingerprints, and
// facts about hosts and their network.

#include <filesystem>
#include <fstream>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

namespace dojo::launch {

/// events.jsonl: one JSON object a line (time, unix_ms, event, fields),
/// appended and flushed as things happen.
class EventLog {
 public:
  explicit EventLog(const std::filesystem::path& path);
  /// Appends {"time", "unix_ms", "event", ...fields}; `fields` is a JSON object.
  void add(const std::string& event, const nlohmann::ordered_json& fields);
  void add(const std::string& event);

 private:
  std::ofstream out_;
};

std::string read_text(const std::filesystem::path& path);
/// FNV-1a 64 of `text` in hex: a stable fingerprint of the job as configured.
std::string config_hash(const std::string& text);
/// A job name from a program path: label-safe characters only.
std::string name_from_command(const std::string& program);
/// A free TCP port on loopback (29500, torchrun's default, if none is told).
int free_tcp_port();
/// The IPv4 address of a network interface of this host, or "".
std::string interface_address(const std::string& name);
/// The number of the next attempt in a run directory: one past its newest
/// attempt-N.log, so a requeued or relaunched job overwrites no log.
int next_attempt_number(const std::filesystem::path& run_dir);
/// localhost, 127.0.0.1 or this host's name.
bool is_local(const std::string& host);

}  // namespace dojo::launch
