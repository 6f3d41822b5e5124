#include "orchestrator/launch/launcher.h"

#include "orchestrator/launch/job_run.h"

namespace dojo::launch {

int launch(const LaunchOptions& options, std::ostream& out, std::ostream& err, StopRequest* stop) {
  JobRun job(options, out, err, stop);
  return job.run();
}

}  // namespace dojo::launch
