#include "orchestrator/reliability/young_daly.h"

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

}  // namespace dojo::reliability
