#pragma once
// Capacity timelines for the tests: the shipped seed and small hand-made ones.

#include "orchestrator/config/capacity.h"
#include "orchestrator/config/loader.h"
#include "tests/support.h"

namespace dojo::test {

inline config::CapacityConfig seed() {
  return config::load_capacity(configs_dir() / "capacity" / "tesla-2024.yaml");
}

inline config::Date d(const char* text) {
  return *config::Date::parse(text);
}

inline config::Pool pool(const std::string& name, std::int64_t count, const config::Date& online) {
  config::Pool p;
  p.name = name;
  p.accelerator = "gpu";
  p.count = count;
  p.online = online;
  p.cluster = "default";
  return p;
}

/// One pool of `count` H100-class accelerators ("gpu", 1.0 H100e) online
/// from `online`, and a one-milestone plan; tests add to it.
inline config::CapacityConfig one_pool_timeline(std::int64_t count, const config::Date& online) {
  config::CapacityConfig c;
  c.name = "test";
  config::Accelerator gpu;
  gpu.name = "gpu";
  gpu.bf16_tflops = config::kH100Bf16Tflops;
  gpu.memory_gib = 80;
  gpu.power_w = 700;
  c.catalog.accelerators.push_back(gpu);
  c.pools.push_back(pool("base", count, online));
  c.plan.milestones = {{online, static_cast<double>(count)}};
  return c;
}

}  // namespace dojo::test
