// Kernels for the sharded state vector (host/sharded_state.h), single source (kernels/exchange.cu).
// Pointers are device pointers of the active backend unless marked host; n is the slab size.
#pragma once
#include <cstdint>
#include "kernels/bits.h"
#include "kernels/complex.h"

namespace qw::shard {

// The "half" of a slab where local bit `bit` equals `value`, enumerated in index order: element h
// of the half is slab[insert_zero_bit(h, bit) | value << bit]. pack_half copies elements
// [first, first + count) of the half to out[0, count); unpack_half writes in[0, count) back there.
void pack_half(const cplx* slab, index_t n_local, unsigned bit, unsigned value, index_t first,
               index_t count, cplx* out);
void unpack_half(cplx* slab, index_t n_local, unsigned bit, unsigned value, index_t first,
                 index_t count, const cplx* in);

// a[i] *= d where (i & mask) == value (mask 0: every amplitude).
void scale_where(cplx* a, index_t n, cplx d, index_t mask, index_t value);
// a[i] = (i & mask) == value ? a[i] * s : 0 (collapse after a measurement).
void collapse_where(cplx* a, index_t n, index_t mask, index_t value, real s);
// Deterministic sum of |a_i|^2 over (i & mask) == value (kernels/launch.h's fixed tree).
double norm_where(const cplx* a, index_t n, index_t mask, index_t value);

// For each of `count` targets t (host array, 0 <= t < sum |a_i|^2), the first index i (host out)
// whose cumulative weight |a_0|^2 + ... + |a_i|^2 exceeds t (i with nonzero weight; the last such
// index when rounding puts t beyond the sum). Block sums of 1024 as in kernels/sampling.h.
void find_cumulative(const cplx* a, index_t n, const double* targets, std::uint64_t count,
                     index_t* out);

// A density matrix of n qubits sharded as a 2n-bit vector (logical bit j < n: ket bit j, n + j: bra
// bit j): phys[j] is the physical bit of logical bit j; the rank's global bits sit above
// local_bits (physical index = local index | rank << local_bits).
struct DiagonalLayout {
  unsigned n = 0, local_bits = 0;
  std::uint64_t rank = 0;
  std::uint8_t phys[64] = {};
};
// Sum of Re rho[c][c] over the logical kets c in [0, 2^n) with (c & mask) == value whose diagonal
// entry lies in this rank's slab (deterministic, kernels/launch.h's fixed tree).
double diagonal_sum(const cplx* slab, const DiagonalLayout& l, index_t mask, index_t value);
// out[c] = Re rho[c][c] (device array of 2^n doubles) where the entry lies in this rank's slab, else 0.
void diagonal_values(const cplx* slab, const DiagonalLayout& l, double* out);
// Shots [first_shot, first_shot + count) sampled from the weights w (device, n entries; negative
// ones count as 0) exactly as batch::sample_diagonal does from a density matrix's diagonal.
void sample_weights(const double* w, index_t n, std::uint64_t seed, std::uint64_t first_shot,
                    std::uint64_t count, index_t* out);

}  // namespace qw::shard
