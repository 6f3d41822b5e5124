// reliability: the failure arithmetic shared by the runtime and the planner.
#include <doctest/doctest.h>

#include <cmath>

#include "common/error.h"
#include "orchestrator/reliability/young_daly.h"

TEST_CASE("Young-Daly: sqrt(2 x save time x job MTBF) with the job MTBF from the device MTBF") {
  using namespace dojo::reliability;
  CHECK(job_mtbf_seconds(50000, 1000) == doctest::Approx(180000));
  CHECK(young_daly_interval_seconds(30, 180000) == doctest::Approx(std::sqrt(2.0 * 30 * 180000)));
  // Llama 3's scale: 16,384 GPUs at 419 failures in 54 days is one every ~3.1 h.
  CHECK(job_mtbf_seconds(16384.0 * 54 * 24 / 419, 16384) ==
        doctest::Approx(54.0 * 24 * 3600 / 419));
  CHECK_THROWS_WITH_AS(young_daly_interval_seconds(0, 10),
                       doctest::Contains("needs a positive save time and MTBF"), dojo::Error);
}
