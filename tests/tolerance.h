// Tolerances for comparisons of values that qweave computed in qw::real (kernels/config.h).
#pragma once
#include "kernels/config.h"

namespace qw::testing {

// `double_bound` in a double build, unchanged. In a single build float rounding sets the floor: an
// epsilon of 1.2e-7 per operation, accumulated over the tens to hundreds of gates, channels and
// renormalisations behind one compared value of order one, stays below 1e-5.
constexpr double tol(double double_bound) {
  return sizeof(real) == sizeof(double) || double_bound >= 1e-5 ? double_bound : 1e-5;
}

}  // namespace qw::testing
