#include "orchestrator/launch/mpirun_command.h"

#include <cctype>

namespace dojo::launch {

std::vector<std::string> mpirun_argv(const MpirunSpec& spec) {
  std::vector<std::string> argv = {spec.mpirun,
                                   "--hostfile",
                                   spec.hostfile.string(),
                                   "-np",
                                   std::to_string(spec.ranks),
                                   "--map-by",
                                   "slot",
                                   "--bind-to",
                                   "none",
                                   "--tag-output"};
  if (spec.as_root)
    argv.push_back("--allow-run-as-root");
  if (spec.oversubscribe)
    argv.push_back("--oversubscribe");
  // Open MPI's daemons detach into sessions of their own by default; attached,
  // they stay in the attempt's process group, which the launcher kills whole.
  argv.insert(argv.end(), {"--mca", "orte_leave_session_attached", "1"});
  if (!spec.rsh_agent.empty()) {
    argv.insert(argv.end(), {"--mca", "plm_rsh_agent", spec.rsh_agent});
  }
  std::map<std::string, std::string> env = spec.env;
  if (!spec.network_interface.empty()) {
    argv.insert(argv.end(), {"--mca", "btl_tcp_if_include", spec.network_interface, "--mca",
                             "oob_tcp_if_include", spec.network_interface});
    env["NCCL_SOCKET_IFNAME"] = spec.network_interface;
  }
  for (const auto& [name, value] : spec.mca)
    argv.insert(argv.end(), {"--mca", name, value});
  for (const auto& [name, value] : env) {
    argv.push_back("-x");
    argv.push_back(name + "=" + value);
  }
  for (const std::string& name : spec.pass_env) {
    argv.push_back("-x");
    argv.push_back(name);
  }
  argv.insert(argv.end(), spec.program.begin(), spec.program.end());
  return argv;
}

std::vector<std::string> srun_argv(const MpirunSpec& spec, const std::string& mpi) {
  std::vector<std::string> argv = {"srun",
                                   "--mpi=" + mpi,
                                   "--ntasks=" + std::to_string(spec.ranks),
                                   "--distribution=arbitrary",
                                   "--kill-on-bad-exit=1",
                                   "--label",
                                   "--export=ALL"};
  if (spec.oversubscribe)
    argv.push_back("--overcommit");
  argv.insert(argv.end(), spec.program.begin(), spec.program.end());
  return argv;
}

std::map<std::string, std::string> srun_env(const MpirunSpec& spec,
                                            const std::filesystem::path& rank_hostfile) {
  std::map<std::string, std::string> env = spec.env;
  if (!spec.network_interface.empty()) {
    env["OMPI_MCA_btl_tcp_if_include"] = spec.network_interface;
    env["NCCL_SOCKET_IFNAME"] = spec.network_interface;
  }
  for (const auto& [name, value] : spec.mca)
    env["OMPI_MCA_" + name] = value;
  env["SLURM_HOSTFILE"] = rank_hostfile.string();
  return env;
}

std::string shell_words(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& word : argv) {
    if (!text.empty())
      text += ' ';
    bool plain = !word.empty();
    for (char c : word) {
      const bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
                      std::string("_./=:,@+-").find(c) != std::string::npos;
      plain = plain && ok;
    }
    if (plain) {
      text += word;
      continue;
    }
    text += '\'';
    for (char c : word) {
      if (c == '\'') {
        text += "'\\''";
      } else {
        text += c;
      }
    }
    text += '\'';
  }
  return text;
}

}  // namespace dojo::launch
