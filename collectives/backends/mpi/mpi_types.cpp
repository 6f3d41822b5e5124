#include "collectives/backends/mpi/mpi_types.h"

#include <algorithm>
#include <climits>
#include <mutex>

#include "collectives/backends/mpi/mpi_check.h"

namespace dojo::collectives::mpi {
namespace {

template <DType kType, ReduceOp kOp>
void half_op(void* in, void* inout, int* len, MPI_Datatype*) {
  const void* sources[2] = {inout, in};
  reduce(inout, sources, 2, static_cast<std::size_t>(*len), kType, kOp);
}

struct HalfOps {
  MPI_Op ops[2][3];  // [f16, bf16][sum, min, max]
};

const HalfOps& half_ops() {
  static HalfOps table;
  static std::once_flag once;
  std::call_once(once, [] {
    check(MPI_Op_create(&half_op<DType::kF16, ReduceOp::kSum>, 1, &table.ops[0][0]),
          "MPI_Op_create");
    check(MPI_Op_create(&half_op<DType::kF16, ReduceOp::kMin>, 1, &table.ops[0][1]),
          "MPI_Op_create");
    check(MPI_Op_create(&half_op<DType::kF16, ReduceOp::kMax>, 1, &table.ops[0][2]),
          "MPI_Op_create");
    check(MPI_Op_create(&half_op<DType::kBF16, ReduceOp::kSum>, 1, &table.ops[1][0]),
          "MPI_Op_create");
    check(MPI_Op_create(&half_op<DType::kBF16, ReduceOp::kMin>, 1, &table.ops[1][1]),
          "MPI_Op_create");
    check(MPI_Op_create(&half_op<DType::kBF16, ReduceOp::kMax>, 1, &table.ops[1][2]),
          "MPI_Op_create");
  });
  return table;
}

int op_index(ReduceOp op) {
  switch (op) {
    case ReduceOp::kMin:
      return 1;
    case ReduceOp::kMax:
      return 2;
    default:
      return 0;
  }
}

}  // namespace

MPI_Datatype datatype(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return MPI_FLOAT;
    case DType::kF64:
      return MPI_DOUBLE;
    case DType::kI32:
      return MPI_INT32_T;
    case DType::kI64:
      return MPI_INT64_T;
    case DType::kF16:
    case DType::kBF16:
      return MPI_UINT16_T;
  }
  return MPI_BYTE;
}

MPI_Op operation(DType dtype, ReduceOp op) {
  if (dtype == DType::kF16 || dtype == DType::kBF16) {
    return half_ops().ops[dtype == DType::kF16 ? 0 : 1][op_index(op)];
  }
  switch (op) {
    case ReduceOp::kMin:
      return MPI_MIN;
    case ReduceOp::kMax:
      return MPI_MAX;
    default:
      return MPI_SUM;
  }
}

void all_reduce(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op,
                MPI_Comm comm) {
  const std::size_t element = size_of(dtype);
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  for (std::size_t done = 0; done < count; done += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, count - done));
    const void* s =
        send == MPI_IN_PLACE ? MPI_IN_PLACE : static_cast<const char*>(send) + done * element;
    check(MPI_Allreduce(s, static_cast<char*>(recv) + done * element, n, datatype(dtype),
                        operation(dtype, op), comm),
          "MPI_Allreduce");
  }
}

}  // namespace dojo::collectives::mpi
