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

}  // namespace qw::shard
