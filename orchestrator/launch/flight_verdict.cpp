#include "orchestrator/launch/flight_verdict.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"

namespace dojo::launch {
namespace {

std::string rank_list(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i)
    text += (i > 0 ? ", " : "") + std::to_string(ranks[i]);
  return text;
}

std::string size_text(std::uint64_t bytes) {
  char text[32];
  if (bytes >= (1u << 20))
    std::snprintf(text, sizeof(text), "%.0f MiB", static_cast<double>(bytes) / (1 << 20));
  else if (bytes >= 1024)
    std::snprintf(text, sizeof(text), "%.0f KiB", static_cast<double>(bytes) / 1024);
  else
    std::snprintf(text, sizeof(text), "%llu B", static_cast<unsigned long long>(bytes));
  return text;
}

/// The op a rank waits in: its oldest running record (those after it wait
/// behind it).
const FlightOp* waiting_in(const std::vector<FlightOp>& ops) {
  for (const FlightOp& op : ops) {
    if (op.state == "running")
      return &op;
  }
  return nullptr;
}

}  // namespace

std::optional<FlightOp> parse_flight_op(const std::string& text) {
  std::istringstream in(text);
  FlightOp op;
  if (!(in >> op.seq >> op.op >> op.bytes >> op.dtype >> op.bucket >> op.started_ago >>
        op.finished_ago >> op.state))
    return std::nullopt;
  std::string extra;
  if (in >> extra || !(op.state == "running" || op.state == "completed" || op.state == "failed"))
    return std::nullopt;
  return op;
}

void FlightCollector::take(int rank, const std::string& record, bool end) {
  if (end) {
    if (std::find(answered_.begin(), answered_.end(), rank) == answered_.end())
      answered_.push_back(rank);
  } else if (const std::optional<FlightOp> op = parse_flight_op(record)) {
    records_[rank].push_back(*op);
  }
}

std::map<int, std::vector<FlightOp>> FlightCollector::records() const {
  std::map<int, std::vector<FlightOp>> out;
  for (int rank : answered_) {
    const auto it = records_.find(rank);
    out[rank] = it != records_.end() ? it->second : std::vector<FlightOp>{};
  }
  return out;
}

void write_flight_file(const std::filesystem::path& path, const std::string& verdict,
                       const std::string& reason, const std::string& source, int ranks,
                       const std::map<int, std::vector<FlightOp>>& records) {
  nlohmann::json by_rank = nlohmann::json::object();
  for (const auto& [rank, ops] : records) {
    nlohmann::json list = nlohmann::json::array();
    for (const FlightOp& o : ops) {
      list.push_back({{"seq", o.seq},
                      {"op", o.op},
                      {"bytes", o.bytes},
                      {"dtype", o.dtype},
                      {"bucket", o.bucket},
                      {"started_ago_s", o.started_ago},
                      {"finished_ago_s", o.finished_ago},
                      {"state", o.state}});
    }
    by_rank[std::to_string(rank)] = list;
  }
  const nlohmann::json doc = {{"verdict", verdict},
                              {"reason", reason},
                              {"source", source},
                              {"ranks", ranks},
                              {"records", by_rank}};
  write_file_atomically(path.string(), doc.dump(2) + "\n");
}

std::string flight_verdict(const std::map<int, std::vector<FlightOp>>& records, int ranks) {
  // The collective the furthest ranks wait in.
  const FlightOp* target = nullptr;
  for (const auto& [rank, ops] : records) {
    const FlightOp* op = waiting_in(ops);
    if (op != nullptr && (target == nullptr || op->seq > target->seq))
      target = op;
  }
  std::vector<int> silent;
  for (int r = 0; r < ranks; ++r) {
    if (records.find(r) == records.end())
      silent.push_back(r);
  }
  std::vector<std::string> parts;
  if (target == nullptr) {
    parts.push_back("no rank that answered waits in a collective");
  } else {
    std::vector<int> waiting, behind;
    std::vector<std::string> elsewhere;
    double since = 0;
    for (const auto& [rank, ops] : records) {
      const FlightOp* op = waiting_in(ops);
      std::uint64_t newest = 0;
      for (const FlightOp& o : ops)
        newest = std::max(newest, o.seq);
      if (op != nullptr && op->seq == target->seq && op->op == target->op) {
        waiting.push_back(rank);
        since = std::max(since, op->started_ago);
      } else if (op != nullptr && op->seq == target->seq) {
        elsewhere.push_back("rank " + std::to_string(rank) + " is in " + op->op + " #" +
                            std::to_string(op->seq) +
                            " instead (the ranks disagree on the "
                            "collective sequence)");
      } else if (newest < target->seq) {
        behind.push_back(rank);
      }
    }
    std::string what = target->op + " #" + std::to_string(target->seq);
    std::string detail;
    if (target->bucket >= 0)
      detail = "bucket " + std::to_string(target->bucket) + ", ";
    if (target->bytes > 0)
      detail += size_text(target->bytes);
    if (!detail.empty() && detail.back() == ' ')
      detail.resize(detail.size() - 2);
    if (!detail.empty())
      what += " (" + detail + ")";
    if (!behind.empty())
      parts.push_back(rank_list(behind) + " never entered " + what);
    for (const std::string& e : elsewhere)
      parts.push_back(e);
    char wait[64];
    std::snprintf(wait, sizeof(wait), " since %.1f s", since);
    parts.push_back(rank_list(waiting) + (waiting.size() == 1 ? " waits in " : " wait in ") +
                    (behind.empty() ? what : "it") + wait);
  }
  if (!silent.empty())
    parts.push_back(rank_list(silent) + " did not answer (stopped, or lost)");
  std::string verdict;
  for (const std::string& p : parts)
    verdict += (verdict.empty() ? "" : "; ") + p;
  return verdict;
}

}  // namespace dojo::launch
