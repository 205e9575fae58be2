// The fused-block loops of kernels/fused_math.h compiled with AVX-512 (this file's compile options in
// CMakeLists.txt); called only when the processor has it (fused_cpu_has_avx512). The Tag keeps these
// instantiations apart from the generic ones of kernels/fused.cu (same templates, other flags).
#include "kernels/fused_cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace qw::sv {
namespace {
struct Avx512 {};
std::atomic<int> g_force_generic{-1};  // -1: not decided yet (read QWEAVE_FUSED_ISA once)
}  // namespace

bool fused_cpu_has_avx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512dq");
  int f = g_force_generic.load(std::memory_order_relaxed);
  if (f < 0) {
    const char* env = std::getenv("QWEAVE_FUSED_ISA");
    f = env && std::strcmp(env, "generic") == 0 ? 1 : 0;
    g_force_generic.store(f, std::memory_order_relaxed);
  }
  return has && f == 0;
}

void fused_cpu_force_generic(bool generic) { g_force_generic.store(generic ? 1 : 0); }

void dense_range_avx512(const fused::DenseArgs& f, index_t g0, index_t g1) {
  switch (f.k) {
    case 1: fused::dense_range<1, Avx512>(f, g0, g1); return;
    case 2: fused::dense_range<2, Avx512>(f, g0, g1); return;
    case 3: fused::dense_range<3, Avx512>(f, g0, g1); return;
    case 4: fused::dense_range<4, Avx512>(f, g0, g1); return;
    case 5: fused::dense_range<5, Avx512>(f, g0, g1); return;
    default: fused::dense_range<6, Avx512>(f, g0, g1); return;
  }
}

void diagonal_range_avx512(const fused::DiagonalArgs& f, index_t i0, index_t i1) {
  fused::diagonal_range<Avx512>(f, i0, i1);
}

}  // namespace qw::sv
