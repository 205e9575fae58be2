// Kernels over a batch of B independent states ("segments") of L amplitudes each, stored one after
// another: a state vector (L = 2^n) or a density matrix (L = 4^n, ket bits low, bra bits high).
// Gates that are the same for every segment use kernels/statevec.h on the whole B*L array (the
// segment index is just the high bits of the index); the kernels here carry per-segment data:
// measurement outcomes, noise choices, classical control. Every per-segment result depends only on
// that segment's data and its RNG stream (shot = first_shot + segment), never on B.
#pragma once
#include <cstdint>

#include "kernels/bits.h"
#include "kernels/complex.h"

namespace qw::batch {

// out[b] = Re <P> of segment b (state vectors), P = i^k X^x Z^z within the segment.
void expectation_pauli(const cplx* a, index_t B, index_t L, index_t x, index_t z, unsigned k,
                       double* out);
// out[b] = Re tr(P rho_b) (density matrices of n qubits).
void trace_pauli(const cplx* rho, index_t B, unsigned n, index_t x, index_t z, unsigned k,
                 double* out);
// out[b] = sum over pairs of qubit q of v^dag M v, v = (a_0, a_1): ||K a||^2 for M = K^dag K.
void quadratic_form_1q(const cplx* a, index_t B, index_t L, unsigned q, const Mat2& M, double* out);
// Same over quadruples of qubits (q0, q1), M 4x4 (index bit 0 = q0).
void quadratic_form_2q(const cplx* a, index_t B, index_t L, unsigned q0, unsigned q1, const Mat4& M,
                       double* out);

// Measurement of +-1 observables with expectations e[b]: outcome r = (u < (1 - e)/2) with
// u = uniform01(seed, first_shot + b, draw); the reported bit is r ^ invert, flipped with
// probability flip_p (second half of the same Philox block). Writes record[b * stride + column],
// outcome[b] = r and scale[b] = 1/sqrt(p_r) (state vectors) or 1/p_r (density matrices).
struct MeasureDraw {
  std::uint64_t seed, first_shot, draw;
  double flip_p;
  bool invert, density;
  index_t stride, column;  // record layout; column >= stride: do not record (resets)
};
void decide_measurement(const double* e, index_t B, const MeasureDraw& d, std::uint8_t* record,
                        std::uint8_t* outcome, real* scale);

// a_b <- scale_b/2 (a_b + s_b P a_b), s_b = outcome_b ? -1 : +1; scale == nullptr means 1.
void project_pauli(cplx* a, index_t B, index_t L, index_t x, index_t z, unsigned k,
                   const std::uint8_t* outcome, const real* scale);
// a_b <- P a_b where on[b] != 0.
void pauli_where(cplx* a, index_t B, index_t L, index_t x, index_t z, unsigned k,
                 const std::uint8_t* on);
// a_b <- P(code_b) a_b on qubit q (code 0..3 = I, X, Y, Z) or on (q0, q1) (code = c0 + 4 c1).
void pauli1_codes(cplx* a, index_t B, index_t L, unsigned q, const std::uint8_t* code);
void pauli2_codes(cplx* a, index_t B, index_t L, unsigned q0, unsigned q1, const std::uint8_t* code);

// Pauli-channel draws: code_b = first c with u < cum[c] (cum[count-1] <= 1; else 0 = identity).
struct ChannelDraw {
  std::uint64_t seed, first_shot, draw;
  double cum[16];
  std::uint8_t code[16];  // code written for entry j
  unsigned count;         // entries used; nothing happened (u >= cum[count-1]) writes code 0
};
void decide_channel(index_t B, const ChannelDraw& d, std::uint8_t* code);
// Heralded channels: herald with probability cum[count-1]; then code[j] for the entry drawn. The herald
// bit goes to record[b * stride + column].
void decide_heralded(index_t B, const ChannelDraw& d, std::uint8_t* code, std::uint8_t* record,
                     index_t stride, index_t column);
// CORRELATED_ERROR / ELSE_CORRELATED_ERROR: on_b = (!else || !fired_b) && u < p; fired_b |= on_b.
void decide_correlated(index_t B, std::uint64_t seed, std::uint64_t first_shot, std::uint64_t draw,
                       double p, bool is_else, std::uint8_t* fired, std::uint8_t* on);
// Norm-weighted Kraus choice: p_i = norms[i * B + b]; choice_b = first i with u*sum < cum;
// scale_b = 1/sqrt(p_choice).
void decide_kraus(const double* norms, unsigned count, index_t B, std::uint64_t seed,
                  std::uint64_t first_shot, std::uint64_t draw, std::uint8_t* choice, real* scale);
// a_b <- scale_b * table[choice_b] a_b on qubit q / qubits (q0, q1).
void apply_1q_table(cplx* a, index_t B, index_t L, unsigned q, const Mat2* table,
                    const std::uint8_t* choice, const real* scale);
void apply_2q_table(cplx* a, index_t B, index_t L, unsigned q0, unsigned q1, const Mat4* table,
                    const std::uint8_t* choice, const real* scale);
// Dense 2^k x 2^k matrix (device memory, row-major, index bit j = qubits[j]) on k <= 5 qubits of
// every segment, where on == nullptr or on[b] != 0. Used for density-matrix superoperators.
void apply_dense(cplx* a, index_t B, index_t L, unsigned k, const unsigned* qubits,
                 const cplx* matrix, const std::uint8_t* on);

// Pauli channels rho <- sum_P p_P P rho P^dag on density matrices (B segments of 4^n entries, in
// place). On the group of entries that share all bits but the channel's ket and bra bits,
//   out[k][b] = sum_x W[x][k ^ b] rho[k ^ x][b ^ x],  W[x][d] = sum_z p_(x,z) (-1)^{|z & d|},
// where (x, z) are the Pauli's X and Z masks on the target bits (the i^t phase of a Y cancels
// between P and P^dag). One qubit: x, d in {0, 1} on qubit q (ket bit q, bra bit n + q). Two
// qubits: x, d in 0..3 with bit 0 = q0 and bit 1 = q1 (ket bits q0, q1; bra bits n + q0, n + q1).
void pauli_channel_density_1q(cplx* rho, index_t B, unsigned n, unsigned q, const double W[2][2]);
void pauli_channel_density_2q(cplx* rho, index_t B, unsigned n, unsigned q0, unsigned q1,
                              const double W[4][4]);

// dst[i ^ x] += w (-1)^{|i & z|} src[i] over all B*L entries: adds w (P rho P^dag) for a density
// matrix when x, z are the Pauli's masks on both ket and bra bits.
void add_pauli_conjugated(cplx* dst, const cplx* src, index_t N, index_t x, index_t z, real w);
// record[b * stride + column] -> on[b]
void gather_record(const std::uint8_t* record, index_t B, index_t stride, index_t column,
                   std::uint8_t* on);
// Copies one segment into all B.
void broadcast(cplx* a, index_t B, index_t L, const cplx* segment);
// Sampling from the diagonal of density matrix rho (n qubits), like sv::sample_indices.
void sample_diagonal(const cplx* rho, unsigned n, std::uint64_t seed, std::uint64_t first_shot,
                     std::uint64_t count, index_t* out);
// Sum of the diagonal of rho (its trace), for tests.
double trace(const cplx* rho, unsigned n);

}  // namespace qw::batch
