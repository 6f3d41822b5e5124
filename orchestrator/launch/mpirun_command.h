#pragma once
// The mpirun command of one attempt, built as an argument vector: nothing
// ever goes through a shell, so names, values and paths pass literally.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace dojo::launch {

struct MpirunSpec {
  std::string mpirun = "mpirun";
  std::filesystem::path hostfile;
  int ranks = 1;
  std::string network_interface;  ///< "" lets MPI and NCCL choose
  std::string rsh_agent;          ///< "" keeps mpirun's default (ssh)
  bool as_root = false;
  bool oversubscribe = false;  ///< more ranks on a node than the scheduler's slots (one per GPU)
  std::map<std::string, std::string> mca;  ///< Open MPI parameters (the cluster's network.mca)
  std::map<std::string, std::string> env;  ///< exported to every rank with -x NAME=VALUE
  std::vector<std::string> pass_env;       ///< exported by name (-x NAME): mpirun's own values
  std::vector<std::string> program;        ///< what each rank runs
};

/// mpirun --hostfile H -np N --map-by slot --bind-to none --tag-output
///   [--allow-run-as-root] [--oversubscribe] --mca orte_leave_session_attached 1
///   [--mca plm_rsh_agent A]
///   [--mca btl_tcp_if_include I --mca oob_tcp_if_include I -x NCCL_SOCKET_IFNAME=I]
///   [--mca NAME VALUE...] -x NAME=VALUE... -x NAME... PROGRAM...
std::vector<std::string> mpirun_argv(const MpirunSpec& spec);

/// srun --mpi=MPI --ntasks=N --distribution=arbitrary --kill-on-bad-exit=1
///   --label --export=ALL [--overcommit] PROGRAM...: Slurm starts every rank itself, in the
/// order of `rank_hostfile` (one host a line, a line a rank: SLURM_HOSTFILE).
std::vector<std::string> srun_argv(const MpirunSpec& spec, const std::string& mpi);
/// What srun's environment adds for the ranks: the job's variables, the NIC
/// settings, OMPI_MCA_NAME for each MCA parameter and SLURM_HOSTFILE.
std::map<std::string, std::string> srun_env(const MpirunSpec& spec,
                                            const std::filesystem::path& rank_hostfile);

/// The argument vector as a shell would need it typed (for logs and
/// --dry-run): every word quoted when it holds anything but [A-Za-z0-9_./=:,@+-].
std::string shell_words(const std::vector<std::string>& argv);

}  // namespace dojo::launch
