#pragma once
// The verdict of a hang from the ranks' flight records: which rank never
// entered the collective the others wait in, or which ranks disagree on it
// ("rank 2 never entered all_reduce #4812 (bucket 1, 25 MiB); ranks 0, 1, 3
// wait in it since 5.0 s").

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dojo::launch {

/// One collective as a rank reported it (collectives::FlightRecord's fields).
struct FlightOp {
  std::uint64_t seq = 0;
  std::string op;
  std::uint64_t bytes = 0;
  std::string dtype = "-";
  int bucket = -1;
  double started_ago = 0;         ///< seconds before the rank answered
  double finished_ago = -1;       ///< -1 while running
  std::string state = "running";  ///< running, completed, failed
};

/// `SEQ OP BYTES DTYPE BUCKET STARTED_AGO FINISHED_AGO STATE`; nullopt if malformed.
std::optional<FlightOp> parse_flight_op(const std::string& text);

/// The flight records ranks send after the launcher's SIGUSR2.
class FlightCollector {
 public:
  /// Takes a dojo-flight or dojo-flight-end line of the attempt.
  void take(int rank, const std::string& record, bool end);
  std::size_t answered() const { return answered_.size(); }
  /// The records of the ranks that answered (their end line arrived).
  std::map<int, std::vector<FlightOp>> records() const;

 private:
  std::map<int, std::vector<FlightOp>> records_;
  std::vector<int> answered_;
};

/// flight-attempt-N.json: the verdict, the hang's reason, where the records
/// came from ("flight recorders" or "heartbeats") and every rank's records.
/// Throws dojo::Error when it cannot be written.
void write_flight_file(const std::filesystem::path& path, const std::string& verdict,
                       const std::string& reason, const std::string& source, int ranks,
                       const std::map<int, std::vector<FlightOp>>& records);

/// The verdict over `ranks` ranks from the records of those that answered
/// (each rank's, oldest first); ranks absent from `records` did not answer.
std::string flight_verdict(const std::map<int, std::vector<FlightOp>>& records, int ranks);

}  // namespace dojo::launch
