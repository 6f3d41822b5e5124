#pragma once
// The parts of the training runtime around the loop: batch shares and the
// summary file.

#include <filesystem>
#include <string>
#include <vector>

#include "collectives/communicator.h"
#include "orchestrator/config/job.h"
#include "orchestrator/train/trainer.h"

namespace dojo::train {

/// Samples per global batch of every rank: explicit `resources.shares`, else
/// the launcher's DOJO_BATCH_SHARE (options.batch_share, all-gathered), else
/// even. Collective. Throws dojo::Error when they cannot add up.
std::vector<int> batch_shares(const config::JobConfig& job, collectives::Communicator& comm,
                              const WorkerOptions& options, int global_batch);

/// Writes summary.json atomically (non-finite figures as null).
void write_summary(const std::filesystem::path& path, const std::string& job, int ranks,
                   int global_batch, const TrainSummary& summary);

}  // namespace dojo::train
