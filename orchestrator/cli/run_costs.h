#pragma once
// What a finished (or failed) run measured, for `dojo simulate --from-run`.

#include <string>

#include "orchestrator/launch/goodput.h"

namespace dojo::cli {

/// The save and restart times in RUN_DIR/goodput.json. Throws UsageError
/// naming --from-run and the file when it cannot be read or is no ledger.
launch::MeasuredCosts measured_costs_of_run(const std::string& run_dir);

}  // namespace dojo::cli
