// `dojo simulate calibrate-step`: fitting the fixed and per-sample step costs.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "orchestrator/simulate/step_calibration.h"
#include "tests/support.h"

using namespace dojo;
using simulate::StepPoint;

TEST_CASE("calibrate-step recovers a known fixed cost and per-sample cost") {
  // 6 ms a step plus 0.25 ms a sample, with +-2% noise that alternates.
  std::vector<StepPoint> points;
  int i = 0;
  for (double batch : {16.0, 32.0, 64.0, 128.0, 256.0, 400.0}) {
    const double noise = (i++ % 2 == 0) ? 1.02 : 0.98;
    points.push_back({batch, (0.006 + 0.00025 * batch) * noise, "t"});
  }
  const simulate::StepFit fit = simulate::fit_step(points);
  CHECK(fit.overhead_seconds == doctest::Approx(0.006).epsilon(0.1));
  CHECK(fit.per_sample_seconds == doctest::Approx(0.00025).epsilon(0.05));
  CHECK(fit.batches == 6);
  CHECK(fit.max_relative_error < 0.05);
  // Exact points give the exact line; the MFU follows from FLOPs and the peak.
  const simulate::StepFit exact = simulate::fit_step({{10, 0.010, "a"}, {30, 0.020, "b"}});
  CHECK(exact.overhead_seconds == doctest::Approx(0.005));
  CHECK(exact.per_sample_seconds == doctest::Approx(0.0005));
  CHECK(simulate::predicted_step_seconds(exact, 50) == doctest::Approx(0.030));
  // 24.6 GFLOP a sample in 0.5 ms on a 989.4 TFLOPS device: 4.97% MFU.
  CHECK(simulate::mfu_of(exact, 24.6e9, 989.4e12) == doctest::Approx(24.6e9 / (0.0005 * 989.4e12)));
}

TEST_CASE("calibrate-step fixes a negative fixed cost at zero and refuses what cannot be fitted") {
  const simulate::StepFit origin =
      simulate::fit_step({{10, 0.0009, "a"}, {20, 0.0021, "b"}, {40, 0.0040, "c"}});
  CHECK(origin.overhead_seconds == 0);
  CHECK(origin.per_sample_seconds == doctest::Approx(0.0001).epsilon(0.1));
  CHECK_THROWS_WITH_AS(simulate::fit_step({{10, 0.01, "a"}, {10, 0.02, "b"}}),
                       "calibrate-step needs step times at two or more per-device batches, got 1",
                       Error);
  CHECK_THROWS_WITH_AS(simulate::fit_step({{10, 0.02, "a"}, {20, 0.01, "b"}}),
                       doctest::Contains("do not grow with the per-device batch"), Error);
}

TEST_CASE("calibrate-step reads a CSV and run directories, naming the bad line or file") {
  const auto dir = std::filesystem::temp_directory_path() / "dojo-calibrate-step-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "run");
  std::ofstream(dir / "good.csv") << "per_device_batch,step_seconds\n16,0.010\n\n64,0.022\n";
  CHECK(simulate::read_step_csv(dir / "good.csv").size() == 2);
  std::ofstream(dir / "header.csv") << "batch,seconds\n16,0.010\n";
  CHECK_THROWS_WITH_AS(simulate::read_step_csv(dir / "header.csv"),
                       doctest::Contains("header.csv:1: the header must read "
                                         "per_device_batch,step_seconds"),
                       Error);
  std::ofstream(dir / "bad.csv") << "per_device_batch,step_seconds\n16,0.010\n32,fast\n";
  CHECK_THROWS_WITH_AS(simulate::read_step_csv(dir / "bad.csv"),
                       doctest::Contains("bad.csv:3: step_seconds must be a positive number, "
                                         "got \"fast\""),
                       Error);
  std::ofstream(dir / "run" / "summary.json")
      << R"({"job": "s", "ranks": 2, "global_batch": 64, "samples_per_second": 3200})";
  const StepPoint p = simulate::step_point_of_run(dir / "run");
  CHECK(p.per_device_batch == 32);
  CHECK(p.step_seconds == doctest::Approx(0.02));
  std::ofstream(dir / "run" / "summary.json")
      << R"({"job": "s", "ranks": 2, "global_batch": 64, "samples_per_second": null})";
  CHECK_THROWS_WITH_AS(simulate::step_point_of_run(dir / "run"),
                       doctest::Contains("no positive \"samples_per_second\""), Error);
  CHECK_THROWS_WITH_AS(simulate::step_point_of_run(dir / "none"),
                       doctest::Contains("none: no summary.json"), Error);
  std::filesystem::remove_all(dir);
}
