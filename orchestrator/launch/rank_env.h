#pragma once
// What `dojo exec` (and the lean dojo-exec) does on every rank: give a
// command the torchrun environment of its rank, then become it, or, under
// dojorun, run it and tell the launcher the moment it ends (rank_exit.h).

#include <string>
#include <vector>

namespace dojo::launch {

/// Sets RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE from Open MPI's
/// OMPI_COMM_WORLD_* variables (under mpirun) or from SLURM_PROCID,
/// SLURM_NTASKS, SLURM_LOCALID and the step's tasks per node (under srun,
/// with MASTER_ADDR the step's first node unless set), and DOJO_BATCH_SHARE from the launcher's
/// DOJO_BATCH_SHARES, puts the job client (python/ beside this program's
/// bin/) first on PYTHONPATH, arranges to be killed when the process that started it
/// (mpirun or an Open MPI daemon) dies, then execs `command` (under dojorun:
/// runs it with run_and_report_exit, and returns or ends as it did). Returns only on failure, with
/// the message in `error`: 2 when under neither mpirun nor srun, 127 when the command
/// cannot be run.
int exec_with_rank_env(const std::vector<std::string>& command, std::string& error);

}  // namespace dojo::launch
