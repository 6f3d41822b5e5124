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

/// Failures a day of a job whose MTBF is `job_mtbf_seconds`.
double interruptions_per_day(double job_mtbf_seconds);

/// Expected goodput (the share of wall time that ends as kept training
/// progress) of a job that checkpoints every `interval_seconds` of work, each
/// save taking `save_seconds`, fails every `job_mtbf_seconds` on average and
/// needs `restart_seconds` to resume. First-order model: checkpointing keeps
/// interval / (interval + save) of the time; each failure loses half a
/// period of work on average plus the restart:
///   goodput = I / (I + C) x max(0, 1 - (R + (I + C) / 2) / M).
/// Throws dojo::Error for non-positive interval or MTBF or negative costs.
double expected_goodput(double interval_seconds, double save_seconds, double restart_seconds,
                        double job_mtbf_seconds);

}  // namespace dojo::reliability
