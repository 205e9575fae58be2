// State-vector kernels: each is one functor, launched by for_each_index on either backend.
#include "kernels/statevec.h"

#include <algorithm>
#include <vector>

#include "kernels/launch.h"
#include "kernels/memory.h"
#include "kernels/rng.h"
#include "kernels/sampling.h"

namespace qw::sv {
namespace {

QW_HD inline bool controls_match(index_t i, index_t mask, index_t value) {
  return (i & mask) == value;
}
QW_HD inline unsigned parity(index_t x) { return popcount64(x) & 1u; }

struct SetBasis {
  cplx* a;
  index_t basis;
  QW_HD void operator()(index_t i) const {
    a[i] = cplx{i == basis ? real(1) : real(0), real(0)};
  }
};

struct Copy {
  cplx* dst;
  const cplx* src;
  QW_HD void operator()(index_t i) const { dst[i] = src[i]; }
};

struct Scale {
  cplx* a;
  real s;
  QW_HD void operator()(index_t i) const { a[i] = s * a[i]; }
};

struct Apply1q {
  cplx* a;
  unsigned q;
  Mat2 m;
  index_t cm, cv;
  QW_HD void operator()(index_t i) const {
    const index_t i0 = insert_zero_bit(i, q);
    if (!controls_match(i0, cm, cv)) return;
    const index_t i1 = i0 | (index_t{1} << q);
    const cplx x0 = a[i0], x1 = a[i1];
    a[i0] = m.m[0] * x0 + m.m[1] * x1;
    a[i1] = m.m[2] * x0 + m.m[3] * x1;
  }
};

// One amplitude per index (not one pair): consecutive indices touch consecutive amplitudes for any
// target, so loads and stores stay coalesced on a GPU and vectorise on a CPU.
struct Apply1qDiagonal {
  cplx* a;
  unsigned q;
  cplx d0, d1;
  index_t cm, cv;
  QW_HD void operator()(index_t i) const {
    if (!controls_match(i & ~(index_t{1} << q), cm, cv)) return;
    a[i] = ((i >> q) & 1 ? d1 : d0) * a[i];
  }
};

struct Apply2q {
  cplx* a;
  unsigned q0, q1, lo, hi;
  Mat4 m;
  index_t cm, cv;
  QW_HD void operator()(index_t i) const {
    const index_t base = insert_two_zero_bits(i, lo, hi);
    if (!controls_match(base, cm, cv)) return;
    const index_t b0 = index_t{1} << q0, b1 = index_t{1} << q1;
    const index_t idx[4] = {base, base | b0, base | b1, base | b0 | b1};
    cplx x[4];
    for (int k = 0; k < 4; ++k) x[k] = a[idx[k]];
    for (int r = 0; r < 4; ++r) {
      cplx s = m.m[4 * r] * x[0];
      for (int c = 1; c < 4; ++c) s = s + m.m[4 * r + c] * x[c];
      a[idx[r]] = s;
    }
  }
};

struct Apply2qDiagonal {
  cplx* a;
  unsigned q0, q1, lo, hi;
  cplx d[4];
  index_t cm, cv;
  QW_HD void operator()(index_t i) const {
    const index_t base = insert_two_zero_bits(i, lo, hi);
    if (!controls_match(base, cm, cv)) return;
    const index_t b0 = index_t{1} << q0, b1 = index_t{1} << q1;
    a[base] = d[0] * a[base];
    a[base | b0] = d[1] * a[base | b0];
    a[base | b1] = d[2] * a[base | b1];
    a[base | b0 | b1] = d[3] * a[base | b0 | b1];
  }
};

struct Swap {
  cplx* a;
  unsigned q0, q1, lo, hi;
  index_t cm, cv;
  QW_HD void operator()(index_t i) const {
    const index_t base = insert_two_zero_bits(i, lo, hi);
    if (!controls_match(base, cm, cv)) return;
    const index_t i01 = base | (index_t{1} << q0), i10 = base | (index_t{1} << q1);
    const cplx t = a[i01];
    a[i01] = a[i10];
    a[i10] = t;
  }
};

// (P a)[j] = i^k (-1)^{|(j ^ x) & z|} a[j ^ x]
struct PauliDiagonal {
  cplx* a;
  index_t z;
  unsigned k;
  index_t cm, cv;
  QW_HD void operator()(index_t i) const {
    if (!controls_match(i, cm, cv)) return;
    a[i] = mul_i_pow(a[i], k + 2 * parity(i & z));
  }
};

struct PauliPairs {
  cplx* a;
  index_t x, z;
  unsigned k, pivot;
  index_t cm, cv;
  QW_HD void operator()(index_t i) const {
    const index_t i0 = insert_zero_bit(i, pivot);
    if (!controls_match(i0, cm, cv)) return;
    const index_t i1 = i0 ^ x;
    const cplx x0 = a[i0], x1 = a[i1];
    a[i1] = mul_i_pow(x0, k + 2 * parity(i0 & z));
    a[i0] = mul_i_pow(x1, k + 2 * parity(i1 & z));
  }
};

// a <- alpha a + beta P a, over the pairs (i0, i0 ^ x).
struct CombinePauliPairs {
  cplx* a;
  index_t x, z;
  unsigned k, pivot;
  cplx alpha, beta;
  QW_HD void operator()(index_t i) const {
    const index_t i0 = insert_zero_bit(i, pivot);
    const index_t i1 = i0 ^ x;
    const cplx x0 = a[i0], x1 = a[i1];
    const cplx p0 = mul_i_pow(x1, k + 2 * parity(i1 & z));  // (P a)[i0]
    const cplx p1 = mul_i_pow(x0, k + 2 * parity(i0 & z));  // (P a)[i1]
    a[i0] = alpha * x0 + beta * p0;
    a[i1] = alpha * x1 + beta * p1;
  }
};

// x == 0: P is diagonal, (P a)[i] = i^k (-1)^{|i & z|} a[i].
struct CombinePauliDiagonal {
  cplx* a;
  index_t z;
  unsigned k;
  cplx alpha, beta;
  QW_HD void operator()(index_t i) const {
    a[i] = alpha * a[i] + beta * mul_i_pow(a[i], k + 2 * parity(i & z));
  }
};

struct NormVal {
  const cplx* a;
  QW_HD double operator()(index_t i) const { return static_cast<double>(norm2(a[i])); }
};

struct PauliExpectVal {
  const cplx* a;
  index_t x, z;
  unsigned k;
  QW_HD double operator()(index_t i) const {
    const index_t j = i ^ x;
    const cplx pa = mul_i_pow(a[j], k + 2 * parity(j & z));
    return static_cast<double>(a[i].re * pa.re + a[i].im * pa.im);
  }
};

}  // namespace

void set_basis_state(cplx* a, index_t n, index_t basis) { for_each_index(n, SetBasis{a, basis}); }
void copy(cplx* dst, const cplx* src, index_t n) { for_each_index(n, Copy{dst, src}); }
void scale(cplx* a, index_t n, real s) { for_each_index(n, Scale{a, s}); }

#if defined(__CUDACC__)
// Targets below 5 pair amplitudes inside one warp's 32 consecutive amplitudes. One pair per thread
// would load and store every other 16 bytes per instruction (0.76 of copy bandwidth at 30 qubits on
// an H200); here each thread loads and stores its own amplitude and gets its partner from lane
// (lane ^ 2^q) by shuffles, with the same arithmetic (same order) as Apply1q.
__global__ void apply_1q_low_kernel(cplx* a, index_t n, unsigned q, Mat2 m, index_t cm, index_t cv) {
  const index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;  // n % 32 == 0
  if (i >= n) return;
  const cplx self = a[i];
  const unsigned lane_mask = 1u << q;
  cplx other;
  other.re = __shfl_xor_sync(0xffffffffu, self.re, lane_mask);
  other.im = __shfl_xor_sync(0xffffffffu, self.im, lane_mask);
  if (!controls_match(i & ~index_t{lane_mask}, cm, cv)) return;
  if (i & lane_mask) a[i] = m.m[2] * other + m.m[3] * self;
  else a[i] = m.m[0] * self + m.m[1] * other;
}
#endif

void apply_1q(cplx* a, index_t n, unsigned q, const Mat2& m, index_t cm, index_t cv) {
#if defined(__CUDACC__)
  if (q < 5 && n >= 32) {
    constexpr unsigned kThreads = 256;
    apply_1q_low_kernel<<<static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads>>>(a, n, q, m, cm, cv);
    return;
  }
#endif
  for_each_index(n / 2, Apply1q{a, q, m, cm, cv});
}
void apply_1q_diagonal(cplx* a, index_t n, unsigned q, cplx d0, cplx d1, index_t cm, index_t cv) {
  for_each_index(n, Apply1qDiagonal{a, q, d0, d1, cm, cv});
}
void apply_2q(cplx* a, index_t n, unsigned q0, unsigned q1, const Mat4& m, index_t cm, index_t cv) {
  for_each_index(n / 4, Apply2q{a, q0, q1, std::min(q0, q1), std::max(q0, q1), m, cm, cv});
}
void apply_2q_diagonal(cplx* a, index_t n, unsigned q0, unsigned q1, const cplx d[4], index_t cm,
                       index_t cv) {
  Apply2qDiagonal f{a, q0, q1, std::min(q0, q1), std::max(q0, q1), {d[0], d[1], d[2], d[3]}, cm, cv};
  for_each_index(n / 4, f);
}
void apply_swap(cplx* a, index_t n, unsigned q0, unsigned q1, index_t cm, index_t cv) {
  for_each_index(n / 4, Swap{a, q0, q1, std::min(q0, q1), std::max(q0, q1), cm, cv});
}

static unsigned lowest_bit(index_t x) { return static_cast<unsigned>(__builtin_ctzll(x)); }

void apply_pauli(cplx* a, index_t n, index_t x, index_t z, unsigned k, index_t cm, index_t cv) {
  if (x == 0) {
    for_each_index(n, PauliDiagonal{a, z, k, cm, cv});
  } else {
    for_each_index(n / 2, PauliPairs{a, x, z, k, lowest_bit(x), cm, cv});
  }
}

double norm_squared(const cplx* a, index_t n) { return reduce_sum(n, NormVal{a}); }

double expectation_pauli(const cplx* a, index_t n, index_t x, index_t z, unsigned k) {
  return reduce_sum(n, PauliExpectVal{a, x, z, k});
}

void combine_pauli(cplx* a, index_t n, index_t x, index_t z, unsigned k, cplx alpha, cplx beta) {
  if (x == 0) {
    for_each_index(n, CombinePauliDiagonal{a, z, k, alpha, beta});
  } else {
    for_each_index(n / 2, CombinePauliPairs{a, x, z, k, lowest_bit(x), alpha, beta});
  }
}

void project_pauli(cplx* a, index_t n, index_t x, index_t z, unsigned k, int sign, real s) {
  const cplx half{s / 2, 0};
  combine_pauli(a, n, x, z, k, half, sign < 0 ? cplx{-s / 2, 0} : half);
}

void sample_indices(const cplx* a, index_t n, std::uint64_t seed, std::uint64_t first_shot,
                    std::uint64_t count, index_t* out) {
  sample_weighted(n, NormVal{a}, seed, first_shot, count, out);
}

}  // namespace qw::sv
