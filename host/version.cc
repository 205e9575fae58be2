#include "host/version.h"

#include <fmt/format.h>

#include "kernels/config.h"
#include "mpi/runtime.h"

namespace qw {
const char* version_number() { return QWEAVE_VERSION; }
std::string version_string() {
  return fmt::format("qweave {} (backend {}, {} precision, MPI {})", QWEAVE_VERSION,
                     QWEAVE_BACKEND_NAME, kPrecisionName, mpi::compiled_with_mpi() ? "on" : "off");
}
}  // namespace qw
