#include "mpi/runtime.h"

#include <cstdlib>

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

}  // namespace qw::mpi
