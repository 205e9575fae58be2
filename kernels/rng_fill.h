// Bulk draws on the device, for tests and for engines that pre-draw per-shot randomness.
#pragma once
#include <cstdint>

namespace qw {
// out[s] = uniform01(seed, first_stream + s, draw) for s in [0, count); out is host memory.
void fill_uniform(std::uint64_t seed, std::uint64_t first_stream, std::uint64_t count,
                  std::uint64_t draw, double* out);
}  // namespace qw
