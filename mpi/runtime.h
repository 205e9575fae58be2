// The MPI runtime: the only interface through which host/ learns about ranks. Without MPI (or when
// the program was not started by mpirun) this is a single rank.
#pragma once

namespace qw::mpi {

bool compiled_with_mpi();
// Initialises MPI when the process was started by an MPI launcher; otherwise stays single-rank.
void init(int* argc, char*** argv);
void finalize();
int rank();
int size();
// Ends every rank of the job with the given status (MPI_Abort under MPI, std::exit otherwise).
[[noreturn]] void abort_all(int status);

}  // namespace qw::mpi
