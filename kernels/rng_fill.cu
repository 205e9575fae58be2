#include "kernels/rng_fill.h"

#include "kernels/launch.h"
#include "kernels/memory.h"
#include "kernels/rng.h"

namespace qw {
namespace {
struct FillUniform {
  std::uint64_t seed, first, draw;
  double* out;
  QW_HD void operator()(index_t s) const { out[s] = uniform01(seed, first + s, draw); }
};
}  // namespace

void fill_uniform(std::uint64_t seed, std::uint64_t first_stream, std::uint64_t count,
                  std::uint64_t draw, double* out) {
  DeviceArray<double> d(count);
  for_each_index(count, FillUniform{seed, first_stream, draw, d.data()});
  copy_to_host(out, d.data(), count * sizeof(double));
}
}  // namespace qw
