// The amplitude type. Plain real arithmetic (no std::complex) so that a multiply is four
// multiplies and two adds on both backends, with no C99 Annex-G NaN path (__muldc3), and so
// that the memory layout is exactly HDF5's compound {r, i}.
#pragma once
#include "kernels/config.h"

namespace qw {

struct alignas(2 * sizeof(real)) cplx {
  real re;
  real im;
};

QW_HD constexpr cplx operator+(cplx a, cplx b) { return {a.re + b.re, a.im + b.im}; }
QW_HD constexpr cplx operator-(cplx a, cplx b) { return {a.re - b.re, a.im - b.im}; }
QW_HD constexpr cplx operator*(cplx a, cplx b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
QW_HD constexpr cplx operator*(real s, cplx a) { return {s * a.re, s * a.im}; }
QW_HD constexpr cplx conj(cplx a) { return {a.re, -a.im}; }
QW_HD constexpr real norm2(cplx a) { return a.re * a.re + a.im * a.im; }
// i^k for k in 0..3 applied to a, exact (no multiply).
QW_HD constexpr cplx mul_i_pow(cplx a, unsigned k) {
  switch (k & 3u) {
    case 0: return a;
    case 1: return {-a.im, a.re};
    case 2: return {-a.re, -a.im};
    default: return {a.im, -a.re};
  }
}

// Dense gate matrices, row-major: m[row * dim + col]. Row/column index bit j is target j.
struct Mat2 { cplx m[4]; };
struct Mat4 { cplx m[16]; };

}  // namespace qw
