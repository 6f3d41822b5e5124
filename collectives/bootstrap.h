#pragma once
// How ranks find each other, kept apart from how data moves between them.

#include <cstddef>
#include <string>
#include <vector>

namespace dojo::collectives {

/// The rendezvous of a job's ranks: who is who, and a way to exchange a few
/// bytes (a NCCL unique id, a capability flag) before a communicator exists.
class Bootstrap {
 public:
  virtual ~Bootstrap() = default;

  virtual std::string name() const = 0;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Rank and number of ranks on this rank's node.
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;

  /// Copies `bytes` bytes of `root`'s `data` into every rank's `data`.
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  /// Gathers `bytes` bytes from each rank into `out` (size() * bytes), by rank.
  virtual void all_gather(const void* in, void* out, std::size_t bytes) = 0;
};

/// A rank that was told its place and the shared bytes out of band (for
/// example a NCCL unique id handed over by a launcher). broadcast() yields
/// the shared bytes; all_gather() works only for a job of one rank.
class StaticBootstrap : public Bootstrap {
 public:
  StaticBootstrap(int rank, int size, int local_rank, int local_size,
                  std::vector<unsigned char> shared_bytes = {});

  std::string name() const override { return "static"; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  void broadcast(void* data, std::size_t bytes, int root) override;
  void all_gather(const void* in, void* out, std::size_t bytes) override;

 private:
  int rank_;
  int size_;
  int local_rank_;
  int local_size_;
  std::vector<unsigned char> shared_;
};

}  // namespace dojo::collectives
