#pragma once
// An attempt's log: the first half of the cap as written and the last half
// in a ring, so a long run's log holds its start and its end.

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>

#include "orchestrator/launch/launch_error.h"

namespace dojo::launch {

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

}  // namespace dojo::launch
