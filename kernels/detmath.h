// Elementary functions that give the same bits on every backend. The C library's exp/log family
// (glibc on the CPU, libdevice on CUDA) is accurate to about an ulp but not identical across the
// two, and one ulp in a decay probability is enough to change a sampled outcome. These use only
// +, -, *, / (IEEE round-to-nearest on both; no FMA contraction: -ffp-contract=off, --fmad=false),
// exact power-of-two scaling and integer bit operations, so CPU and CUDA builds agree exactly.
// Accuracy: within a few ulp of the correctly rounded value (tests/detmath_test.cc).
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/config.h"

namespace qw::det {

namespace detail {
QW_HD inline double from_bits(std::uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}
QW_HD inline std::uint64_t to_bits(double d) {
  std::uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}
// +infinity and a quiet NaN by their bits (numeric_limits is host-only constexpr under nvcc).
QW_HD inline double inf() { return from_bits(0x7ff0000000000000ULL); }
QW_HD inline double nan() { return from_bits(0x7ff8000000000000ULL); }
// 2^k exactly, for k in [-1022, 1023].
QW_HD inline double pow2(int k) { return from_bits(static_cast<std::uint64_t>(k + 1023) << 52); }
// ln 2 split so that k * kLn2Hi is exact for |k| < 2^11 (Cody & Waite; the fdlibm constants).
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLog2e = 1.44269504088896338700e+00;
}  // namespace detail

// x = k ln2 + r with |r| <= ln2/2 (plus rounding); returns k and expm1(r).
QW_HD inline int reduce_exp(double x, double& p) {
  using namespace detail;
  const double t = x * kLog2e;
  const int k = static_cast<int>(t < 0 ? t - 0.5 : t + 0.5);  // round half away from zero
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  // expm1(r) = r (1 + r/2! + r^2/3! + ... + r^15/16!): truncation below 1e-22 for |r| < 0.35.
  double q = 1.0 / 20922789888000.0;  // 1/16!
  q = 1.0 / 1307674368000.0 + r * q;  // 1/15!
  q = 1.0 / 87178291200.0 + r * q;
  q = 1.0 / 6227020800.0 + r * q;
  q = 1.0 / 479001600.0 + r * q;
  q = 1.0 / 39916800.0 + r * q;
  q = 1.0 / 3628800.0 + r * q;
  q = 1.0 / 362880.0 + r * q;
  q = 1.0 / 40320.0 + r * q;
  q = 1.0 / 5040.0 + r * q;
  q = 1.0 / 720.0 + r * q;
  q = 1.0 / 120.0 + r * q;
  q = 1.0 / 24.0 + r * q;
  q = 1.0 / 6.0 + r * q;
  q = 0.5 + r * q;
  p = r + r * (r * q);
  return k;
}

// exp(x) - 1, accurate for small |x|.
QW_HD inline double expm1(double x) {
  if (!(x == x) || x == 0.0) return x;    // NaN, and +-0 keeps its sign
  if (x > 709.7) return detail::inf();
  if (x < -40.0) return -1.0;              // exp(x) below half an ulp of 1
  double p;
  const int k = reduce_exp(x, p);
  if (k == 0) return p;
  const double s = detail::pow2(k);        // 2^k (expm1(r) + 1) - 1
  return s * p + (s - 1.0);
}

// exp(x); 0 below -708 (results stay normal numbers).
QW_HD inline double exp(double x) {
  if (!(x == x)) return x;
  if (x > 709.7) return detail::inf();
  if (x < -708.0) return 0.0;
  double p;
  const int k = reduce_exp(x, p);
  const double s = detail::pow2(k);
  return s + s * p;
}

// Natural logarithm of a positive, finite, normal u.
QW_HD inline double log_normal(double u) {
  using namespace detail;
  std::uint64_t b = to_bits(u);
  int e = static_cast<int>((b >> 52) & 0x7ff) - 1023;
  double m = from_bits((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);  // [1, 2)
  if (m > 1.4142135623730951) {
    m *= 0.5;
    ++e;
  }
  // log m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), s = (m-1)/(m+1), |s| < 0.172.
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double q = 1.0 / 27.0;
  q = 1.0 / 25.0 + s2 * q;
  q = 1.0 / 23.0 + s2 * q;
  q = 1.0 / 21.0 + s2 * q;
  q = 1.0 / 19.0 + s2 * q;
  q = 1.0 / 17.0 + s2 * q;
  q = 1.0 / 15.0 + s2 * q;
  q = 1.0 / 13.0 + s2 * q;
  q = 1.0 / 11.0 + s2 * q;
  q = 1.0 / 9.0 + s2 * q;
  q = 1.0 / 7.0 + s2 * q;
  q = 1.0 / 5.0 + s2 * q;
  q = 1.0 / 3.0 + s2 * q;
  const double log_m = 2.0 * s + 2.0 * s * (s2 * q);
  return e * kLn2Hi + (e * kLn2Lo + log_m);
}

// log(1 + x), accurate for small |x| (Kahan's correction: log(u) x / (u - 1) with u = 1 + x).
QW_HD inline double log1p(double x) {
  if (!(x == x)) return x;
  if (x == detail::inf()) return x;
  if (x < -1.0) return detail::nan();
  if (x == -1.0) return -detail::inf();
  const double u = 1.0 + x;
  if (u == 1.0) return x;
  return log_normal(u) * (x / (u - 1.0));
}

// log(u) for u > 0.
QW_HD inline double log(double u) {
  if (!(u > 0.0)) return u == 0.0 ? -detail::inf()
                                  : detail::nan();
  if (u == detail::inf()) return u;
  if (u < 2.2250738585072014e-308) return log_normal(u * 18014398509481984.0) - 37.42994775023705;  // 2^54
  return log_normal(u);
}

}  // namespace qw::det
