#pragma once
// `dojo submit JOB.yaml`: the job as an sbatch script (nodes, tasks and GPUs
// per node from its placement, the time limit, requeue, the stop signal's
// lead, a fixed run directory, excluded nodes, `exec dojorun`), printed or
// submitted. And `dojo slurm billing|nodes`: slurm.conf lines that make
// Slurm's accounting count in H100-equivalents and declare the inventory's
// nodes with their GRES and features.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/config/loader.h"

namespace dojo::launch {

struct SubmitOptions {
  std::filesystem::path job_file;
  std::optional<std::filesystem::path> cluster_file;  ///< --cluster: the inventory to place by
  std::vector<config::Override> overrides;            ///< --set, passed on to dojorun too
  std::filesystem::path run_dir;                      ///< default runs/<job name>, made absolute
  std::vector<std::string> exclude;                   ///< --exclude: nodes Slurm must not give
  bool dry_run = false;                               ///< print the script, submit nothing
  std::filesystem::path dojorun;  ///< what the script execs (scripts/dojorun, else dojo-launch)
  std::filesystem::path bin_dir;  ///< the dojo binaries the script runs (DOJO_BIN_DIR)
  std::string sbatch = "sbatch";
};

/// The sbatch script of the job. Throws UsageError when the job cannot be
/// expressed (an H100e request without an inventory to count by).
std::string sbatch_script(const SubmitOptions& options, const config::JobConfig& job);

/// `dojo submit`: parses `args`, writes RUN_DIR/submit.sbatch and runs
/// sbatch on it (or prints it with --dry-run). Returns the exit code.
int submit_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// TRESBillingWeights (per accelerator type and for a mixed partition) and
/// AccountingStorageTRES for the cluster's accelerators, with comments.
std::string slurm_billing(const config::ClusterConfig& cluster);
/// GresTypes and one NodeName line per run of alike nodes: Gres, Features, State.
std::string slurm_nodes(const config::ClusterConfig& cluster);
/// `dojo slurm billing|nodes --cluster C.yaml`.
int slurm_main(const std::vector<std::string>& args, std::ostream& out);

}  // namespace dojo::launch
