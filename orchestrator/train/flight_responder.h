#pragma once
// A rank's answer to the launcher's SIGUSR2 during a hang: its flight
// recorder's latest collectives as dojo-flight lines to the heartbeat
// address, and all of them (up to 1,000) to a file in the run directory.
// The signal handler only writes a byte to a pipe (whichever thread takes
// it); a thread of the responder's own answers, so a rank blocked inside a
// collective still answers.

#include <filesystem>
#include <string>
#include <thread>

#include "collectives/communicator.h"
#include "orchestrator/heartbeat/heartbeat.h"

namespace dojo::train {

class FlightResponder {
 public:
  /// Records sent to the launcher per request (the newest); the file has all.
  static constexpr std::size_t kRecordsSent = 16;

  /// Installs the SIGUSR2 handler; one responder per process.
  FlightResponder(const collectives::Communicator& comm, const std::string& address,
                  heartbeat::Heartbeat identity, std::filesystem::path dump);
  ~FlightResponder();
  FlightResponder(const FlightResponder&) = delete;
  FlightResponder& operator=(const FlightResponder&) = delete;

 private:
  void answer();

  const collectives::Communicator& comm_;
  heartbeat::Sender sender_;
  heartbeat::Heartbeat identity_;
  std::filesystem::path dump_;
  int pipe_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace dojo::train
