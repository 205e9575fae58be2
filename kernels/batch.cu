// Per-segment kernels for batched trajectories and density matrices (see kernels/batch.h).
#include "kernels/batch.h"

#include <algorithm>
#include <cmath>

#include "kernels/launch.h"
#include "kernels/memory.h"
#include "kernels/rng.h"
#include "kernels/sampling.h"

namespace qw::batch {
namespace {

QW_HD inline unsigned parity(index_t x) { return popcount64(x) & 1u; }

// Second uniform of a Philox block (words 2, 3): a second independent number for the same draw.
QW_HD inline double second_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t draw) {
  const auto r = philox_block(seed, stream, draw);
  const std::uint64_t bits = (static_cast<std::uint64_t>(r.v[2]) << 32) | r.v[3];
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

struct PauliExpectVal {
  const cplx* a;
  index_t L, x, z;
  unsigned k;
  QW_HD double operator()(index_t i) const {
    const index_t seg = i - i % L, j = (i % L) ^ x;
    const cplx pa = mul_i_pow(a[seg + j], k + 2 * parity(j & z));
    return static_cast<double>(a[i].re * pa.re + a[i].im * pa.im);
  }
};

// tr(P rho) = sum_c (P rho)[c][c] = sum_c i^k (-1)^{|(c ^ x) & z|} rho[c ^ x][c], since
// P|j> = i^k (-1)^{|j & z|} |j ^ x>; memory index of rho[ket][bra] is ket + dim * bra.
struct TracePauliVal {
  const cplx* rho;
  index_t dim, x, z;
  unsigned k;
  QW_HD double operator()(index_t i) const {
    const index_t seg = i / dim, c = i % dim;
    const cplx v = mul_i_pow(rho[seg * dim * dim + (c ^ x) + dim * c], k + 2 * parity((c ^ x) & z));
    return static_cast<double>(v.re);
  }
};

struct Quad1Val {
  const cplx* a;
  index_t L;
  unsigned q;
  Mat2 M;
  QW_HD double operator()(index_t i) const {  // i over pairs: B * L / 2
    const index_t i0 = insert_zero_bit(i, q), i1 = i0 | (index_t{1} << q);
    const cplx v0 = a[i0], v1 = a[i1];
    const cplx w0 = M.m[0] * v0 + M.m[1] * v1, w1 = M.m[2] * v0 + M.m[3] * v1;
    return static_cast<double>(v0.re * w0.re + v0.im * w0.im + v1.re * w1.re + v1.im * w1.im);
  }
};

struct Quad2Val {
  const cplx* a;
  unsigned q0, q1, lo, hi;
  Mat4 M;
  QW_HD double operator()(index_t i) const {  // i over quads: B * L / 4
    const index_t base = insert_two_zero_bits(i, lo, hi);
    const index_t b0 = index_t{1} << q0, b1 = index_t{1} << q1;
    const index_t idx[4] = {base, base | b0, base | b1, base | b0 | b1};
    cplx v[4];
    for (int r = 0; r < 4; ++r) v[r] = a[idx[r]];
    double s = 0;
    for (int r = 0; r < 4; ++r) {
      cplx w = M.m[4 * r] * v[0];
      for (int c = 1; c < 4; ++c) w = w + M.m[4 * r + c] * v[c];
      s += static_cast<double>(v[r].re * w.re + v[r].im * w.im);
    }
    return s;
  }
};

struct DecideMeasurement {
  const double* e;
  MeasureDraw d;
  std::uint8_t* record;
  std::uint8_t* outcome;
  real* scale;
  QW_HD void operator()(index_t b) const {
    double ev = e[b];
    ev = ev > 1 ? 1 : (ev < -1 ? -1 : ev);
    const double p1 = (1 - ev) / 2;
    const std::uint64_t shot = d.first_shot + b;
    const bool r = uniform01(d.seed, shot, d.draw) < p1;
    const double pr = r ? p1 : 1 - p1;
    outcome[b] = r ? 1 : 0;
    scale[b] = static_cast<real>(d.density ? 1 / pr : 1 / sqrt(pr));
    if (d.column < d.stride) {
      bool bit = r != d.invert;
      if (d.flip_p > 0 && second_uniform(d.seed, shot, d.draw) < d.flip_p) bit = !bit;
      record[b * d.stride + d.column] = bit ? 1 : 0;
    }
  }
};

struct ProjectPairs {
  cplx* a;
  index_t L, x, z;
  unsigned k, pivot;
  const std::uint8_t* outcome;
  const real* scale;
  QW_HD void operator()(index_t i) const {
    const index_t i0 = insert_zero_bit(i, pivot), i1 = i0 ^ x;
    const index_t b = i0 / L, seg = b * L;
    const real h = (scale ? scale[b] : real(1)) / 2;
    const real hs = outcome[b] ? -h : h;
    const cplx x0 = a[i0], x1 = a[i1];
    const cplx p0 = mul_i_pow(x1, k + 2 * parity((i1 - seg) & z));
    const cplx p1 = mul_i_pow(x0, k + 2 * parity((i0 - seg) & z));
    a[i0] = h * x0 + hs * p0;
    a[i1] = h * x1 + hs * p1;
  }
};

struct ProjectDiagonal {
  cplx* a;
  index_t L, z;
  unsigned k;
  const std::uint8_t* outcome;
  const real* scale;
  QW_HD void operator()(index_t i) const {
    const index_t b = i / L;
    const real h = (scale ? scale[b] : real(1)) / 2;
    const real hs = outcome[b] ? -h : h;
    a[i] = h * a[i] + hs * mul_i_pow(a[i], k + 2 * parity((i % L) & z));
  }
};

struct PauliWherePairs {
  cplx* a;
  index_t L, x, z;
  unsigned k, pivot;
  const std::uint8_t* on;
  QW_HD void operator()(index_t i) const {
    const index_t i0 = insert_zero_bit(i, pivot), i1 = i0 ^ x;
    const index_t b = i0 / L, seg = b * L;
    if (!on[b]) return;
    const cplx x0 = a[i0], x1 = a[i1];
    a[i1] = mul_i_pow(x0, k + 2 * parity((i0 - seg) & z));
    a[i0] = mul_i_pow(x1, k + 2 * parity((i1 - seg) & z));
  }
};

struct PauliWhereDiagonal {
  cplx* a;
  index_t L, z;
  unsigned k;
  const std::uint8_t* on;
  QW_HD void operator()(index_t i) const {
    if (on[i / L]) a[i] = mul_i_pow(a[i], k + 2 * parity((i % L) & z));
  }
};

// Pauli code c (0 I, 1 X, 2 Y, 3 Z) on a pair (v0, v1): X swaps, Z negates v1, Y = i X Z.
QW_HD inline void pauli_on_pair(unsigned c, cplx& v0, cplx& v1) {
  const cplx a0 = v0, a1 = v1;
  switch (c & 3u) {
    case 1: v0 = a1; v1 = a0; break;
    case 2: v0 = mul_i_pow(a1, 3); v1 = mul_i_pow(a0, 1); break;  // Y = [[0,-i],[i,0]]
    case 3: v1 = mul_i_pow(a1, 2); break;
    default: break;
  }
}

struct Pauli1Codes {
  cplx* a;
  index_t L;
  unsigned q;
  const std::uint8_t* code;
  QW_HD void operator()(index_t i) const {
    const index_t i0 = insert_zero_bit(i, q), i1 = i0 | (index_t{1} << q);
    const unsigned c = code[i0 / L];
    if (c) pauli_on_pair(c, a[i0], a[i1]);
  }
};

struct Pauli2Codes {
  cplx* a;
  index_t L;
  unsigned q0, q1, lo, hi;
  const std::uint8_t* code;
  QW_HD void operator()(index_t i) const {
    const index_t base = insert_two_zero_bits(i, lo, hi);
    const unsigned c = code[base / L];
    if (!c) return;
    const index_t b0 = index_t{1} << q0, b1 = index_t{1} << q1;
    cplx v00 = a[base], v10 = a[base | b0], v01 = a[base | b1], v11 = a[base | b0 | b1];
    pauli_on_pair(c & 3u, v00, v10);  // on q0, for q1 = 0 and q1 = 1
    pauli_on_pair(c & 3u, v01, v11);
    pauli_on_pair(c >> 2, v00, v01);  // on q1
    pauli_on_pair(c >> 2, v10, v11);
    a[base] = v00; a[base | b0] = v10; a[base | b1] = v01; a[base | b0 | b1] = v11;
  }
};

struct DecideChannel {
  ChannelDraw d;
  std::uint8_t* code;
  QW_HD void operator()(index_t b) const {
    const double u = uniform01(d.seed, d.first_shot + b, d.draw);
    std::uint8_t c = 0;
    for (unsigned j = 0; j < d.count; ++j) {
      if (u < d.cum[j]) { c = d.code[j]; break; }
    }
    code[b] = c;
  }
};

struct DecideHeralded {
  ChannelDraw d;
  std::uint8_t* code;
  std::uint8_t* record;
  index_t stride, column;
  QW_HD void operator()(index_t b) const {
    const std::uint64_t shot = d.first_shot + b;
    const double total = d.count ? d.cum[d.count - 1] : 0.0;
    const bool herald = uniform01(d.seed, shot, d.draw) < total;
    std::uint8_t c = 0;
    if (herald) {
      const double v = second_uniform(d.seed, shot, d.draw) * total;
      c = d.code[d.count - 1];
      for (unsigned j = 0; j < d.count; ++j) {
        if (v < d.cum[j]) { c = d.code[j]; break; }
      }
    }
    code[b] = c;
    record[b * stride + column] = herald ? 1 : 0;
  }
};

struct DecideCorrelated {
  std::uint64_t seed, first_shot, draw;
  double p;
  bool is_else;
  std::uint8_t* fired;
  std::uint8_t* on;
  QW_HD void operator()(index_t b) const {
    const bool allowed = !is_else || !fired[b];
    const bool fire = allowed && uniform01(seed, first_shot + b, draw) < p;
    on[b] = fire ? 1 : 0;
    fired[b] = (is_else ? fired[b] : 0) | (fire ? 1 : 0);
  }
};

struct DecideKraus {
  const double* norms;
  unsigned count;
  index_t B;
  std::uint64_t seed, first_shot, draw;
  std::uint8_t* choice;
  real* scale;
  QW_HD void operator()(index_t b) const {
    double total = 0;
    for (unsigned i = 0; i < count; ++i) total += norms[i * B + b];
    const double u = uniform01(seed, first_shot + b, draw) * total;
    double acc = 0;
    unsigned pick = count - 1;
    for (unsigned i = 0; i < count; ++i) {
      acc += norms[i * B + b];
      if (u < acc && norms[i * B + b] > 0) { pick = i; break; }
    }
    while (pick > 0 && !(norms[pick * B + b] > 0)) --pick;  // never pick an empty branch
    choice[b] = static_cast<std::uint8_t>(pick);
    const double p = norms[pick * B + b] / total;
    scale[b] = static_cast<real>(p > 0 ? 1 / sqrt(p) : 0);
  }
};

struct Apply1qTable {
  cplx* a;
  index_t L;
  unsigned q;
  const Mat2* table;
  const std::uint8_t* choice;
  const real* scale;
  QW_HD void operator()(index_t i) const {
    const index_t i0 = insert_zero_bit(i, q), i1 = i0 | (index_t{1} << q);
    const index_t b = i0 / L;
    const Mat2& m = table[choice[b]];
    const real s = scale[b];
    const cplx x0 = a[i0], x1 = a[i1];
    a[i0] = s * (m.m[0] * x0 + m.m[1] * x1);
    a[i1] = s * (m.m[2] * x0 + m.m[3] * x1);
  }
};

struct Apply2qTable {
  cplx* a;
  index_t L;
  unsigned q0, q1, lo, hi;
  const Mat4* table;
  const std::uint8_t* choice;
  const real* scale;
  QW_HD void operator()(index_t i) const {
    const index_t base = insert_two_zero_bits(i, lo, hi);
    const index_t b = base / L;
    const Mat4& m = table[choice[b]];
    const real s = scale[b];
    const index_t b0 = index_t{1} << q0, b1 = index_t{1} << q1;
    const index_t idx[4] = {base, base | b0, base | b1, base | b0 | b1};
    cplx x[4];
    for (int r = 0; r < 4; ++r) x[r] = a[idx[r]];
    for (int r = 0; r < 4; ++r) {
      cplx acc = m.m[4 * r] * x[0];
      for (int c = 1; c < 4; ++c) acc = acc + m.m[4 * r + c] * x[c];
      a[idx[r]] = s * acc;
    }
  }
};

struct ApplyDense {
  cplx* a;
  index_t L;
  unsigned k;
  unsigned q[5];
  unsigned sorted[5];
  const cplx* m;
  const std::uint8_t* on;
  QW_HD void operator()(index_t i) const {
    index_t base = i;
    for (unsigned j = 0; j < k; ++j) base = insert_zero_bit(base, sorted[j]);
    if (on && !on[base / L]) return;
    const unsigned dim = 1u << k;
    cplx x[32];
    index_t idx[32];
    for (unsigned c = 0; c < dim; ++c) {
      index_t t = base;
      for (unsigned j = 0; j < k; ++j) if ((c >> j) & 1u) t |= index_t{1} << q[j];
      idx[c] = t;
      x[c] = a[t];
    }
    for (unsigned r = 0; r < dim; ++r) {
      cplx acc{0, 0};
      for (unsigned c = 0; c < dim; ++c) acc = acc + m[r * dim + c] * x[c];
      a[idx[r]] = acc;
    }
  }
};

// One thread per group of 4 entries (ket bit q, bra bit n + q); w[x][d] as in batch.h.
struct PauliChannelDensity1q {
  cplx* a;
  unsigned lo, hi;  // q, n + q
  real w[2][2];
  QW_HD void operator()(index_t i) const {
    const index_t base = insert_two_zero_bits(i, lo, hi);
    const index_t k1 = index_t{1} << lo, b1 = index_t{1} << hi;
    const cplx r00 = a[base], r10 = a[base | k1], r01 = a[base | b1], r11 = a[base | k1 | b1];
    // d = k ^ b = 0: the diagonal pair (00, 11); d = 1: the off-diagonal pair (10, 01).
    a[base] = w[0][0] * r00 + w[1][0] * r11;
    a[base | k1 | b1] = w[0][0] * r11 + w[1][0] * r00;
    a[base | k1] = w[0][1] * r10 + w[1][1] * r01;
    a[base | b1] = w[0][1] * r01 + w[1][1] * r10;
  }
};

// One thread per group of 16 entries (ket bits q0, q1; bra bits n + q0, n + q1). The group splits
// into four orbits d = k ^ b of four entries each, closed under (k, b) -> (k ^ x, b ^ x).
struct PauliChannelDensity2q {
  cplx* a;
  unsigned sorted[4];
  index_t ket[4], bra[4];  // offsets of k (b) = bit 0 on q0 (n + q0), bit 1 on q1 (n + q1)
  real w[4][4];
  QW_HD void operator()(index_t i) const {
    index_t base = i;
    for (unsigned j = 0; j < 4; ++j) base = insert_zero_bit(base, sorted[j]);
    for (unsigned d = 0; d < 4; ++d) {
      cplx v[4];
      for (unsigned k = 0; k < 4; ++k) v[k] = a[base | ket[k] | bra[k ^ d]];
      for (unsigned k = 0; k < 4; ++k) {
        cplx acc = w[0][d] * v[k];
        for (unsigned x = 1; x < 4; ++x) acc = acc + w[x][d] * v[k ^ x];
        a[base | ket[k] | bra[k ^ d]] = acc;
      }
    }
  }
};

struct AddPauliConjugated {
  cplx* dst;
  const cplx* src;
  index_t x, z;
  real w;
  QW_HD void operator()(index_t i) const {
    const real s = parity(i & z) ? -w : w;
    dst[i ^ x] = dst[i ^ x] + s * src[i];
  }
};

struct GatherRecord {
  const std::uint8_t* record;
  index_t stride, column;
  std::uint8_t* on;
  QW_HD void operator()(index_t b) const { on[b] = record[b * stride + column]; }
};

struct Broadcast {
  cplx* a;
  index_t L;
  const cplx* seg;
  QW_HD void operator()(index_t i) const { a[i] = seg[i % L]; }
};

struct DiagonalVal {
  const cplx* rho;
  index_t dim;
  QW_HD double operator()(index_t c) const {
    const double v = static_cast<double>(rho[c + dim * c].re);
    return v > 0 ? v : 0.0;
  }
};

unsigned lowest_bit(index_t x) { return static_cast<unsigned>(__builtin_ctzll(x)); }

}  // namespace

void expectation_pauli(const cplx* a, index_t B, index_t L, index_t x, index_t z, unsigned k,
                       double* out) {
  segment_sums(B, L, PauliExpectVal{a, L, x, z, k}, out);
}

void trace_pauli(const cplx* rho, index_t B, unsigned n, index_t x, index_t z, unsigned k,
                 double* out) {
  const index_t dim = index_t{1} << n;
  segment_sums(B, dim, TracePauliVal{rho, dim, x, z, k}, out);
}

void quadratic_form_1q(const cplx* a, index_t B, index_t L, unsigned q, const Mat2& M, double* out) {
  segment_sums(B, L / 2, Quad1Val{a, L, q, M}, out);
}

void quadratic_form_2q(const cplx* a, index_t B, index_t L, unsigned q0, unsigned q1, const Mat4& M,
                       double* out) {
  segment_sums(B, L / 4, Quad2Val{a, q0, q1, std::min(q0, q1), std::max(q0, q1), M}, out);
}

void decide_measurement(const double* e, index_t B, const MeasureDraw& d, std::uint8_t* record,
                        std::uint8_t* outcome, real* scale) {
  for_each_index(B, DecideMeasurement{e, d, record, outcome, scale});
}

void project_pauli(cplx* a, index_t B, index_t L, index_t x, index_t z, unsigned k,
                   const std::uint8_t* outcome, const real* scale) {
  if (x == 0) {
    for_each_index(B * L, ProjectDiagonal{a, L, z, k, outcome, scale});
  } else {
    for_each_index(B * L / 2, ProjectPairs{a, L, x, z, k, lowest_bit(x), outcome, scale});
  }
}

void pauli_where(cplx* a, index_t B, index_t L, index_t x, index_t z, unsigned k,
                 const std::uint8_t* on) {
  if (x == 0) {
    for_each_index(B * L, PauliWhereDiagonal{a, L, z, k, on});
  } else {
    for_each_index(B * L / 2, PauliWherePairs{a, L, x, z, k, lowest_bit(x), on});
  }
}

void pauli1_codes(cplx* a, index_t B, index_t L, unsigned q, const std::uint8_t* code) {
  for_each_index(B * L / 2, Pauli1Codes{a, L, q, code});
}

void pauli2_codes(cplx* a, index_t B, index_t L, unsigned q0, unsigned q1, const std::uint8_t* code) {
  for_each_index(B * L / 4, Pauli2Codes{a, L, q0, q1, std::min(q0, q1), std::max(q0, q1), code});
}

void decide_channel(index_t B, const ChannelDraw& d, std::uint8_t* code) {
  for_each_index(B, DecideChannel{d, code});
}

void decide_heralded(index_t B, const ChannelDraw& d, std::uint8_t* code, std::uint8_t* record,
                     index_t stride, index_t column) {
  for_each_index(B, DecideHeralded{d, code, record, stride, column});
}

void decide_correlated(index_t B, std::uint64_t seed, std::uint64_t first_shot, std::uint64_t draw,
                       double p, bool is_else, std::uint8_t* fired, std::uint8_t* on) {
  for_each_index(B, DecideCorrelated{seed, first_shot, draw, p, is_else, fired, on});
}

void decide_kraus(const double* norms, unsigned count, index_t B, std::uint64_t seed,
                  std::uint64_t first_shot, std::uint64_t draw, std::uint8_t* choice, real* scale) {
  for_each_index(B, DecideKraus{norms, count, B, seed, first_shot, draw, choice, scale});
}

void apply_1q_table(cplx* a, index_t B, index_t L, unsigned q, const Mat2* table,
                    const std::uint8_t* choice, const real* scale) {
  for_each_index(B * L / 2, Apply1qTable{a, L, q, table, choice, scale});
}

void apply_2q_table(cplx* a, index_t B, index_t L, unsigned q0, unsigned q1, const Mat4* table,
                    const std::uint8_t* choice, const real* scale) {
  for_each_index(B * L / 4,
                 Apply2qTable{a, L, q0, q1, std::min(q0, q1), std::max(q0, q1), table, choice, scale});
}

void apply_dense(cplx* a, index_t B, index_t L, unsigned k, const unsigned* qubits,
                 const cplx* matrix, const std::uint8_t* on) {
  ApplyDense f{a, L, k, {}, {}, matrix, on};
  for (unsigned j = 0; j < k; ++j) f.q[j] = f.sorted[j] = qubits[j];
  std::sort(f.sorted, f.sorted + k);
  for_each_index(B * L >> k, f);
}

void pauli_channel_density_1q(cplx* rho, index_t B, unsigned n, unsigned q, const double W[2][2]) {
  PauliChannelDensity1q f{rho, q, n + q, {}};
  for (int x = 0; x < 2; ++x)
    for (int d = 0; d < 2; ++d) f.w[x][d] = static_cast<real>(W[x][d]);
  for_each_index((B << (2 * n)) / 4, f);
}

void pauli_channel_density_2q(cplx* rho, index_t B, unsigned n, unsigned q0, unsigned q1,
                              const double W[4][4]) {
  PauliChannelDensity2q f{rho, {q0, q1, n + q0, n + q1}, {}, {}, {}};
  std::sort(f.sorted, f.sorted + 4);
  for (unsigned k = 0; k < 4; ++k) {
    f.ket[k] = ((k & 1u) ? index_t{1} << q0 : 0) | ((k & 2u) ? index_t{1} << q1 : 0);
    f.bra[k] = f.ket[k] << n;
  }
  for (int x = 0; x < 4; ++x)
    for (int d = 0; d < 4; ++d) f.w[x][d] = static_cast<real>(W[x][d]);
  for_each_index((B << (2 * n)) / 16, f);
}

void add_pauli_conjugated(cplx* dst, const cplx* src, index_t N, index_t x, index_t z, real w) {
  for_each_index(N, AddPauliConjugated{dst, src, x, z, w});
}

void gather_record(const std::uint8_t* record, index_t B, index_t stride, index_t column,
                   std::uint8_t* on) {
  for_each_index(B, GatherRecord{record, stride, column, on});
}

void broadcast(cplx* a, index_t B, index_t L, const cplx* segment) {
  for_each_index(B * L, Broadcast{a, L, segment});
}

void sample_diagonal(const cplx* rho, unsigned n, std::uint64_t seed, std::uint64_t first_shot,
                     std::uint64_t count, index_t* out) {
  const index_t dim = index_t{1} << n;
  sample_weighted(dim, DiagonalVal{rho, dim}, seed, first_shot, count, out);
}

double trace(const cplx* rho, unsigned n) {
  const index_t dim = index_t{1} << n;
  return reduce_sum(dim, DiagonalVal{rho, dim});
}

}  // namespace qw::batch
