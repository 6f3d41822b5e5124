#pragma once
// The synthetic workload: a named model's gradient tensors and real GEMM
// compute of a set FLOP count per sample, for communication and scaling
// benchmarks without a dataset.

#include <iosfwd>
#include <string_view>

#include "collectives/communicator.h"
#include "orchestrator/config/job.h"
#include "orchestrator/train/trainer.h"

namespace dojo::train {

/// Runs the synthetic workload of `job`: each step computes
/// gflop_per_sample x this rank's share as OpenBLAS sgemms, a third as the
/// forward pass and the rest as backward, during which the model's gradients
/// are written and enter the bucketer last tensor first. Steps: max_steps,
/// else 100 per epoch. There is no model state, so no checkpoint: a stop
/// request ends the run (exit 3) at the end of the step.
TrainSummary run_synthetic(const config::JobConfig& job, collectives::Communicator& comm,
                           const WorkerOptions& options, std::ostream& log);

}  // namespace dojo::train
