// Per-pair maps for the link engine: Bell-diagonal states and full two-qubit density matrices,
// entanglement swapping, purification (BBPSSW, DEJMPS, pumping), depolarising and memory
// decoherence. Plain structs and QW_HD functions (no allocation, no exceptions), so the link engine
// runs the same code on both backends (exp/log through kernels/detmath.h: the same bits on both). Formulas, derivations and sources: docs/physics.md.
//
// Conventions (docs/physics.md, "Conventions"):
//  * Bell states |Phi+-> = (|00> +- |11>)/sqrt2, |Psi+-> = (|01> +- |10>)/sqrt2, where |ab> has
//    qubit A in state a and qubit B in state b. BellDiagonal stores them in the HDF5 order
//    (Phi+, Psi+, Psi-, Phi-); index k is the Pauli sigma_k = (I, X, Y, Z) that takes |Phi+> to
//    that state when applied to either qubit (up to a phase). The target state is |Phi+>.
//  * Two Pauli frames compose by XOR of their indices (the Klein group {I, X, Y, Z} mod phases).
//  * Pair4: 4x4 density matrix, row-major rho[row * 4 + col], row = ket; index bit 0 is qubit A,
//    bit 1 qubit B (as amplitudes elsewhere in qweave).
#pragma once
#include <cmath>

#include "kernels/complex.h"
#include "kernels/config.h"
#include "kernels/detmath.h"

namespace qw {

struct BellDiagonal {
  double phi_plus = 1, psi_plus = 0, psi_minus = 0, phi_minus = 0;
  QW_HD constexpr double operator[](int k) const {
    return k == 0 ? phi_plus : k == 1 ? psi_plus : k == 2 ? psi_minus : phi_minus;
  }
  QW_HD constexpr double& operator[](int k) {
    return k == 0 ? phi_plus : k == 1 ? psi_plus : k == 2 ? psi_minus : phi_minus;
  }
  QW_HD constexpr double fidelity() const { return phi_plus; }
  QW_HD constexpr double total() const { return phi_plus + psi_plus + psi_minus + phi_minus; }
};

// A map that may fail: the state when it succeeds and its success probability. Maps that always
// succeed (swap, decoherence) report probability 1.
struct BellOutcome {
  BellDiagonal state;
  double probability = 1;
};

// Pauli-channel probabilities (I, X, Y, Z) of one qubit; the same indices as BellDiagonal.
struct PauliProbs {
  double p[4] = {1, 0, 0, 0};
};

struct Pair4 {
  cplx64 rho[16] = {};
  QW_HD constexpr cplx64& at(int row, int col) { return rho[row * 4 + col]; }
  QW_HD constexpr cplx64 at(int row, int col) const { return rho[row * 4 + col]; }
};

// Errors of the local operations around a Bell measurement or a purification step: each two-qubit
// gate is followed by DEPOLARIZE2(two_qubit_depolarising) (Stim's convention: each of the 15
// non-identity two-qubit Paulis with probability p/15); each measured bit is flipped with
// probability readout_error. Single-qubit gates are perfect.
struct LocalNoise {
  double two_qubit_depolarising = 0;
  double readout_error = 0;
};

// ---- Bell-diagonal states -------------------------------------------------------------------

// Werner state of fidelity F: F on Phi+, (1 - F)/3 on each of the other three.
QW_HD constexpr BellDiagonal werner(double fidelity) {
  const double e = (1 - fidelity) / 3;
  return {fidelity, e, e, e};
}

// The coefficients divided by their sum (a zero state stays zero).
QW_HD constexpr BellDiagonal normalised(BellDiagonal a) {
  const double s = a.total();
  if (!(s > 0)) return a;
  return {a.phi_plus / s, a.psi_plus / s, a.psi_minus / s, a.phi_minus / s};
}

// The isotropic (U (x) U*) twirl: keeps the fidelity, spreads the rest evenly. BBPSSW applies it
// to its inputs and output.
QW_HD constexpr BellDiagonal werner_twirl(BellDiagonal a) { return werner(a.fidelity()); }

// The Pauli frame of two independent errors: c_k = sum_i a_i b_(i xor k).
QW_HD constexpr BellDiagonal convolve(BellDiagonal a, BellDiagonal b) {
  BellDiagonal c{0, 0, 0, 0};
  for (int k = 0; k < 4; ++k) {
    double s = 0;
    for (int i = 0; i < 4; ++i) s += a[i] * b[i ^ k];
    c[k] = s;
  }
  return c;
}

// A Pauli channel on either qubit of the pair (the Bell index is shifted by the Pauli's index;
// on qubit A the transpose only changes a phase).
QW_HD constexpr BellDiagonal apply_pauli_channel(BellDiagonal a, PauliProbs q) {
  return convolve(a, BellDiagonal{q.p[0], q.p[1], q.p[2], q.p[3]});
}

// Two-qubit depolarising towards the maximally mixed state: rho -> (1 - p) rho + p I/4.
QW_HD constexpr BellDiagonal depolarise(BellDiagonal a, double p) {
  const double q = 1 - p, m = p * a.total() / 4;
  return {q * a.phi_plus + m, q * a.psi_plus + m, q * a.psi_minus + m, q * a.phi_minus + m};
}

// Single-qubit depolarising (Stim's DEPOLARIZE1(p): X, Y, Z each with p/3) on one qubit of a pair.
QW_HD constexpr BellDiagonal depolarise1(BellDiagonal a, double p) {
  return apply_pauli_channel(a, PauliProbs{{1 - p, p / 3, p / 3, p / 3}});
}

// ---- Entanglement swapping ------------------------------------------------------------------

// Pauli frame that the Bell measurement adds to the swapped pair: DEPOLARIZE2(p2) on the two
// measured qubits is a Pauli (e1, e2) with e1 on pair 1 and e2 on pair 2, i.e. e1 xor e2 on the
// output: identity with 1 - p2 + 3 p2/15, each of X, Y, Z with 4 p2/15. A flipped ZZ-parity bit
// applies the wrong X correction, a flipped XX-parity bit the wrong Z one.
QW_HD constexpr PauliProbs bell_measurement_noise(LocalNoise n) {
  const double p2 = n.two_qubit_depolarising, r = n.readout_error;
  const double g0 = 1 - 12 * p2 / 15, g = 4 * p2 / 15;
  const BellDiagonal gate{g0, g, g, g};
  const BellDiagonal readout{(1 - r) * (1 - r), r * (1 - r), r * r, r * (1 - r)};
  const BellDiagonal c = convolve(gate, readout);
  return PauliProbs{{c[0], c[1], c[2], c[3]}};
}

// Entanglement swapping of pairs (A, B1) and (B2, C) by a Bell measurement on (B1, B2) with the
// Pauli correction on C: the output's Pauli frame is the XOR of the inputs' frames and the
// measurement's (Duer & Briegel, Rep. Prog. Phys. 70, 1381 (2007), Sec. 4; docs/physics.md).
// For Werner inputs F' = F1 F2 + (1 - F1)(1 - F2)/3. Deterministic: probability 1.
QW_HD constexpr BellOutcome swap(BellDiagonal a, BellDiagonal b, LocalNoise noise = {}) {
  return {apply_pauli_channel(convolve(a, b), bell_measurement_noise(noise)), 1.0};
}

// ---- Purification -----------------------------------------------------------------------------

namespace link_detail {
// Bell index k <-> Pauli frame bits: x = bit flip (Psi states), z = phase flip.
QW_HD constexpr int frame_x(int k) { return (k == 1 || k == 2) ? 1 : 0; }
QW_HD constexpr int frame_z(int k) { return (k == 2 || k == 3) ? 1 : 0; }
QW_HD constexpr int frame_index(int x, int z) { return x ? (z ? 2 : 1) : (z ? 3 : 0); }

// The DEJMPS local rotations, Rx(pi/2) on A's qubits and Rx(-pi/2) on B's, keep Phi+ and Psi+ and
// exchange Phi- and Psi- (Deutsch et al. PRL 77, 2818 (1996)).
QW_HD constexpr BellDiagonal dejmps_rotate(BellDiagonal a) {
  return {a.phi_plus, a.psi_plus, a.phi_minus, a.psi_minus};
}

// Bilateral CNOT (pair 1 controls, pair 2 targets) with DEPOLARIZE2 after each local CNOT, both
// target qubits measured in Z with readout errors, kept when the two results agree. Pauli frames:
// (x1, z1, x2, z2) -> (x1, z1 ^ z2, x2 ^ x1, z2) (Bennett et al. PRA 54, 3824 (1996)); the results
// agree iff x2 = 0 (before readout flips). Returns pair 1.
QW_HD inline BellOutcome bilateral_cnot_keep(BellDiagonal a, BellDiagonal b, LocalNoise n) {
  double joint[4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) joint[i][j] = 0;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      const int x1 = frame_x(i), z1 = frame_z(i), x2 = frame_x(j), z2 = frame_z(j);
      joint[frame_index(x1, z1 ^ z2)][frame_index(x2 ^ x1, z2)] += a[i] * b[j];
    }
  }
  // DEPOLARIZE2(p) on (A1, A2), then on (B1, B2): each Pauli (e1, e2) shifts (k1, k2) by
  // (e1, e2), so one application is (1 - 16p/15) joint + (p/15) * sum(joint) everywhere.
  const double p2 = n.two_qubit_depolarising;
  for (int side = 0; side < 2; ++side) {
    double s = 0;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) s += joint[i][j];
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) joint[i][j] = (1 - 16 * p2 / 15) * joint[i][j] + p2 / 15 * s;
  }
  const double r = n.readout_error, parity_flip = 2 * r * (1 - r);
  BellOutcome out{{0, 0, 0, 0}, 0};
  for (int i = 0; i < 4; ++i) {
    double s = 0;
    for (int j = 0; j < 4; ++j) s += joint[i][j] * (frame_x(j) ? parity_flip : 1 - parity_flip);
    out.state[i] = s;
    out.probability += s;
  }
  if (out.probability > 0) {
    for (int i = 0; i < 4; ++i) out.state[i] /= out.probability;
  }
  return out;
}
}  // namespace link_detail

// DEJMPS (Deutsch et al. PRL 77, 2818 (1996), Eq. (7)): local rotations, bilateral CNOT, measure
// pair 2, keep pair 1 when the results agree. Noise-free, with A, B, C, D the Phi+, Psi-, Psi+,
// Phi- coefficients of identical inputs: N = (A + B)^2 + (C + D)^2, A' = (A^2 + B^2)/N,
// B' = 2CD/N, C' = (C^2 + D^2)/N, D' = 2AB/N; the success probability is N. The output is not
// rotated back (the next round rotates again). Symmetric in its two inputs.
QW_HD inline BellOutcome dejmps(BellDiagonal a, BellDiagonal b, LocalNoise noise = {}) {
  return link_detail::bilateral_cnot_keep(link_detail::dejmps_rotate(a),
                                          link_detail::dejmps_rotate(b), noise);
}

// BBPSSW (Bennett et al. PRL 76, 722 (1996)), in the Phi+ convention: both inputs twirled to
// Werner states, bilateral CNOT, keep on agreement, output twirled. For equal Werner inputs
// F' = (F^2 + e^2)/(F^2 + 2Fe + 5e^2), e = (1 - F)/3, success probability F^2 + 2Fe + 5e^2.
QW_HD inline BellOutcome bbpssw(BellDiagonal a, BellDiagonal b, LocalNoise noise = {}) {
  BellOutcome o = link_detail::bilateral_cnot_keep(werner_twirl(a), werner_twirl(b), noise);
  o.state = werner_twirl(o.state);
  return o;
}

// Entanglement pumping (Duer et al. PRA 59, 169 (1999); Duer & Briegel 2007, Sec. 5.3): one DEJMPS
// round in which the second pair is always a fresh elementary pair. Iterated, the fidelity
// saturates below 1 for a mixed elementary pair.
QW_HD inline BellOutcome pump(BellDiagonal kept, BellDiagonal elementary, LocalNoise noise = {}) {
  return dejmps(kept, elementary, noise);
}

// ---- Memory decoherence ---------------------------------------------------------------------

// Amplitude-damping probability for t seconds: gamma = 1 - exp(-t/T1); T1 = inf gives 0.
QW_HD inline double memory_gamma(double t_s, double t1_s) { return -det::expm1(-t_s / t1_s); }
// Phase-damping probability such that AD(gamma) then PD(lambda) decays the coherence by
// exp(-t/T2): lambda = 1 - exp(-2t/T2 + t/T1). Needs T2 <= 2 T1 (checked by the caller).
QW_HD inline double memory_lambda(double t_s, double t1_s, double t2_s) {
  return -det::expm1(-t_s * (2 / t2_s - 1 / t1_s));
}

// Pauli twirl of PD(lambda) o AD(gamma) (docs/physics.md): with s = sqrt(1-gamma) sqrt(1-lambda)
// = exp(-t/T2), p_X = p_Y = gamma/4, p_I = 1/2 - gamma/4 + s/2, p_Z = 1/2 - gamma/4 - s/2.
QW_HD inline PauliProbs memory_pauli_twirl(double t_s, double t1_s, double t2_s) {
  const double g = memory_gamma(t_s, t1_s);
  const double s = sqrt(1 - g) * sqrt(1 - memory_lambda(t_s, t1_s, t2_s));
  return PauliProbs{{0.5 - g / 4 + s / 2, g / 4, g / 4, 0.5 - g / 4 - s / 2}};
}

// One qubit of a Bell-diagonal pair waits t seconds, twirled. For a Bell-diagonal input this is
// exactly the Bell-diagonal part of the untwirled 4x4 map (docs/physics.md), on either qubit.
QW_HD inline BellDiagonal decohere_twirled(BellDiagonal a, double t_s, double t1_s, double t2_s) {
  return apply_pauli_channel(a, memory_pauli_twirl(t_s, t1_s, t2_s));
}

// ---- Two-qubit density matrices ---------------------------------------------------------------

// <Phi+-|rho|Phi+-> = (rho00 + rho33 +- 2 Re rho03)/2, <Psi+-|rho|Psi+-> = (rho11 + rho22 +- 2 Re
// rho12)/2 (index 1 = A in |1>, B in |0>). Dropping everything else is the Bell-diagonal twirl.
QW_HD constexpr BellDiagonal bell_diagonal(const Pair4& p) {
  const double phi = p.at(0, 0).re + p.at(3, 3).re, phi_c = p.at(0, 3).re + p.at(3, 0).re;
  const double psi = p.at(1, 1).re + p.at(2, 2).re, psi_c = p.at(1, 2).re + p.at(2, 1).re;
  return {(phi + phi_c) / 2, (psi + psi_c) / 2, (psi - psi_c) / 2, (phi - phi_c) / 2};
}

QW_HD constexpr Pair4 to_pair4(BellDiagonal a) {
  Pair4 p{};
  p.at(0, 0) = p.at(3, 3) = {(a.phi_plus + a.phi_minus) / 2, 0};
  p.at(0, 3) = p.at(3, 0) = {(a.phi_plus - a.phi_minus) / 2, 0};
  p.at(1, 1) = p.at(2, 2) = {(a.psi_plus + a.psi_minus) / 2, 0};
  p.at(1, 2) = p.at(2, 1) = {(a.psi_plus - a.psi_minus) / 2, 0};
  return p;
}

QW_HD constexpr double trace(const Pair4& p) {
  return p.at(0, 0).re + p.at(1, 1).re + p.at(2, 2).re + p.at(3, 3).re;
}

// rho -> sum_k (K_k on `qubit`) rho (K_k on `qubit`)^dagger for n_kraus 2x2 Kraus operators
// (row-major m[row * 2 + col]); qubit 0 is A, 1 is B.
QW_HD inline Pair4 apply_kraus1(const Pair4& in, int qubit, const Mat2d* kraus, int n_kraus) {
  Pair4 out{};
  const int bit = qubit == 0 ? 1 : 2;
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) {
      const int rq = (r & bit) ? 1 : 0, cq = (c & bit) ? 1 : 0;
      cplx64 s{0, 0};
      for (int k = 0; k < n_kraus; ++k) {
        const cplx64* m = kraus[k].m;
        for (int a = 0; a < 2; ++a) {
          for (int b = 0; b < 2; ++b) {
            const int rr = (r & ~bit) | (a ? bit : 0), cc = (c & ~bit) | (b ? bit : 0);
            s = s + m[rq * 2 + a] * in.at(rr, cc) * conj(m[cq * 2 + b]);
          }
        }
      }
      out.at(r, c) = s;
    }
  }
  return out;
}

// Amplitude damping AD(gamma): K0 = diag(1, sqrt(1-gamma)), K1 = sqrt(gamma)|0><1|.
QW_HD inline Pair4 amplitude_damp(const Pair4& p, int qubit, double gamma) {
  const Mat2d k[2] = {{{{1, 0}, {0, 0}, {0, 0}, {sqrt(1 - gamma), 0}}},
                      {{{0, 0}, {sqrt(gamma), 0}, {0, 0}, {0, 0}}}};
  return apply_kraus1(p, qubit, k, 2);
}

// Phase damping PD(lambda): K0 = diag(1, sqrt(1-lambda)), K1 = diag(0, sqrt(lambda)).
QW_HD inline Pair4 phase_damp(const Pair4& p, int qubit, double lambda) {
  const Mat2d k[2] = {{{{1, 0}, {0, 0}, {0, 0}, {sqrt(1 - lambda), 0}}},
                      {{{0, 0}, {0, 0}, {0, 0}, {sqrt(lambda), 0}}}};
  return apply_kraus1(p, qubit, k, 2);
}

// One qubit of a stored pair waits t seconds in a memory with T1, T2 (T2 <= 2 T1): AD(gamma) then
// PD(lambda), as IDLE does in the dense engine. Not Bell-diagonal: |1> relaxes to |0>. For |Phi+>
// with one qubit waiting: F = (1 + exp(-t/T1))/4 + exp(-t/T2)/2.
QW_HD inline Pair4 decohere(const Pair4& p, int qubit, double t_s, double t1_s, double t2_s) {
  return phase_damp(amplitude_damp(p, qubit, memory_gamma(t_s, t1_s)), qubit,
                    memory_lambda(t_s, t1_s, t2_s));
}

// Pauli sigma_k (I, X, Y, Z; the BellDiagonal indices) as a 2x2 matrix, row-major.
QW_HD constexpr Mat2d pauli_matrix(int k) {
  return k == 0   ? Mat2d{{{1, 0}, {0, 0}, {0, 0}, {1, 0}}}
         : k == 1 ? Mat2d{{{0, 0}, {1, 0}, {1, 0}, {0, 0}}}
         : k == 2 ? Mat2d{{{0, 0}, {0, -1}, {0, 1}, {0, 0}}}
                  : Mat2d{{{1, 0}, {0, 0}, {0, 0}, {-1, 0}}};
}

// A Pauli channel on one qubit of a 4x4 pair: rho -> sum_k p_k sigma_k rho sigma_k.
QW_HD inline Pair4 apply_pauli_channel(const Pair4& a, int qubit, PauliProbs q) {
  Mat2d k[4];
  int n = 0;
  for (int i = 0; i < 4; ++i) {
    if (!(q.p[i] > 0)) continue;
    const double s = sqrt(q.p[i]);
    const Mat2d m = pauli_matrix(i);
    for (int j = 0; j < 4; ++j) k[n].m[j] = s * m.m[j];
    ++n;
  }
  return apply_kraus1(a, qubit, k, n);
}

// Exact entanglement swapping of two general pairs (A, B) = ab and (C, D) = cd: a Bell measurement
// on (B, C) with outcome |beta_m> = (I (x) sigma_m)|Phi+>, then sigma_m on D, summed over m; the
// output is the pair (A, D) (qubit A = bit 0, D = bit 1). Per outcome the operator (A,B,C,D) ->
// (A,D) is I_A (x) T_m with T_m(e; b, c, d) = conj(sigma_m[c][b]) sigma_m[e][d] / sqrt2: for
// |Phi+>|Phi+> outcome m leaves (I (x) sigma_m*)|Phi+>, which sigma_m undoes up to a phase. The
// local noise is the Bell-diagonal swap's, exactly: a Pauli on B or C before a perfect Bell
// measurement relabels the outcome (sigma_e on C maps beta_m to beta_(m xor e)), and a flipped
// parity bit picks the wrong correction, so both leave the Pauli channel bell_measurement_noise on
// D whatever the inputs (docs/physics.md). Trace preserving; for Bell-diagonal inputs it equals
// swap().
QW_HD inline Pair4 swap4(const Pair4& ab, const Pair4& cd, LocalNoise noise = {}) {
  Pair4 out{};
  for (int m = 0; m < 4; ++m) {
    const Mat2d s = pauli_matrix(m);
    // T[e][b * 4 + c * 2 + d], the 1/sqrt2 of both sides folded into the final 1/2.
    cplx64 T[2][8];
    for (int e = 0; e < 2; ++e)
      for (int b = 0; b < 2; ++b)
        for (int c = 0; c < 2; ++c)
          for (int d = 0; d < 2; ++d) T[e][b * 4 + c * 2 + d] = conj(s.m[c * 2 + b]) * s.m[e * 2 + d];
    for (int a = 0; a < 2; ++a) {
      for (int a2 = 0; a2 < 2; ++a2) {
        for (int e = 0; e < 2; ++e) {
          for (int e2 = 0; e2 < 2; ++e2) {
            cplx64 sum{0, 0};
            for (int x = 0; x < 8; ++x) {
              if (T[e][x].re == 0 && T[e][x].im == 0) continue;
              const int b = x >> 2, c = (x >> 1) & 1, d = x & 1;
              for (int y = 0; y < 8; ++y) {
                if (T[e2][y].re == 0 && T[e2][y].im == 0) continue;
                const int b2 = y >> 2, c2 = (y >> 1) & 1, d2 = y & 1;
                sum = sum + T[e][x] * ab.at(a + 2 * b, a2 + 2 * b2) * cd.at(c + 2 * d, c2 + 2 * d2) *
                                conj(T[e2][y]);
              }
            }
            out.at(a + 2 * e, a2 + 2 * e2) = out.at(a + 2 * e, a2 + 2 * e2) + 0.5 * sum;
          }
        }
      }
    }
  }
  return apply_pauli_channel(out, 1, bell_measurement_noise(noise));
}

// ---- Purification of two full 4x4 pairs ------------------------------------------------------

// A map on 4x4 pairs that may fail: the normalised kept pair and the probability of keeping it.
struct Pair4Outcome {
  Pair4 state;
  double probability = 1;
};

// rho -> (U_A (x) U_B) rho (U_A (x) U_B)^dagger.
QW_HD inline Pair4 apply_local(const Pair4& p, const Mat2d& ua, const Mat2d& ub) {
  return apply_kraus1(apply_kraus1(p, 0, &ua, 1), 1, &ub, 1);
}

// Rx(t) = exp(-i t X / 2) at t = +-pi/2: (I -+ i X)/sqrt2.
QW_HD inline Mat2d rx_quarter_turn(bool positive) {
  const double h = 0.70710678118654752440, s = positive ? -h : h;
  return Mat2d{{{h, 0}, {0, s}, {0, s}, {h, 0}}};
}

namespace link_detail {
// The bilateral CNOT step of bilateral_cnot_keep on two general pairs (same circuit, same noise).
// After CNOT A1 -> A2 and B1 -> B2, the measured bits are mA = a1 ^ a2, mB = b1 ^ b2, so the block
// of pair 1 for the outcome m = mA + 2 mB (both measured qubits projected, traced out) is
// M_m(r, c) = rho1(r, c) rho2(r ^ m, c ^ m), with r, c pair indices (bit 0 = A, bit 1 = B).
// DEPOLARIZE2(p) on (A1, A2) is the fully depolarising channel with probability q = 16 p / 15: it
// replaces M_m by (I_A / 4) (x) tau_B(mB), tau_B(mB) = sum_mA tr_A M_(mA + 2 mB); likewise on
// (B1, B2), and both together leave I / 16. A readout flip on either measured bit turns agreement
// into disagreement and back: an outcome with mA = mB is kept with 1 - f, the others with
// f = 2 r (1 - r). Deterministic; the kept pair normalised, with its probability.
QW_HD inline Pair4Outcome bilateral_cnot_keep4(const Pair4& p1, const Pair4& p2, LocalNoise n) {
  const double q = 16 * n.two_qubit_depolarising / 15, r = n.readout_error, f = 2 * r * (1 - r);
  Pair4 out{};
  cplx64 tau[2][4] = {}, omega[2][4] = {};  // [mB or mA][2x2 row-major]
  for (int m = 0; m < 4; ++m) {
    const int ma = m & 1, mb = m >> 1;
    const double w = ma == mb ? 1 - f : f;
    for (int row = 0; row < 4; ++row) {
      for (int col = 0; col < 4; ++col) {
        const cplx64 v = p1.at(row, col) * p2.at(row ^ m, col ^ m);
        out.at(row, col) = out.at(row, col) + (w * (1 - q) * (1 - q)) * v;
        // tr_A: rows/cols with equal A bits feed tau[mB][b, b']; tr_B likewise for omega[mA].
        if ((row & 1) == (col & 1)) tau[mb][(row >> 1) * 2 + (col >> 1)] = tau[mb][(row >> 1) * 2 + (col >> 1)] + v;
        if ((row >> 1) == (col >> 1)) omega[ma][(row & 1) * 2 + (col & 1)] = omega[ma][(row & 1) * 2 + (col & 1)] + v;
      }
    }
  }
  for (int m = 0; m < 4; ++m) {
    const int ma = m & 1, mb = m >> 1;
    const double w = ma == mb ? 1 - f : f;
    for (int row = 0; row < 4; ++row) {
      for (int col = 0; col < 4; ++col) {
        cplx64 v{0, 0};
        // (I_A / 4) (x) tau_B(mB) (tau summed over mA already), and omega_A(mA) (x) I_B / 4.
        if ((row & 1) == (col & 1)) v = v + 0.25 * tau[mb][(row >> 1) * 2 + (col >> 1)];
        if ((row >> 1) == (col >> 1)) v = v + 0.25 * omega[ma][(row & 1) * 2 + (col & 1)];
        out.at(row, col) = out.at(row, col) + (w * q * (1 - q)) * v;
      }
    }
  }
  // Both sides depolarised: I_{A1 B1} / 16 for each outcome, the total trace being 1.
  const double both = q * q * (2 * (1 - f) + 2 * f) / 16;
  for (int k = 0; k < 4; ++k) out.at(k, k) = out.at(k, k) + cplx64{both, 0};
  const double prob = trace(out);
  Pair4Outcome o{out, prob};
  if (prob > 0) {
    for (auto& v : o.state.rho) v = (1 / prob) * v;
  }
  return o;
}
}  // namespace link_detail

// DEJMPS on two general pairs: the local rotations Rx(pi/2) on A's qubits and Rx(-pi/2) on B's,
// then the bilateral CNOT, pair 2 measured, pair 1 kept when the results agree (not rotated back,
// as dejmps()). For Bell-diagonal inputs the kept pair equals to_pair4(dejmps(...).state).
QW_HD inline Pair4Outcome dejmps4(const Pair4& a, const Pair4& b, LocalNoise noise = {}) {
  const Mat2d ua = rx_quarter_turn(true), ub = rx_quarter_turn(false);
  return link_detail::bilateral_cnot_keep4(apply_local(a, ua, ub), apply_local(b, ua, ub), noise);
}

// BBPSSW on two general pairs: its U (x) U* twirls leave Werner states of the inputs' fidelities
// (the Phi+ weight, which the twirl keeps), so the map is bbpssw() on those, the output a Werner
// state. Exact for any inputs.
QW_HD inline Pair4Outcome bbpssw4(const Pair4& a, const Pair4& b, LocalNoise noise = {}) {
  const BellOutcome o = bbpssw(bell_diagonal(a), bell_diagonal(b), noise);
  return {to_pair4(o.state), o.probability};
}

// A stored pair is discarded once it has waited longer than the cut-off time (cutoff_s = inf:
// never). The engine calls this before using a pair.
QW_HD constexpr bool within_cutoff(double waited_s, double cutoff_s) {
  return waited_s <= cutoff_s;
}

}  // namespace qw
