#pragma once
// How long a poller waits between looks at work that has not finished: from
// a short first wait, doubling up to a longest one, and short again once
// something finished. A collective is noticed at most about its own running
// time late (and never more than `longest`), while a poller with nothing
// ready costs a look every `longest` instead of a core.

#include <algorithm>
#include <chrono>

namespace dojo::collectives {

class PollBackoff {
 public:
  using Duration = std::chrono::microseconds;

  explicit PollBackoff(Duration first = Duration(10), Duration longest = Duration(250))
      : first_(first), longest_(std::max(first, longest)), next_(first) {}

  /// The wait after a look that found nothing finished; the one after it is
  /// twice as long, up to `longest`.
  Duration next() {
    const Duration wait = next_;
    next_ = std::min(longest_, next_ * 2);
    return wait;
  }
  /// Something finished: the next wait is the first one again.
  void reset() { next_ = first_; }

 private:
  Duration first_;
  Duration longest_;
  Duration next_;
};

}  // namespace dojo::collectives
