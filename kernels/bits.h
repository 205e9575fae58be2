// Index arithmetic for state vectors: bit q of an amplitude index is qubit q.
#pragma once
#include <cstdint>
#include "kernels/config.h"

namespace qw {

using index_t = std::uint64_t;  // 64-bit everywhere: states above 2^31 amplitudes must work

// Inserts a 0 bit at position q: bits >= q move up by one.
QW_HD constexpr index_t insert_zero_bit(index_t i, unsigned q) {
  const index_t low = i & ((index_t{1} << q) - 1);
  return ((i >> q) << (q + 1)) | low;
}

// Inserts 0 bits at positions lo < hi (positions in the result).
QW_HD constexpr index_t insert_two_zero_bits(index_t i, unsigned lo, unsigned hi) {
  return insert_zero_bit(insert_zero_bit(i, lo), hi);
}

QW_HD constexpr unsigned popcount64(index_t x) {
#if defined(__CUDA_ARCH__)
  return static_cast<unsigned>(__popcll(x));
#else
  return static_cast<unsigned>(__builtin_popcountll(x));
#endif
}

}  // namespace qw
