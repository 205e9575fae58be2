// State-vector kernels (single source, kernels/statevec.cu). Pointers are device pointers of the
// active backend; n is the number of amplitudes (a power of two); bit q of an index is qubit q.
// Gates with controls act where (index & ctrl_mask) == ctrl_value.
#pragma once
#include <cstdint>
#include "kernels/bits.h"
#include "kernels/complex.h"

namespace qw::sv {

void set_basis_state(cplx* a, index_t n, index_t basis);
void copy(cplx* dst, const cplx* src, index_t n);  // also the bandwidth reference in bench/

void apply_1q(cplx* a, index_t n, unsigned q, const Mat2& m, index_t ctrl_mask = 0,
              index_t ctrl_value = 0);
void apply_1q_diagonal(cplx* a, index_t n, unsigned q, cplx d0, cplx d1, index_t ctrl_mask = 0,
                       index_t ctrl_value = 0);
// m's row/column index: bit 0 = q0, bit 1 = q1.
void apply_2q(cplx* a, index_t n, unsigned q0, unsigned q1, const Mat4& m, index_t ctrl_mask = 0,
              index_t ctrl_value = 0);
void apply_2q_diagonal(cplx* a, index_t n, unsigned q0, unsigned q1, const cplx d[4],
                       index_t ctrl_mask = 0, index_t ctrl_value = 0);
void apply_swap(cplx* a, index_t n, unsigned q0, unsigned q1, index_t ctrl_mask = 0,
                index_t ctrl_value = 0);

// Pauli product P = i^phase_k · X^x_mask · Z^z_mask (phase_k = popcount(x & z) makes each Y exact),
// optionally controlled. Covers X, Y, Z, CX, CY, CZ, CCX and any Pauli string without a multiply.
void apply_pauli(cplx* a, index_t n, index_t x_mask, index_t z_mask, unsigned phase_k,
                 index_t ctrl_mask = 0, index_t ctrl_value = 0);

// Sum of |a_i|^2.
double norm_squared(const cplx* a, index_t n);
// <a|P|a> for the Pauli product above (real part; P Hermitian when phase_k == popcount(x&z)).
double expectation_pauli(const cplx* a, index_t n, index_t x_mask, index_t z_mask, unsigned phase_k);
// a <- alpha a + beta P a (Pauli-product rotations, projections).
void combine_pauli(cplx* a, index_t n, index_t x_mask, index_t z_mask, unsigned phase_k, cplx alpha,
                   cplx beta);
// a <- scale * (a + sign * P a) / 2: projection onto the sign eigenspace of P, rescaled.
void project_pauli(cplx* a, index_t n, index_t x_mask, index_t z_mask, unsigned phase_k, int sign,
                   real scale);
void scale(cplx* a, index_t n, real s);

// Samples basis-state indices from |a|^2 for shots [first_shot, first_shot + count): shot s uses
// uniform01(seed, s, 0). Writes count indices to host memory out.
void sample_indices(const cplx* a, index_t n, std::uint64_t seed, std::uint64_t first_shot,
                    std::uint64_t count, index_t* out);

}  // namespace qw::sv
