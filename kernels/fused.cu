// Fused-block kernels. The math is kernels/fused_math.h; this file only launches it.
//  * cuda: one thread per output amplitude; a block stages its groups' inputs and (k <= 5) the
//    matrix in shared memory, loads and stores follow the lowest free bits (coalesced where the
//    targets are not the lowest qubits). Launched on the default stream without synchronising.
//  * cpu: an OpenMP loop over chunks of groups, each chunk a call of dense_range compiled for the
//    best instruction set the processor has (kernels/fused_cpu_avx512.cc; the generic build
//    otherwise). Why not for_each_index: the chunk loop must sit inside a function compiled for
//    AVX-512, and a thread per group of 2^k amplitudes leaves too few indices to parallelise.
#include "kernels/fused.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "kernels/launch.h"

#if defined(__CUDACC__)
#include <cuda_runtime.h>
#else
#include "kernels/fused_cpu.h"
#endif

namespace qw::sv {
namespace {

fused::DenseArgs dense_args(cplx* a, unsigned k, const unsigned* q, const real* m) {
  if (k == 0 || k > fused::kMaxDenseQubits) throw std::invalid_argument("apply_dense: k must be 1..6");
  fused::DenseArgs f{};
  f.a = a;
  f.k = k;
  for (unsigned j = 0; j < k; ++j) f.sorted[j] = q[j];
  std::sort(f.sorted, f.sorted + k);
  for (index_t c = 0; c < (index_t{1} << k); ++c) {
    index_t o = 0;
    for (unsigned j = 0; j < k; ++j) {
      if ((c >> j) & 1u) o |= index_t{1} << q[j];
    }
    f.off[c] = o;
  }
  f.mre = m;
  f.mim = m + (index_t{1} << (2 * k));
  return f;
}

struct DiagonalEntry {
  fused::DiagonalArgs f;
  QW_HD void operator()(index_t i) const { fused::diagonal_entry<>(f, i); }
};

#if defined(__CUDACC__)

constexpr unsigned kThreads = 256;

// Block: G = 256 / D groups (D = 2^k outputs each). Thread t stages input (group, column) and
// later computes output (group, row) with the same (group, index) split: column/row-minor when
// the targets include qubit 0 (then a group's amplitudes are the contiguous ones), group-minor
// otherwise (then consecutive groups are contiguous).
__global__ void dense_kernel(fused::DenseArgs f, index_t groups, bool matrix_in_shared, bool low_minor) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  real* s = reinterpret_cast<real*>(smem_raw);
  const unsigned D = 1u << f.k;
  const unsigned G = kThreads / D;
  // A group's inputs at stride D + 1: with the group-minor split a warp reads 32 groups' entry c
  // at once, and a stride of D doubles would put them all in one bank.
  const unsigned S = D + 1;
  real* xr = s;
  real* xi = s + G * S;
  const real* mre = f.mre;
  const real* mim = f.mim;
  if (matrix_in_shared) {
    real* sm = s + 2 * G * S;
    for (unsigned e = threadIdx.x; e < 2 * D * D; e += blockDim.x) sm[e] = f.mre[e];
    mre = sm;
    mim = sm + D * D;
  }
  const unsigned t = threadIdx.x;
  const unsigned gl = low_minor ? t / D : t % G;
  const unsigned c = low_minor ? t % D : t / G;
  const index_t g = static_cast<index_t>(blockIdx.x) * G + gl;
  const bool live = g < groups;
  index_t base = 0;
  if (live) {
    base = fused::group_base<>(g, f.k, f.sorted);
    const cplx v = f.a[base | f.off[c]];
    xr[gl * S + c] = v.re;
    xi[gl * S + c] = v.im;
  }
  __syncthreads();
  if (!live) return;
  const real yr = fused::dense_row_re(mre, mim, D, c, xr + gl * S, xi + gl * S);
  const real yi = fused::dense_row_im(mre, mim, D, c, xr + gl * S, xi + gl * S);
  f.a[base | f.off[c]] = cplx{yr, yi};
}

#endif

}  // namespace

void apply_dense(cplx* a, index_t n, unsigned k, const unsigned* qubits, const real* matrix) {
  const fused::DenseArgs f = dense_args(a, k, qubits, matrix);
  const index_t groups = n >> k;
  if (groups == 0) return;
#if defined(__CUDACC__)
  const unsigned D = 1u << k;
  const unsigned G = kThreads / D;
  const bool in_shared = k <= 5;  // 2 * 32 * 32 doubles = 16 KiB; k = 6 reads it through L1
  const std::size_t shared = (2 * G * (D + 1) + (in_shared ? 2 * D * D : 0)) * sizeof(real);
  const index_t blocks = (groups + G - 1) / G;
  const bool low_minor = f.sorted[0] == 0;
  dense_kernel<<<static_cast<unsigned>(blocks), kThreads, shared>>>(f, groups, in_shared, low_minor);
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("apply_dense: ") + cudaGetErrorString(e));
#else
  using Range = void (*)(const fused::DenseArgs&, index_t, index_t);
  Range range = nullptr;
  if (fused_cpu_has_avx512()) range = dense_range_avx512;
  if (!range) {
    switch (k) {
      case 1: range = fused::dense_range<1>; break;
      case 2: range = fused::dense_range<2>; break;
      case 3: range = fused::dense_range<3>; break;
      case 4: range = fused::dense_range<4>; break;
      case 5: range = fused::dense_range<5>; break;
      default: range = fused::dense_range<6>; break;
    }
  }
  // Chunks of about 2^12 amplitudes: enough work per call, enough chunks for every thread.
  const index_t per_chunk = std::max<index_t>(1, (index_t{1} << 12) >> k);
  const index_t chunks = (groups + per_chunk - 1) / per_chunk;
  if (n < kSerialBelow) {
    range(f, 0, groups);
    return;
  }
#pragma omp parallel for schedule(static)
  for (index_t ch = 0; ch < chunks; ++ch) range(f, ch * per_chunk, std::min(groups, (ch + 1) * per_chunk));
#endif
}

void apply_diagonal(cplx* a, index_t n, unsigned k, const unsigned* qubits, const cplx* diag) {
  if (k == 0 || k > fused::kMaxDiagonalQubits) throw std::invalid_argument("apply_diagonal: k must be 1..12");
  fused::DiagonalArgs f{};
  f.a = a;
  f.k = k;
  for (unsigned j = 0; j < k; ++j) f.q[j] = qubits[j];
  f.d = diag;
  f.low = nullptr;
#if defined(__CUDACC__)
  for_each_index(n, DiagonalEntry{f});
#else
  // The targets' bits among the low kLowBits bits of an index, once per call.
  std::vector<unsigned> low(index_t{1} << fused::kLowBits);
  for (index_t i = 0; i < low.size(); ++i) low[i] = fused::diagonal_index<>(f, i);
  f.low = low.data();
  auto range = fused_cpu_has_avx512() ? diagonal_range_avx512 : fused::diagonal_range<>;
  const index_t per_chunk = index_t{1} << fused::kLowBits;
  const index_t chunks = (n + per_chunk - 1) / per_chunk;
  if (n < kSerialBelow) {
    for (index_t ch = 0; ch < chunks; ++ch) range(f, ch * per_chunk, std::min(n, (ch + 1) * per_chunk));
    return;
  }
#pragma omp parallel for schedule(static)
  for (index_t ch = 0; ch < chunks; ++ch) range(f, ch * per_chunk, std::min(n, (ch + 1) * per_chunk));
#endif
}

const char* fused_kernel_isa() {
#if defined(__CUDACC__)
  return "cuda";
#else
  return fused_cpu_has_avx512() ? "avx512" : "generic";
#endif
}

}  // namespace qw::sv
