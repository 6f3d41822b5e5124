#pragma once
// Ranks' output as people read it. mpirun's --tag-output tags the chunks a
// rank writes, not its lines ("[1,0]<stdout>:rank[1,0]<stdout>: 0" when a
// line comes in two writes, tags in the middle of another rank's line).
// RankOutput takes mpirun's tagged stream in pieces of any size and gives
// back whole lines, each with one prefix naming its rank ("[rank 3] ..."), or
// none when the job has one rank. mpirun's own messages pass untouched.

#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace dojo::launch {

class RankOutput {
 public:
  explicit RankOutput(int ranks) : prefixed_(ranks > 1) {}

  /// Takes the next piece of mpirun's output; returns the whole lines it
  /// completed, in the order their last piece arrived.
  std::string feed(std::string_view data);
  /// Lines left without a final newline (the end of the attempt).
  std::string flush();

 private:
  /// Appends `text` to the line of `source` (rank, stream; -1 for mpirun)
  /// and moves whole lines to `out`.
  void take(std::pair<int, int> source, std::string_view text, std::string& out);
  std::string line_of(std::pair<int, int> source, const std::string& line) const;

  bool prefixed_;
  std::string pending_;                ///< a piece that may be the start of a tag
  std::pair<int, int> source_{-1, 0};  ///< who writes the text that follows
  bool at_line_start_ = true;          ///< of the tagged stream as mpirun writes it
  std::map<std::pair<int, int>, std::string> partial_;  ///< unfinished lines by source
};

}  // namespace dojo::launch
