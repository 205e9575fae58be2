// Counter-based randomness: Philox4x32-10 (Salmon et al., SC'11, "Parallel random numbers: as easy
// as 1, 2, 3"), reference implementation from Random123. Key = seed; counter = (stream, draw index).
// The stream is the shot / trajectory / episode; the draw index counts random decisions inside it.
// Same (seed, stream, draw) gives the same number on every backend, rank count and thread count.
#pragma once
#include <cstdint>
#include <Random123/philox.h>
#include "kernels/config.h"

namespace qw {

struct RngKey {
  std::uint64_t seed;
};

// Four 32-bit words for (seed, stream, draw).
QW_HD inline r123::Philox4x32::ctr_type philox_block(std::uint64_t seed, std::uint64_t stream,
                                                     std::uint64_t draw) {
  r123::Philox4x32 gen;
  r123::Philox4x32::ctr_type ctr = {{static_cast<std::uint32_t>(stream),
                                     static_cast<std::uint32_t>(stream >> 32),
                                     static_cast<std::uint32_t>(draw),
                                     static_cast<std::uint32_t>(draw >> 32)}};
  r123::Philox4x32::key_type key = {{static_cast<std::uint32_t>(seed),
                                     static_cast<std::uint32_t>(seed >> 32)}};
  return gen(ctr, key);
}

// Uniform double in [0, 1) with 53 random bits (words 0 and 1 of the block).
QW_HD inline double uniform01(std::uint64_t seed, std::uint64_t stream, std::uint64_t draw) {
  const auto r = philox_block(seed, stream, draw);
  const std::uint64_t bits = (static_cast<std::uint64_t>(r.v[0]) << 32) | r.v[1];
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

// A sequence of draws inside one stream; each draw consumes one counter value.
struct RngStream {
  std::uint64_t seed;
  std::uint64_t stream;
  std::uint64_t next = 0;
  QW_HD double uniform() { return uniform01(seed, stream, next++); }
};

}  // namespace qw
