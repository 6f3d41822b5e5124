#pragma once
// Watches the Slurm allocation a job runs in: a plain `salloc` whose
// allocation is cancelled (scancel, a preemption, the time limit) leaves its
// shell running, so the launcher asks Slurm every few seconds and stops the
// job once the allocation is gone.

#include <chrono>
#include <string>

namespace dojo::launch {

class AllocationWatch {
 public:
  explicit AllocationWatch(std::string job_id) : job_id_(std::move(job_id)) {}

  /// "" while the allocation stands (or Slurm cannot be asked); once it is
  /// revoked, why ("Slurm allocation 12 was revoked (state CANCELLED)").
  /// Asks Slurm at most every kInterval; the answer, once revoked, stays.
  std::string check();
  /// Asks Slurm now.
  std::string check_now();

  static constexpr std::chrono::seconds kInterval{2};

 private:
  std::string job_id_;
  std::string revoked_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace dojo::launch
