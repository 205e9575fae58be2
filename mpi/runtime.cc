#include "mpi/runtime.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <hdf5.h>

#if defined(QWEAVE_HAVE_MPI)
#include <mpi.h>
#endif

namespace qw::mpi {
namespace {
bool g_initialised = false;
int g_rank = 0;
int g_size = 1;

// Started by mpirun/srun? Singleton MPI_Init outside a launcher is slow and fails in some
// containers, so a plain `qweave sim` never initialises MPI.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_STEP_NUM_TASKS"}) {
    if (std::getenv(v)) return true;
  }
  return false;
}
}  // namespace

bool compiled_with_mpi() {
#if defined(QWEAVE_HAVE_MPI)
  return true;
#else
  return false;
#endif
}

void init(int* argc, char*** argv) {
#if defined(QWEAVE_HAVE_MPI)
  if (!launched_by_mpi()) return;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  g_initialised = true;
#else
  (void)argc;
  (void)argv;
#endif
}

void finalize() {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised) MPI_Finalize();
  g_initialised = false;
#endif
}

int rank() { return g_rank; }
int size() { return g_size; }

void abort_all(int status) {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) MPI_Abort(MPI_COMM_WORLD, status);
#endif
  std::exit(status);
}

ShotRange my_shots(std::uint64_t total) {
  const auto r = static_cast<std::uint64_t>(g_rank), s = static_cast<std::uint64_t>(g_size);
  // Rank r gets shots [r * total / s, (r + 1) * total / s), computed without overflow.
  auto edge = [&](std::uint64_t k) {
    return total / s * k + (total % s) * k / s;
  };
  return {edge(r), edge(r + 1) - edge(r)};
}

int ranks_on_this_node() {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) {
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &node);
    int n = 1;
    MPI_Comm_size(node, &n);
    MPI_Comm_free(&node);
    return n;
  }
#endif
  return 1;
}

int rank_on_this_node() {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) {
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &node);
    int r = 0;
    MPI_Comm_rank(node, &r);
    MPI_Comm_free(&node);
    return r;
  }
#endif
  return 0;
}

void max_over_ranks(std::uint64_t* value) {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) {
    unsigned long long v = *value, out = 0;
    MPI_Allreduce(&v, &out, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    *value = out;
  }
#else
  (void)value;
#endif
}

std::vector<std::uint8_t> gather_to_root(const std::vector<std::uint8_t>& mine) {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) {
    const long long n = static_cast<long long>(mine.size());
    std::vector<long long> sizes(static_cast<std::size_t>(g_size));
    MPI_Gather(&n, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    std::vector<std::uint8_t> all;
    // Send in pieces below 2^31 bytes: MPI counts are int.
    constexpr long long kPiece = 1ll << 30;
    if (g_rank == 0) {
      long long total = 0;
      for (long long x : sizes) total += x;
      all.resize(static_cast<std::size_t>(total));
      std::copy(mine.begin(), mine.end(), all.begin());
      long long at = n;
      for (int r = 1; r < g_size; ++r) {
        for (long long off = 0; off < sizes[static_cast<std::size_t>(r)]; off += kPiece) {
          const int cnt = static_cast<int>(std::min(kPiece, sizes[static_cast<std::size_t>(r)] - off));
          MPI_Recv(all.data() + at + off, cnt, MPI_BYTE, r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
        at += sizes[static_cast<std::size_t>(r)];
      }
    } else {
      for (long long off = 0; off < n; off += kPiece) {
        const int cnt = static_cast<int>(std::min(kPiece, n - off));
        MPI_Send(mine.data() + off, cnt, MPI_BYTE, 0, 7, MPI_COMM_WORLD);
      }
    }
    return all;
  }
#endif
  return mine;
}

std::vector<std::uint8_t> allgather_bytes(const std::vector<std::uint8_t>& mine) {
  std::vector<std::uint8_t> all = gather_to_root(mine);
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) {
    long long total = static_cast<long long>(all.size());
    MPI_Bcast(&total, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    all.resize(static_cast<std::size_t>(total));
    constexpr long long kPiece = 1ll << 30;  // MPI counts are int
    for (long long off = 0; off < total; off += kPiece) {
      const int cnt = static_cast<int>(std::min(kPiece, total - off));
      MPI_Bcast(all.data() + off, cnt, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
  }
#endif
  return all;
}

void hdf5_file_access(std::int64_t fapl) {
#if defined(QWEAVE_HAVE_MPI) && defined(H5_HAVE_PARALLEL)
  if (g_initialised && g_size > 1) H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
#else
  (void)fapl;
#endif
}

void hdf5_collective_transfer(std::int64_t dxpl) {
#if defined(QWEAVE_HAVE_MPI) && defined(H5_HAVE_PARALLEL)
  if (g_initialised && g_size > 1) H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
#else
  (void)dxpl;
#endif
}

void exchange_with(int partner, const void* send, void* recv, std::size_t bytes) {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1 && partner != g_rank) {
    constexpr std::size_t kPiece = std::size_t{1} << 30;  // MPI counts are int
    const auto* s = static_cast<const unsigned char*>(send);
    auto* r = static_cast<unsigned char*>(recv);
    for (std::size_t off = 0; off < bytes; off += kPiece) {
      const int cnt = static_cast<int>(std::min(kPiece, bytes - off));
      MPI_Sendrecv(s + off, cnt, MPI_BYTE, partner, 11, r + off, cnt, MPI_BYTE, partner, 11,
                   MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    return;
  }
#endif
  (void)partner;
  if (bytes) std::memcpy(recv, send, bytes);
}

std::vector<double> allgather(double mine) {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) {
    std::vector<double> all(static_cast<std::size_t>(g_size));
    MPI_Allgather(&mine, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, MPI_COMM_WORLD);
    return all;
  }
#endif
  return {mine};
}

void allreduce_sum(std::uint64_t* data, std::size_t count) {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) {
    constexpr std::size_t kPiece = std::size_t{1} << 27;
    for (std::size_t off = 0; off < count; off += kPiece) {
      const int cnt = static_cast<int>(std::min(kPiece, count - off));
      MPI_Allreduce(MPI_IN_PLACE, data + off, cnt, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    }
  }
#else
  (void)data;
  (void)count;
#endif
}

void allreduce_xor(std::uint64_t* data, std::size_t count) {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) {
    constexpr std::size_t kPiece = std::size_t{1} << 27;
    for (std::size_t off = 0; off < count; off += kPiece) {
      const int cnt = static_cast<int>(std::min(kPiece, count - off));
      MPI_Allreduce(MPI_IN_PLACE, data + off, cnt, MPI_UINT64_T, MPI_BXOR, MPI_COMM_WORLD);
    }
  }
#else
  (void)data;
  (void)count;
#endif
}

void reduce_scatter_xor(const std::uint64_t* send, std::uint64_t* recv, const std::vector<std::uint64_t>& counts) {
  for (std::uint64_t c : counts) {
    if (c > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
      throw std::length_error(fmt::format("reduce_scatter_xor: a block of {} words is above 2^31", c));
    }
  }
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) {
    std::vector<int> n(counts.begin(), counts.end());
    MPI_Reduce_scatter(send, recv, n.data(), MPI_UINT64_T, MPI_BXOR, MPI_COMM_WORLD);
    return;
  }
#endif
  if (!counts.empty() && counts[0]) std::memcpy(recv, send, counts[0] * sizeof(std::uint64_t));
}

void exchange_many(const std::vector<int>& partners, const std::vector<std::vector<std::uint8_t>>& send,
                   std::vector<std::vector<std::uint8_t>>& recv) {
  for (std::size_t i = 0; i < partners.size(); ++i) {
    if (send[i].size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        recv[i].size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw std::length_error(fmt::format("exchange_many: a message of {} bytes is above 2^31", send[i].size()));
    }
  }
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) {
    std::vector<MPI_Request> req(2 * partners.size());
    for (std::size_t i = 0; i < partners.size(); ++i) {
      MPI_Irecv(recv[i].data(), static_cast<int>(recv[i].size()), MPI_BYTE, partners[i], 12, MPI_COMM_WORLD, &req[2 * i]);
    }
    for (std::size_t i = 0; i < partners.size(); ++i) {
      MPI_Isend(send[i].data(), static_cast<int>(send[i].size()), MPI_BYTE, partners[i], 12, MPI_COMM_WORLD,
                &req[2 * i + 1]);
    }
    MPI_Waitall(static_cast<int>(req.size()), req.data(), MPI_STATUSES_IGNORE);
    return;
  }
#endif
  for (std::size_t i = 0; i < partners.size(); ++i) recv[i] = send[i];  // one rank: to itself
}

void barrier() {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

double max_over_ranks(double mine) {
#if defined(QWEAVE_HAVE_MPI)
  if (g_initialised && g_size > 1) {
    MPI_Allreduce(MPI_IN_PLACE, &mine, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  }
#endif
  return mine;
}

}  // namespace qw::mpi
