// The mpi backend under mpirun: closed-form results for every dtype, op,
// size and layout. Values are small integers, so every sum is exact even in
// bf16 (8 significant bits) and f16.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "collectives/backends/mpi/mpi_communicator.h"
#include "tests/collectives/mpi_fixture.h"

using namespace dojo::collectives;
using dojo::test::world;
using dojo::test::world_bootstrap;

namespace {

const std::vector<std::size_t> kCounts = {0, 1, 2, 3, 7, 13, 97, 1021, 4099, (1 << 18) + 3};
const DType kTypes[] = {DType::kF32, DType::kF16, DType::kBF16,
                        DType::kF64, DType::kI32, DType::kI64};

// Element i of rank r: (r + 1) * (i % 13 + 1).
double value(int r, std::size_t i) {
  return (r + 1) * static_cast<double>(i % 13 + 1);
}

double expected(ReduceOp op, int n, std::size_t i) {
  const double unit = static_cast<double>(i % 13 + 1);
  switch (op) {
    case ReduceOp::kSum:
      return unit * n * (n + 1) / 2;
    case ReduceOp::kAvg:
      return unit * (n + 1) / 2.0;
    case ReduceOp::kMin:
      return unit;
    case ReduceOp::kMax:
      return unit * n;
  }
  return 0;
}

void store(std::vector<unsigned char>& buffer, DType t, std::size_t i, double v) {
  store_element(buffer.data(), i, t, v);
}

double load(const std::vector<unsigned char>& buffer, DType t, std::size_t i) {
  return load_element(buffer.data(), i, t);
}

// Relative tolerance of a result: exact for sums of small integers; avg
// divides, which rounds to the type's precision.
double tolerance(DType t, ReduceOp op) {
  if (op != ReduceOp::kAvg)
    return 0;
  switch (t) {
    case DType::kF16:
      return 1e-3;
    case DType::kBF16:
      return 8e-3;
    case DType::kF32:
      return 1e-6;
    default:
      return 1e-12;
  }
}

// Runs one all-reduce and returns the number of wrong elements.
std::size_t check_all_reduce(Communicator& comm, std::size_t count, DType t, ReduceOp op,
                             bool in_place) {
  std::vector<unsigned char> send(std::max<std::size_t>(count, 1) * size_of(t));
  std::vector<unsigned char> recv(send.size());
  for (std::size_t i = 0; i < count; ++i)
    store(send, t, i, value(comm.rank(), i));
  if (in_place) {
    comm.all_reduce(send.data(), send.data(), count, t, op);
    recv = send;
  } else {
    comm.all_reduce(send.data(), recv.data(), count, t, op);
  }
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double want = expected(op, comm.size(), i);
    if (std::abs(load(recv, t, i) - want) > tolerance(t, op) * std::abs(want))
      ++wrong;
  }
  return wrong;
}

void check_every_case(Communicator& comm) {
  for (DType t : kTypes) {
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAvg, ReduceOp::kMin, ReduceOp::kMax}) {
      if (op == ReduceOp::kAvg && !is_floating(t))
        continue;
      for (std::size_t count : kCounts) {
        for (bool in_place : {false, true}) {
          CAPTURE(to_string(t));
          CAPTURE(to_string(op));
          CAPTURE(count);
          CAPTURE(in_place);
          CHECK(check_all_reduce(comm, count, t, op, in_place) == 0);
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("all_reduce gives the closed form for every dtype and op and size") {
  check_every_case(world());
}

TEST_CASE("all_reduce is right for hierarchical layouts including uneven nodes") {
  // Virtual nodes of consecutive ranks on this host: reduce-scatter inside a
  // node, all-reduce across nodes, all-gather inside.
  std::vector<std::vector<int>> layouts;
  const int n = world().size();
  if (n == 2)
    layouts = {{1, 1}};
  if (n == 3)
    layouts = {{2, 1}, {1, 2}, {1, 1, 1}};
  if (n == 4)
    layouts = {{2, 2}, {3, 1}, {1, 3}, {1, 1, 2}};
  for (const auto& layout : layouts) {
    CommunicatorOptions options;
    options.timeout = std::chrono::seconds(60);
    options.staging_bytes = 64 << 10;
    options.virtual_nodes = layout;
    auto comm = create_communicator("mpi", world_bootstrap(), options);
    const auto& topology = dynamic_cast<mpi::MpiCommunicator&>(*comm).topology();
    CAPTURE(layout.size());
    CHECK(topology.nodes == static_cast<int>(layout.size()));
    for (DType t : {DType::kF32, DType::kBF16, DType::kI64}) {
      for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMax}) {
        for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{4099},
                                  std::size_t{100003}}) {
          CAPTURE(to_string(t));
          CAPTURE(count);
          CHECK(check_all_reduce(*comm, count, t, op, false) == 0);
        }
      }
    }
    CHECK(check_all_reduce(*comm, 777, DType::kF32, ReduceOp::kAvg, true) == 0);
  }
}

TEST_CASE("an all_reduce inside a communication buffer works in place at an offset") {
  Communicator& comm = world();
  auto buffer = comm.allocate(1000 * sizeof(std::int64_t));
  auto* data = static_cast<std::int64_t*>(buffer->data());
  for (int i = 0; i < 1000; ++i)
    data[i] = (comm.rank() + 1) * (i + 1);
  comm.all_reduce_async(*buffer, 100 * sizeof(std::int64_t), 500, DType::kI64, ReduceOp::kSum)
      .wait();
  const std::int64_t ranks_sum = comm.size() * (comm.size() + 1) / 2;
  CHECK(data[99] == (comm.rank() + 1) * 100);  // before the range: untouched
  CHECK(data[100] == ranks_sum * 101);
  CHECK(data[599] == ranks_sum * 600);
  CHECK(data[600] == (comm.rank() + 1) * 601);  // after the range: untouched
}

TEST_CASE("broadcast from every root and all_gather by rank") {
  Communicator& comm = world();
  for (int root = 0; root < comm.size(); ++root) {
    std::vector<std::int32_t> data(1001, comm.rank() == root ? root * 7 + 1 : -1);
    comm.broadcast(data.data(), data.size(), DType::kI32, root);
    CHECK(data.front() == root * 7 + 1);
    CHECK(data.back() == root * 7 + 1);
  }
  std::vector<double> mine(3, comm.rank() + 0.5);
  std::vector<double> all(3 * static_cast<std::size_t>(comm.size()));
  comm.all_gather(mine.data(), all.data(), 3, DType::kF64);
  for (int r = 0; r < comm.size(); ++r)
    CHECK(all[static_cast<std::size_t>(r) * 3 + 2] == r + 0.5);
  comm.barrier();
}

TEST_CASE("asynchronous operations complete in any wait order and count sequence numbers") {
  Communicator& comm = world();
  const std::uint64_t before = comm.sequence();
  std::vector<std::vector<float>> buffers(5, std::vector<float>(10000, 1.0f));
  std::vector<Work> works;
  for (auto& b : buffers)
    works.push_back(
        comm.all_reduce_async(b.data(), b.data(), b.size(), DType::kF32, ReduceOp::kSum));
  CHECK(comm.sequence() == before + 5);
  CHECK(works.back().state()->context().seq == before + 5);
  for (auto it = works.rbegin(); it != works.rend(); ++it)
    it->wait();
  for (auto& b : buffers)
    CHECK(b[9999] == static_cast<float>(comm.size()));
  CHECK(works[0].completed());
}

TEST_CASE("bad arguments are refused with the operation named") {
  Communicator& comm = world();
  std::vector<std::int32_t> ints(4);
  CHECK_THROWS_WITH_AS(comm.all_reduce(ints.data(), ints.data(), 4, DType::kI32, ReduceOp::kAvg),
                       doctest::Contains("all_reduce (16 bytes) failed on rank"), CollectiveError);
  CHECK_THROWS_WITH_AS(comm.broadcast(ints.data(), 4, DType::kI32, comm.size()),
                       doctest::Contains("is not a rank of"), CollectiveError);
  auto buffer = comm.allocate(64);
  CHECK_THROWS_WITH_AS(comm.all_reduce_async(*buffer, 32, 16, DType::kF32, ReduceOp::kSum),
                       doctest::Contains("is outside the 64-byte buffer"), CollectiveError);
  CHECK_THROWS_WITH_AS(create_communicator("gloo", world_bootstrap()),
                       doctest::Contains("unknown collectives backend \"gloo\""), dojo::Error);
}

TEST_CASE("auto picks mpi when not every rank has a GPU") {
  CommunicatorOptions options;
  options.timeout = std::chrono::seconds(60);
  auto comm = create_communicator("auto", world_bootstrap(), options);
  CHECK(comm->backend() == (this_rank_has_gpu() ? comm->backend() : std::string("mpi")));
}
