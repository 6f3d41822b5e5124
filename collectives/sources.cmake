# Source lists of dojo_collectives, shared by the main build and the GPU-only
# build of scripts/gpu-check (gpu/CMakeLists.txt), which has no MPI.
set(DOJO_COLLECTIVES_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/bootstrap.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bucketer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/communicator.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dtype.cpp
  ${CMAKE_CURRENT_LIST_DIR}/error.cpp
  ${CMAKE_CURRENT_LIST_DIR}/flight_recorder.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_shapes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/op_queue.cpp
  ${CMAKE_CURRENT_LIST_DIR}/watchdog.cpp
  ${CMAKE_CURRENT_LIST_DIR}/work.cpp
)
set(DOJO_COLLECTIVES_MPI_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/backends/mpi/mpi_bootstrap.cpp
  ${CMAKE_CURRENT_LIST_DIR}/backends/mpi/mpi_check.cpp
  ${CMAKE_CURRENT_LIST_DIR}/backends/mpi/mpi_communicator.cpp
  ${CMAKE_CURRENT_LIST_DIR}/backends/mpi/mpi_types.cpp
  ${CMAKE_CURRENT_LIST_DIR}/backends/mpi/shared_window.cpp
  ${CMAKE_CURRENT_LIST_DIR}/backends/mpi/stream_copy.cpp
)
# The benchmark and the MPI smoke test: tools, kept out of the library that
# trainers link.
set(DOJO_COLLECTIVES_TOOL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/backends/mpi/smoke.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bench/allreduce_bench.cpp
)
set(DOJO_COLLECTIVES_NCCL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/cuda/cuda_check.cpp
  ${CMAKE_CURRENT_LIST_DIR}/backends/nccl/kernels.cu
  ${CMAKE_CURRENT_LIST_DIR}/backends/nccl/nccl_communicator.cpp
)
