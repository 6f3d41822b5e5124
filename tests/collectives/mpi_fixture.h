#pragma once
// A world communicator shared by the MPI test cases of one process.

#include <memory>

#include "collectives/backends/mpi/mpi_bootstrap.h"
#include "collectives/communicator.h"

namespace dojo::test {

inline collectives::mpi::MpiBootstrap& world_bootstrap() {
  static collectives::mpi::MpiBootstrap bootstrap;
  return bootstrap;
}

/// The job's mpi communicator (deadline 60 s: a broken test fails instead of hanging).
inline collectives::Communicator& world() {
  static std::unique_ptr<collectives::Communicator> comm = [] {
    collectives::CommunicatorOptions options;
    options.timeout = std::chrono::seconds(60);
    options.staging_bytes = 1 << 20;  // small, so that larger ops go in pieces
    return collectives::create_communicator("mpi", world_bootstrap(), options);
  }();
  return *comm;
}

}  // namespace dojo::test
