// The math of fused blocks (host/fusion.h): a dense 2^k x 2^k matrix or a diagonal of 2^k entries on
// k qubits, applied in one pass. One copy for every backend and every CPU instruction set: the CUDA
// kernels, the generic CPU loop and the AVX-512 CPU loop (kernels/fused_cpu_avx512.cc) all call
// these functions, so each output amplitude is computed by the same operations in the same order
// (no FMA anywhere, see docs/design.md), and fused runs are bit-identical between backends.
#pragma once
#include "kernels/bits.h"
#include "kernels/complex.h"

namespace qw::fused {

inline constexpr unsigned kMaxDenseQubits = 6;
inline constexpr unsigned kMaxDiagonalQubits = 12;

// A dense block on k qubits. Group g (of 2^(n-k)) holds the amplitudes base(g) | off[c], c < 2^k,
// base(g) = g with zero bits inserted at the targets. Matrix entry (r, c) is mre[c * 2^k + r] +
// i mim[c * 2^k + r] (column-major, real and imaginary parts apart: the row loop is then a
// contiguous vector operation on a CPU). Bit j of r and c is qubit q[j].
struct DenseArgs {
  cplx* a;
  unsigned k;
  unsigned sorted[kMaxDenseQubits];  // the targets, ascending
  index_t off[index_t{1} << kMaxDenseQubits];
  const real* mre;
  const real* mim;
};

// Tag (here and below) only separates instantiations compiled for different instruction sets, so
// that no out-of-line copy built with AVX-512 can stand in for the generic one (ODR).
template <class Tag = void>
QW_HD inline index_t group_base(index_t g, unsigned k, const unsigned* sorted) {
  for (unsigned j = 0; j < k; ++j) g = insert_zero_bit(g, sorted[j]);
  return g;
}

// y[r] = m[r][0] x[0] + m[r][1] x[1] + ... + m[r][D-1] x[D-1], left to right: the order of
// kernels/statevec.cu's Apply2q, so a fused 4x4 block equals apply_2q bit for bit.
QW_HD inline real dense_row_re(const real* mre, const real* mim, unsigned D, unsigned r, const real* xr,
                               const real* xi) {
  real y = mre[r] * xr[0] - mim[r] * xi[0];
  for (unsigned c = 1; c < D; ++c) y = y + (mre[c * D + r] * xr[c] - mim[c * D + r] * xi[c]);
  return y;
}
QW_HD inline real dense_row_im(const real* mre, const real* mim, unsigned D, unsigned r, const real* xr,
                               const real* xi) {
  real y = mre[r] * xi[0] + mim[r] * xr[0];
  for (unsigned c = 1; c < D; ++c) y = y + (mre[c * D + r] * xi[c] + mim[c * D + r] * xr[c]);
  return y;
}

// One group, all rows at once (CPU: the loops over r vectorise; the same sums as dense_row_*).
template <unsigned K, class Tag = void>
QW_HD inline void dense_group(const DenseArgs& f, index_t g) {
  constexpr unsigned D = 1u << K;
  const index_t base = group_base<Tag>(g, K, f.sorted);
  real xr[D], xi[D], yr[D], yi[D];
  for (unsigned c = 0; c < D; ++c) {
    const cplx v = f.a[base | f.off[c]];
    xr[c] = v.re;
    xi[c] = v.im;
  }
  for (unsigned r = 0; r < D; ++r) {
    yr[r] = f.mre[r] * xr[0] - f.mim[r] * xi[0];
    yi[r] = f.mre[r] * xi[0] + f.mim[r] * xr[0];
  }
  for (unsigned c = 1; c < D; ++c) {
    const real* cr = f.mre + c * D;
    const real* ci = f.mim + c * D;
    for (unsigned r = 0; r < D; ++r) {
      yr[r] = yr[r] + (cr[r] * xr[c] - ci[r] * xi[c]);
      yi[r] = yi[r] + (cr[r] * xi[c] + ci[r] * xr[c]);
    }
  }
  for (unsigned r = 0; r < D; ++r) f.a[base | f.off[r]] = cplx{yr[r], yi[r]};
}

template <unsigned K, class Tag = void>
inline void dense_range(const DenseArgs& f, index_t g0, index_t g1) {
  for (index_t g = g0; g < g1; ++g) dense_group<K, Tag>(f, g);
}

// A diagonal block: a[i] <- d[t(i)] a[i], t(i) = the target bits of i (bit j = qubit q[j]).
struct DiagonalArgs {
  cplx* a;
  unsigned k;
  unsigned q[kMaxDiagonalQubits];
  const cplx* d;
  // cpu: t of the low kLowBits bits of an index (2^kLowBits entries), so that a chunk of 2^kLowBits
  // aligned amplitudes needs one table lookup each; nullptr on the GPU.
  const unsigned* low;
};
inline constexpr unsigned kLowBits = 12;

template <class Tag = void>
QW_HD inline unsigned diagonal_index(const DiagonalArgs& f, index_t i) {
  unsigned t = 0;
  for (unsigned j = 0; j < f.k; ++j) t |= static_cast<unsigned>((i >> f.q[j]) & 1u) << j;
  return t;
}

template <class Tag = void>
QW_HD inline void diagonal_entry(const DiagonalArgs& f, index_t i) {
  const unsigned t = diagonal_index<Tag>(f, i);
  f.a[i] = f.d[t] * f.a[i];
}

// [i0, i1) inside one aligned chunk of 2^kLowBits (or the whole of a smaller state): the same
// product d[t] a[i] as diagonal_entry, t from the high bits once and the table for the low bits.
template <class Tag = void>
inline void diagonal_range(const DiagonalArgs& f, index_t i0, index_t i1) {
  constexpr index_t mask = (index_t{1} << kLowBits) - 1;
  const unsigned high = diagonal_index<Tag>(f, i0 & ~mask);
  for (index_t i = i0; i < i1; ++i) {
    const unsigned t = high | f.low[i & mask];
    f.a[i] = f.d[t] * f.a[i];
  }
}

}  // namespace qw::fused
