#include "orchestrator/launch/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>

#include "orchestrator/launch/launch_error.h"

namespace dojo::launch {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Keeps the first half of the cap as written and the last half in a ring, so a
// long run's log holds its start and its end.
class CappedLog {
 public:
  CappedLog(const std::filesystem::path& path, std::size_t cap)
      : out_(path, std::ios::binary), half_(cap / 2) {
    if (!out_)
      throw LaunchError("cannot write the attempt log " + path.string());
  }
  ~CappedLog() { close(); }

  void write(const char* data, std::size_t n) {
    const std::size_t head_room = half_ > written_ ? half_ - written_ : 0;
    const std::size_t to_head = std::min(n, head_room);
    out_.write(data, static_cast<std::streamsize>(to_head));
    out_.flush();
    written_ += to_head;
    for (std::size_t i = to_head; i < n; ++i) {
      tail_.push_back(data[i]);
      ++dropped_;
    }
    if (tail_.size() > half_) {
      tail_.erase(0, tail_.size() - half_);
    }
  }

  void close() {
    if (!out_.is_open())
      return;
    if (dropped_ > tail_.size()) {
      out_ << "\n[dojo: " << (dropped_ - tail_.size()) << " bytes of output omitted here]\n";
    }
    out_ << tail_;
    out_.close();
  }

 private:
  std::ofstream out_;
  std::size_t half_;
  std::size_t written_ = 0;
  std::size_t dropped_ = 0;
  std::string tail_;
};

// Ranks that mpirun reports as failed ("Process name: [[1234,1],3]", "rank 3 with PID").
std::vector<int> failed_ranks_in(const std::string& output) {
  std::set<int> ranks;
  static const std::regex kProcess(R"(Process name: \[\[\d+,\d+\],(\d+)\])");
  static const std::regex kRank(R"(process rank (\d+) with PID)");
  for (const std::regex* re : {&kProcess, &kRank}) {
    for (std::sregex_iterator it(output.begin(), output.end(), *re), end; it != end; ++it) {
      ranks.insert(std::stoi((*it)[1].str()));
    }
  }
  return {ranks.begin(), ranks.end()};
}

}  // namespace

const char* to_string(AttemptResult::Outcome outcome) {
  switch (outcome) {
    case AttemptResult::Outcome::kCompleted:
      return "completed";
    case AttemptResult::Outcome::kFailed:
      return "failed";
    case AttemptResult::Outcome::kHung:
      return "hung";
    case AttemptResult::Outcome::kStopped:
      return "stopped";
    case AttemptResult::Outcome::kWallTime:
      return "wall-time";
  }
  return "?";
}

AttemptResult run_attempt(const AttemptOptions& options) {
  if (options.argv.empty())
    throw LaunchError("nothing to run");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw LaunchError("cannot create a pipe for mpirun");
  std::vector<char*> argv;
  for (const std::string& a : options.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  const auto start = Clock::now();
  const pid_t child = ::fork();
  if (child < 0)
    throw LaunchError("cannot fork mpirun");
  if (child == 0) {
    // The child leads its own process group, so the whole attempt can be signalled at once.
    ::setpgid(0, 0);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGUSR1, SIG_DFL);
    ::execvp(argv[0], argv.data());
    const std::string message =
        std::string("dojo launch: cannot run ") + argv[0] + ": " + std::strerror(errno) + "\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, message.data(), message.size());
    ::_exit(127);
  }
  ::setpgid(child, child);  // also from here: no race with the child's own call
  ::close(pipe_fds[1]);
  const int out_fd = pipe_fds[0];

  CappedLog log(options.log, options.log_cap_bytes);
  std::string recent;  // the last 64 KiB of output, to find failed ranks in
  AttemptResult result;
  std::vector<Clock::time_point> last_progress(static_cast<std::size_t>(options.ranks), start);
  std::vector<Clock::time_point> last_beat(static_cast<std::size_t>(options.ranks), start);
  // Ranks that went silent while others still beat: a dead node or a cut link.
  auto silent_ranks = [&] {
    double freshest = 1e300;
    for (const auto& t : last_beat)
      freshest = std::min(freshest, since(t));
    std::vector<int> silent;
    for (int r = 0; r < options.ranks; ++r) {
      const double age = since(last_beat[static_cast<std::size_t>(r)]);
      if (age > 3.0 && age > freshest + 2.0)
        silent.push_back(r);
    }
    return silent;
  };
  auto describe = [&](const std::vector<int>& ranks) {
    std::string who;
    for (int r : ranks) {
      const std::string host =
          r < static_cast<int>(options.rank_hosts.size()) ? options.rank_hosts[r] : "?";
      who += (who.empty() ? "" : ", ") + std::string("rank ") + std::to_string(r) + " on " + host;
    }
    return who;
  };
  std::vector<std::pair<std::int64_t, std::uint64_t>> last_seen(
      static_cast<std::size_t>(options.ranks), {-1, 0});
  bool stopping = false;
  Clock::time_point stop_sent;
  bool killed = false;
  auto kill_group = [&](int sig) { ::kill(-child, sig); };
  int status = 0;
  bool exited = false;
  bool pipe_open = true;
  Clock::time_point last_tick = start;
  Clock::time_point exit_seen = start;

  while (!exited || pipe_open) {
    if (pipe_open) {
      pollfd p{out_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char buffer[65536];
        const ssize_t n = ::read(out_fd, buffer, sizeof(buffer));
        if (n > 0) {
          log.write(buffer, static_cast<std::size_t>(n));
          if (options.echo) {
            std::fwrite(buffer, 1, static_cast<std::size_t>(n), stdout);
            std::fflush(stdout);
          }
          recent.append(buffer, static_cast<std::size_t>(n));
          if (recent.size() > 65536)
            recent.erase(0, recent.size() - 65536);
        } else {
          pipe_open = false;  // every writer has exited
        }
      }
    }
    if (!exited && ::waitpid(child, &status, WNOHANG) == child) {
      exited = true;
      exit_seen = Clock::now();
    }
    if (exited && pipe_open) {
      // Processes of the group may still hold the pipe: they must not outlive mpirun.
      kill_group(SIGKILL);
      if (since(exit_seen) > 5.0) {
        // Something outside the group holds it (a daemon that detached): stop
        // reading rather than wait for it, and say so.
        pipe_open = false;
        const std::string note =
            "\n[dojo: a process outside the attempt's group kept its output open]\n";
        log.write(note.data(), note.size());
      }
    }
    if (exited)
      continue;
    if (options.on_tick && since(last_tick) >= 1.0) {
      last_tick = Clock::now();
      double age = 0;
      for (const auto& t : last_progress)
        age = std::max(age, since(t));
      options.on_tick(age);
    }

    // Heartbeats: progress is a step or a collective sequence number that grew.
    if (options.heartbeats != nullptr) {
      while (auto beat = options.heartbeats->receive(0)) {
        if (beat->job != options.job || beat->attempt != options.attempt)
          continue;
        if (beat->rank < 0 || beat->rank >= options.ranks)
          continue;
        last_beat[static_cast<std::size_t>(beat->rank)] = Clock::now();
        auto& seen = last_seen[static_cast<std::size_t>(beat->rank)];
        if (beat->step > seen.first || beat->sequence > seen.second) {
          if (seen.first >= 0 && beat->step > seen.first && result.first_step_seconds < 0) {
            result.first_step_seconds = since(start);
          }
          seen = {beat->step, beat->sequence};
          last_progress[static_cast<std::size_t>(beat->rank)] = Clock::now();
        }
      }
      if (!stopping && !killed) {
        std::vector<int> stalled;
        for (int r = 0; r < options.ranks; ++r) {
          if (since(last_progress[static_cast<std::size_t>(r)]) > options.hang_timeout_s)
            stalled.push_back(r);
        }
        if (!stalled.empty()) {
          char text[96];
          std::snprintf(text, sizeof(text), "no progress for %.0f s (hang_timeout_s)",
                        options.hang_timeout_s);
          const std::vector<int> silent = silent_ranks();
          result.outcome = AttemptResult::Outcome::kHung;
          result.reason = silent.empty() ? std::string(text) + " from " + describe(stalled)
                                         : std::string(text) + "; " + describe(silent) +
                                               " stopped sending heartbeats";
          result.failed_ranks = silent.empty() ? stalled : silent;
          killed = true;
          kill_group(SIGKILL);
        }
      }
    }
    if (!killed && !stopping && options.wall_deadline_s > 0 &&
        since(start) > options.wall_deadline_s) {
      result.outcome = AttemptResult::Outcome::kWallTime;
      result.reason = "the job reached its wall-time limit";
      killed = true;
      kill_group(SIGKILL);
    }
    if (!stopping && !killed && options.stop_requested != nullptr &&
        options.stop_requested->load()) {
      // mpirun forwards SIGUSR1 to the ranks, which save a checkpoint and exit.
      stopping = true;
      stop_sent = Clock::now();
      ::kill(child, SIGUSR1);
    }
    if (stopping && !killed && since(stop_sent) > options.stop_grace_s) {
      killed = true;
      kill_group(SIGKILL);
    }
  }
  ::close(out_fd);
  kill_group(SIGKILL);  // nothing of the attempt survives it
  log.close();

  result.seconds = since(start);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (result.outcome == AttemptResult::Outcome::kHung ||
      result.outcome == AttemptResult::Outcome::kWallTime) {
    return result;
  }
  if (stopping) {
    result.outcome = AttemptResult::Outcome::kStopped;
    result.reason = "stopped on request";
    return result;
  }
  if (result.exit_code == 0) {
    result.outcome = AttemptResult::Outcome::kCompleted;
    result.reason = "every rank completed";
    return result;
  }
  result.outcome = AttemptResult::Outcome::kFailed;
  result.failed_ranks = failed_ranks_in(recent);
  if (result.failed_ranks.empty() && options.heartbeats != nullptr) {
    // mpirun did not say who failed (a lost node often kills it outright):
    // the ranks that went silent before it did.
    result.failed_ranks = silent_ranks();
  }
  std::string ranks;
  for (int r : result.failed_ranks) {
    const std::string host =
        r < static_cast<int>(options.rank_hosts.size()) ? options.rank_hosts[r] : "?";
    ranks += (ranks.empty() ? "" : ", ") + std::string("rank ") + std::to_string(r) + " on " + host;
  }
  result.reason = "mpirun exited with code " + std::to_string(result.exit_code) +
                  (ranks.empty() ? "" : " (" + ranks + " failed)");
  return result;
}

}  // namespace dojo::launch
