#pragma once
// How often to checkpoint: the one home of the Young-Daly formula, used by
// the training runtime (`checkpoint: every_steps: auto`) and the scale planner.

namespace dojo::reliability {

/// Mean time between failures of a job on `devices` devices that each fail
/// independently every `device_mtbf_hours` on average, in seconds.
double job_mtbf_seconds(double device_mtbf_hours, double devices);

/// The Young-Daly optimal checkpoint interval sqrt(2 * C * M) in seconds,
/// for a checkpoint that takes `save_seconds` (C) and a job MTBF of
/// `job_mtbf_seconds` (M). Throws dojo::Error for non-positive inputs.
double young_daly_interval_seconds(double save_seconds, double job_mtbf_seconds);

}  // namespace dojo::reliability
