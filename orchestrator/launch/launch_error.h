#pragma once

#include "common/error.h"

namespace dojo::launch {

/// A job that cannot be placed, started or kept running.
class LaunchError : public Error {
 public:
  using Error::Error;
};

}  // namespace dojo::launch
