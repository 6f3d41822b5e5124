#pragma once
// The CSV format of `dojo bench allreduce --csv`: written by the benchmark,
// read back by the scale planner's calibration. Format only: no MPI here.

namespace dojo::collectives::bench {

/// The exact CSV header of `--csv`.
inline constexpr const char* kAllReduceCsvHeader =
    "ranks,bytes,count,dtype,tensors,time_us,algbw_gbs,busbw_gbs,max_err,mpi_time_us,"
    "mpi_busbw_gbs,ratio";

}  // namespace dojo::collectives::bench
