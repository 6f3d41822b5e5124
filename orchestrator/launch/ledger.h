#pragma once
// The allocation ledger: which job holds which slots, in a state directory
// shared by every launcher of the cluster, changed only under a file lock.
//
// ledger.tsv holds one booking a line, tab-separated:
//   JOB_ID  LAUNCHER_HOST  LAUNCHER_PID  LEASE_UNTIL(unix s)  H100E  host:slots,host:slots...
// A booking whose launcher died is reclaimed: on the launcher's own host when
// its pid is gone, anywhere when its lease ran out (launchers renew theirs).

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/launch/placement.h"

namespace dojo::launch {

struct Booking {
  std::string job_id;
  std::string launcher_host;
  long launcher_pid = 0;
  long long lease_until = 0;
  double h100e = 0;
  std::vector<std::pair<std::string, int>> slots;
};

/// The state directory: DOJO_STATE_DIR, else $XDG_STATE_HOME/dojo, else ~/.local/state/dojo.
std::filesystem::path default_state_dir();

class Ledger {
 public:
  static constexpr long long kLeaseSeconds = 300;

  explicit Ledger(std::filesystem::path state_dir);

  /// Under the lock: drops stale bookings, places the job with what is left
  /// (`place` gets the held slots and who holds them) and books the result
  /// for `job_id`. `granted`: a scheduler (Slurm) granted the nodes, so no
  /// booking of another job can take them away (they are booked all the same,
  /// for the capacity tracker).
  Placement book(const std::string& job_id,
                 const std::function<Placement(const Unavailable&)>& place, bool granted = false);
  /// Extends this launcher's lease on `job_id`.
  void renew(const std::string& job_id);
  /// Removes the booking of `job_id`.
  void release(const std::string& job_id);
  /// Live bookings (stale ones left out), for the capacity tracker.
  std::vector<Booking> bookings() const;

 private:
  std::vector<Booking> read_live() const;
  void write(const std::vector<Booking>& bookings) const;

  std::filesystem::path dir_;
};

}  // namespace dojo::launch
