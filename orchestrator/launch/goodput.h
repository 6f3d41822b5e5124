#pragma once
// Goodput accounting: where a job's wall time went, over all its attempts
// and Slurm requeues. Productive training is the time of steps that were
// kept; the rest is badput, by cause. Built from what the launcher measures
// itself (attempt times, detection, backoff) and what rank 0's heartbeats
// say (first step, resume point, last step, step time, checkpoint saves).

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dojo::launch {

enum class Badput {
  kStartup,     ///< the launcher's set-up, and a fresh attempt's start to its first step
  kRestore,     ///< a resumed attempt's start to its first step (launch, checkpoint read)
  kCheckpoint,  ///< saving checkpoints, as rank 0 reported it
  kLostWork,    ///< steps done after the last checkpoint of a failed attempt, redone later
  kDetection,   ///< from a failure to the launcher seeing it (a hang's timeout)
  kBackoff,     ///< the wait before a restart
  kStopped,     ///< from a stop request to the attempt's end (saving, exiting)
  kRequeued,    ///< a Slurm requeue's time between its launchers
  kShutdown,    ///< a completed attempt after its last step (final evaluation, exit)
};
inline constexpr Badput kAllBadput[] = {Badput::kStartup,  Badput::kRestore,   Badput::kCheckpoint,
                                        Badput::kLostWork, Badput::kDetection, Badput::kBackoff,
                                        Badput::kStopped,  Badput::kRequeued,  Badput::kShutdown};
const char* to_string(Badput badput);

/// One attempt as measured.
struct AttemptRecord {
  int attempt = 0;
  std::string cause;               ///< how it ended (Cause's word)
  double seconds = 0;              ///< start to end
  double first_step_seconds = -1;  ///< start to its first step; -1: none
  std::int64_t resumed_from = -1;  ///< the step it continued after; -1: unknown
  std::int64_t last_step = -1;     ///< the last step it finished; -1: none
  double step_seconds = std::numeric_limits<double>::quiet_NaN();  ///< measured per step
  double checkpoint_seconds = 0;                                   ///< saving checkpoints
  int checkpoints = 0;        ///< saves seen (rank 0's total grew)
  double detect_seconds = 0;  ///< failure to detection
  double stop_seconds = 0;    ///< stop request to end
  double tail_seconds = 0;    ///< after its last step, checkpoint saves aside
};

struct GoodputTotals {
  double total_seconds = 0;
  double productive_seconds = 0;
  std::map<Badput, double> badput_seconds;  ///< every cause, 0 included
  std::int64_t lost_steps = 0;              ///< steps done twice
  /// productive / total; NaN before any time passed.
  double ratio() const;
};

class GoodputLedger {
 public:
  /// The launcher's own time before the first attempt (placement, set-up).
  void add_setup(double seconds) { setup_seconds_ += seconds; }
  void add_attempt(const AttemptRecord& record) { attempts_.push_back(record); }
  void add_backoff(double seconds) { backoff_seconds_ += seconds; }
  void add_requeue_wait(double seconds) { requeued_seconds_ += seconds; }

  const std::vector<AttemptRecord>& attempts() const { return attempts_; }

  /// The totals, with `running` (the attempt under way, if any) counted as
  /// far as it got. An attempt's work past the point the next one resumed
  /// from is lost work; its time after its last progress, detection.
  GoodputTotals totals(const AttemptRecord* running = nullptr) const;

  nlohmann::json to_json() const;
  /// Throws dojo::Error for a document that is not a ledger.
  static GoodputLedger from_json(const nlohmann::json& doc);

 private:
  std::vector<AttemptRecord> attempts_;
  double setup_seconds_ = 0;
  double backoff_seconds_ = 0;
  double requeued_seconds_ = 0;
};

/// The "goodput" object of summary.json: ratio, seconds by cause, attempts.
nlohmann::json goodput_json(const GoodputLedger& ledger);

/// What a run measured, for the planner (`dojo simulate --from-run`).
struct MeasuredCosts {
  int saves = 0;
  double save_seconds = 0;  ///< per checkpoint save; 0 when none was seen
  int restarts = 0;
  double restart_seconds = 0;  ///< detection, backoff and restore per restart; 0 when none
};
MeasuredCosts measured_costs(const GoodputLedger& ledger);

}  // namespace dojo::launch
