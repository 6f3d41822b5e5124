#pragma once
// The node blacklist shared by every job of a cluster: nodes implicated in a
// lost node, a killed rank or a hang are avoided by later placements until
// their cooldown ends or an admin clears them (`dojo nodes clear HOST`).
//
// blacklist.tsv in the state directory, one node a line, tab-separated,
// changed only under a lock on blacklist.lock:
//   HOST  UNTIL(unix s)  CAUSE  JOB  H100E  REASON

#include <filesystem>
#include <string>
#include <vector>

namespace dojo::launch {

struct BlacklistEntry {
  std::string host;
  long long until = 0;  ///< unix seconds at which the cooldown ends
  std::string cause;    ///< node_lost, killed or hang
  std::string job;
  double h100e = 0;  ///< the node's H100e, for the capacity tracker (0: not counted)
  std::string reason;
};

class NodeBlacklist {
 public:
  explicit NodeBlacklist(std::filesystem::path state_dir);

  /// Lists `entry.host` until `entry.until`; a later cooldown of a node
  /// already listed replaces the earlier one.
  void add(BlacklistEntry entry);
  /// Entries whose cooldown has not ended, by host.
  std::vector<BlacklistEntry> active() const;
  /// Removes `host`; false when it was not listed (or its cooldown had ended).
  bool clear(const std::string& host);

 private:
  std::vector<BlacklistEntry> read_active() const;
  void write(const std::vector<BlacklistEntry>& entries) const;

  std::filesystem::path dir_;
};

}  // namespace dojo::launch
