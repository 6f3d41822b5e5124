#include "orchestrator/launch/allocation_watch.h"

#include "orchestrator/launch/slurm.h"

namespace dojo::launch {

std::string AllocationWatch::check() {
  if (!revoked_.empty() || std::chrono::steady_clock::now() - last_ < kInterval)
    return revoked_;
  return check_now();
}

std::string AllocationWatch::check_now() {
  if (!revoked_.empty())
    return revoked_;
  last_ = std::chrono::steady_clock::now();
  const SlurmJobState state = slurm_job_state(job_id_);
  if (state.known && !state.alive) {
    revoked_ = "Slurm allocation " + job_id_ + " was revoked (" +
               (state.state == "GONE" ? std::string("Slurm no longer knows the job")
                                      : "state " + state.state) +
               ")";
  }
  return revoked_;
}

}  // namespace dojo::launch
