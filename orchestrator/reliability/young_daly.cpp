#include "orchestrator/reliability/young_daly.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"

namespace dojo::reliability {

double job_mtbf_seconds(double device_mtbf_hours, double devices) {
  if (!(device_mtbf_hours > 0) || !(devices > 0)) {
    throw Error("job MTBF needs a positive device MTBF and device count, got " +
                std::to_string(device_mtbf_hours) + " h and " + std::to_string(devices));
  }
  return device_mtbf_hours * 3600.0 / devices;
}

double young_daly_interval_seconds(double save_seconds, double job_mtbf_seconds) {
  if (!(save_seconds > 0) || !(job_mtbf_seconds > 0)) {
    throw Error("the Young-Daly interval needs a positive save time and MTBF, got " +
                std::to_string(save_seconds) + " s and " + std::to_string(job_mtbf_seconds) + " s");
  }
  return std::sqrt(2.0 * save_seconds * job_mtbf_seconds);
}

double interruptions_per_day(double job_mtbf_seconds) {
  if (!(job_mtbf_seconds > 0))
    throw Error("interruptions per day need a positive job MTBF, got " +
                std::to_string(job_mtbf_seconds) + " s");
  return 86400.0 / job_mtbf_seconds;
}

double expected_goodput(double interval_seconds, double save_seconds, double restart_seconds,
                        double job_mtbf_seconds) {
  if (!(interval_seconds > 0) || !(job_mtbf_seconds > 0) || !(save_seconds >= 0) ||
      !(restart_seconds >= 0)) {
    throw Error(
        "goodput needs a positive checkpoint interval and MTBF and non-negative save and "
        "restart times, got interval " +
        std::to_string(interval_seconds) + " s, save " + std::to_string(save_seconds) +
        " s, restart " + std::to_string(restart_seconds) + " s, MTBF " +
        std::to_string(job_mtbf_seconds) + " s");
  }
  const double period = interval_seconds + save_seconds;
  const double lost_per_failure = restart_seconds + period / 2.0;
  return interval_seconds / period * std::max(0.0, 1.0 - lost_per_failure / job_mtbf_seconds);
}

}  // namespace dojo::reliability
