// The amplitude type. Plain real arithmetic (no std::complex) so that a multiply is four
// multiplies and two adds on both backends, with no C99 Annex-G NaN path (__muldc3), and so
// that the memory layout is exactly HDF5's compound {r, i}.
#pragma once
#include "kernels/config.h"

namespace qw {

template <class T>
struct alignas(2 * sizeof(T)) basic_cplx {
  T re;
  T im;
};
using cplx = basic_cplx<real>;      // amplitudes, in the build's precision
using cplx64 = basic_cplx<double>;  // gate definitions, always double

template <class T>
QW_HD constexpr basic_cplx<T> operator+(basic_cplx<T> a, basic_cplx<T> b) {
  return {a.re + b.re, a.im + b.im};
}
template <class T>
QW_HD constexpr basic_cplx<T> operator-(basic_cplx<T> a, basic_cplx<T> b) {
  return {a.re - b.re, a.im - b.im};
}
template <class T>
QW_HD constexpr basic_cplx<T> operator*(basic_cplx<T> a, basic_cplx<T> b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
template <class T>
QW_HD constexpr basic_cplx<T> operator*(T s, basic_cplx<T> a) { return {s * a.re, s * a.im}; }
template <class T>
QW_HD constexpr basic_cplx<T> conj(basic_cplx<T> a) { return {a.re, -a.im}; }
template <class T>
QW_HD constexpr T norm2(basic_cplx<T> a) { return a.re * a.re + a.im * a.im; }
QW_HD constexpr cplx to_cplx(cplx64 a) { return {static_cast<real>(a.re), static_cast<real>(a.im)}; }

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
template <class T> struct basic_mat2 { basic_cplx<T> m[4]; };
template <class T> struct basic_mat4 { basic_cplx<T> m[16]; };
using Mat2 = basic_mat2<real>;
using Mat4 = basic_mat4<real>;
using Mat2d = basic_mat2<double>;
using Mat4d = basic_mat4<double>;

template <class T>
constexpr Mat2 to_kernel(const basic_mat2<T>& a) {
  Mat2 m{};
  for (int k = 0; k < 4; ++k) m.m[k] = {static_cast<real>(a.m[k].re), static_cast<real>(a.m[k].im)};
  return m;
}
template <class T>
constexpr Mat4 to_kernel(const basic_mat4<T>& a) {
  Mat4 m{};
  for (int k = 0; k < 16; ++k) m.m[k] = {static_cast<real>(a.m[k].re), static_cast<real>(a.m[k].im)};
  return m;
}

}  // namespace qw
