#include "orchestrator/train/flight_responder.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/error.h"

namespace dojo::train {
namespace {

volatile sig_atomic_t g_wake_fd = -1;

void on_request(int) {
  const int saved = errno;
  const char byte = 'f';
  if (g_wake_fd >= 0) [[maybe_unused]]
    const ssize_t n = ::write(g_wake_fd, &byte, 1);
  errno = saved;
}

}  // namespace

FlightResponder::FlightResponder(const collectives::Communicator& comm, const std::string& address,
                                 heartbeat::Heartbeat identity, std::filesystem::path dump)
    : comm_(comm), sender_(address), identity_(std::move(identity)), dump_(std::move(dump)) {
  if (::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0)
    throw Error("cannot create the flight recorder's pipe: " + errno_text(errno));
  g_wake_fd = pipe_[1];
  struct sigaction action {};
  action.sa_handler = on_request;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGUSR2, &action, nullptr);
  thread_ = std::thread([this] {
    char byte = 0;
    for (;;) {
      pollfd p{pipe_[0], POLLIN, 0};
      if (::poll(&p, 1, -1) < 0 && errno == EINTR)
        continue;
      const ssize_t n = ::read(pipe_[0], &byte, 1);
      if (n == 1 && byte == 'q')
        return;
      if (n == 1)
        answer();
    }
  });
}

FlightResponder::~FlightResponder() {
  ::signal(SIGUSR2, SIG_IGN);
  g_wake_fd = -1;
  const char quit = 'q';
  [[maybe_unused]] const ssize_t n = ::write(pipe_[1], &quit, 1);
  thread_.join();
  ::close(pipe_[0]);
  ::close(pipe_[1]);
}

void FlightResponder::answer() {
  const std::vector<collectives::FlightRecord> records = comm_.flight_recorder().snapshot();
  const std::string prefix = "1 " + identity_.job + " " + std::to_string(identity_.attempt) + " " +
                             std::to_string(identity_.rank) + " " + identity_.host + " ";
  std::vector<std::string> lines;
  std::string all;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::string record = collectives::format_record(records[i]);
    all += record + "\n";
    if (i + kRecordsSent >= records.size())
      lines.push_back("dojo-flight " + prefix + record);
  }
  lines.push_back("dojo-flight-end " + prefix + std::to_string(lines.size()));
  // The file first: once the launcher has every answer it ends the attempt.
  try {
    write_file_atomically(dump_.string(),
                          "# SEQ OP BYTES DTYPE BUCKET STARTED_AGO FINISHED_AGO STATE\n" + all);
  } catch (const std::exception&) {
    // The launcher gets the newest records all the same.
  }
  sender_.send_lines(lines);
}

}  // namespace dojo::train
