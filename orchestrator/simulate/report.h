#pragma once
// How `dojo simulate` prints its estimates: a table for people, JSON (a list,
// one object per scale) and CSV (a row per scale) for programs, and an SVG
// chart of scaling efficiency and goodput against H100e.

#include <iosfwd>
#include <string>
#include <vector>

#include "orchestrator/simulate/calibrate.h"
#include "orchestrator/simulate/planner.h"

namespace dojo::simulate {

void write_table(std::ostream& out, const PlanInputs& inputs,
                 const std::vector<ScaleEstimate>& scales);
void write_json(std::ostream& out, const PlanInputs& inputs,
                const std::vector<ScaleEstimate>& scales);
void write_csv(std::ostream& out, const PlanInputs& inputs,
               const std::vector<ScaleEstimate>& scales);

/// Message sizes of the per-size algorithm table: 4 KiB to 1 GiB by 4x.
std::vector<double> sweep_sizes();

/// Scaling efficiency and goodput at `points` H100e values spaced
/// logarithmically from `from_h100e` to `to_h100e`, with the plan's 35,000
/// and 85,000 H100e marked. A complete SVG document.
std::string chart_svg(const PlanInputs& inputs, double from_h100e, double to_h100e, int points);

/// The fitted links as the `network:` keys of a cluster document.
void write_calibration_yaml(std::ostream& out, const Calibration& calibration,
                            const std::string& source);
void write_calibration_json(std::ostream& out, const Calibration& calibration);

}  // namespace dojo::simulate
