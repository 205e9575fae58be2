// The MPI runtime: the only interface through which host/ learns about ranks. Without MPI (or when
// the program was not started by mpirun) this is a single rank.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace qw::mpi {

bool compiled_with_mpi();
// Initialises MPI when the process was started by an MPI launcher; otherwise stays single-rank.
void init(int* argc, char*** argv);
void finalize();
int rank();
int size();
// Ends every rank of the job with the given status (MPI_Abort under MPI, std::exit otherwise).
[[noreturn]] void abort_all(int status);

// The shots [first, first + count) of `total` that this rank runs: an even split in rank order.
struct ShotRange {
  std::uint64_t first = 0, count = 0;
};
ShotRange my_shots(std::uint64_t total);

// Ranks that share this node's memory (MPI_COMM_TYPE_SHARED); 1 without MPI.
int ranks_on_this_node();
// This rank's index among them (0 without MPI).
int rank_on_this_node();

// *value <- its maximum over the ranks (unchanged on one rank).
void max_over_ranks(std::uint64_t* value);

// Concatenates every rank's bytes on rank 0, in rank order (other ranks get an empty vector).
std::vector<std::uint8_t> gather_to_root(const std::vector<std::uint8_t>& mine);
// Every rank's bytes concatenated in rank order, on every rank (one rank: its own bytes).
std::vector<std::uint8_t> allgather_bytes(const std::vector<std::uint8_t>& mine);

// Parallel HDF5 (hid_t values passed as int64): with more than one rank, a file-access property
// list gets the MPI-IO driver on the world communicator, and a transfer property list collective
// transfers. No-ops on a single rank.
void hdf5_file_access(std::int64_t fapl);
void hdf5_collective_transfer(std::int64_t dxpl);

// Sharded state (host/sharded_state.h). Every rank of the job must call these together.
// Sends `bytes` from send to `partner` and receives as many from it into recv (a pairwise
// exchange; messages below 2^31 bytes each). With one rank or partner == rank(), copies.
void exchange_with(int partner, const void* send, void* recv, std::size_t bytes);
// Every rank's value, in rank order, on every rank (sum it in order for a bit-identical total).
std::vector<double> allgather(double mine);
// Element-wise sum over ranks of data[0, count), in place on every rank.
void allreduce_sum(std::uint64_t* data, std::size_t count);
// Element-wise XOR over ranks of data[0, count), in place on every rank (frame records).
void allreduce_xor(std::uint64_t* data, std::size_t count);
// XOR over ranks of send[0, sum(counts)), of which rank k keeps the block k (counts[k] elements,
// in rank order) in recv (MPI_Reduce_scatter with MPI_BXOR); one rank: copies. Each count < 2^31.
void reduce_scatter_xor(const std::uint64_t* send, std::uint64_t* recv, const std::vector<std::uint64_t>& counts);
// Sends send[i] to partners[i] and receives recv[i] (already sized) from partners[i], all at once
// (non-blocking, so any set of pairwise exchanges completes without an ordering); each message
// below 2^31 bytes. Every partner must call it with this rank in its list, the same number of times.
void exchange_many(const std::vector<int>& partners, const std::vector<std::vector<std::uint8_t>>& send,
                   std::vector<std::vector<std::uint8_t>>& recv);
// Blocks until every rank has called it (no-op on one rank).
void barrier();
// The largest of every rank's value, on every rank (for collective timings).
double max_over_ranks(double mine);

}  // namespace qw::mpi
