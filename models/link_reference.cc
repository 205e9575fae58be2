// Dense-matrix circuits for the link-map tests (models/link_reference.h). Everything is a full
// 2^n x 2^n matrix (n = 4): gates are embedded by Kronecker products and applied as O rho O^dagger.
#include "models/link_reference.h"

#include <complex>
#include <vector>

namespace qw::models::reference {
namespace {

using cd = std::complex<double>;
constexpr int kQubits = 4;
constexpr int kDim = 1 << kQubits;

struct Dense {
  std::vector<cd> m = std::vector<cd>(kDim * kDim, cd(0, 0));
  cd& operator()(int r, int c) { return m[r * kDim + c]; }
  cd operator()(int r, int c) const { return m[r * kDim + c]; }
};

Dense multiply(const Dense& a, const Dense& b) {
  Dense c;
  for (int i = 0; i < kDim; ++i)
    for (int k = 0; k < kDim; ++k)
      for (int j = 0; j < kDim; ++j) c(i, j) += a(i, k) * b(k, j);
  return c;
}

Dense adjoint(const Dense& a) {
  Dense c;
  for (int i = 0; i < kDim; ++i)
    for (int j = 0; j < kDim; ++j) c(i, j) = std::conj(a(j, i));
  return c;
}

Dense conjugate_by(const Dense& op, const Dense& rho) {
  return multiply(multiply(op, rho), adjoint(op));
}

Dense add(const Dense& a, const Dense& b, double wa, double wb) {
  Dense c;
  for (int i = 0; i < kDim * kDim; ++i) c.m[i] = wa * a.m[i] + wb * b.m[i];
  return c;
}

// u acting on qubit q (bit q of the index) of kQubits qubits.
Dense embed1(const cd u[2][2], int q) {
  Dense o;
  for (int r = 0; r < kDim; ++r)
    for (int c = 0; c < kDim; ++c) {
      if ((r & ~(1 << q)) != (c & ~(1 << q))) continue;
      o(r, c) = u[(r >> q) & 1][(c >> q) & 1];
    }
  return o;
}

Dense cnot(int control, int target) {
  Dense o;
  for (int c = 0; c < kDim; ++c) {
    const int r = ((c >> control) & 1) ? c ^ (1 << target) : c;
    o(r, c) = 1;
  }
  return o;
}

const cd kPauli[4][2][2] = {
    {{1, 0}, {0, 1}},
    {{0, 1}, {1, 0}},
    {{0, cd(0, -1)}, {cd(0, 1), 0}},
    {{1, 0}, {0, -1}},
};

Dense rx(double theta, int q) {
  const double c = std::cos(theta / 2), s = std::sin(theta / 2);
  const cd u[2][2] = {{c, cd(0, -s)}, {cd(0, -s), c}};
  return embed1(u, q);
}

Dense hadamard(int q) {
  const double h = 1 / std::sqrt(2.0);
  const cd u[2][2] = {{h, h}, {h, -h}};
  return embed1(u, q);
}

// Stim's DEPOLARIZE2(p) on qubits (q1, q2): each of the 15 non-identity Paulis with p/15.
Dense depolarise2(const Dense& rho, int q1, int q2, double p) {
  Dense out = add(rho, rho, 1 - p, 0);
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b) {
      if (a == 0 && b == 0) continue;
      const Dense op = multiply(embed1(kPauli[a], q1), embed1(kPauli[b], q2));
      out = add(out, conjugate_by(op, rho), 1, p / 15);
    }
  return out;
}

// Projector onto outcome `bit` of a Z measurement of qubit q.
Dense projector(int q, int bit) {
  Dense o;
  for (int i = 0; i < kDim; ++i)
    if (((i >> q) & 1) == bit) o(i, i) = 1;
  return o;
}

// rho1 on qubits (q0, q1) = bits (0, 1), rho2 on bits (2, 3).
Dense product(const Pair4& rho1, const Pair4& rho2) {
  Dense o;
  for (int r = 0; r < kDim; ++r)
    for (int c = 0; c < kDim; ++c) {
      const cplx64 x = rho1.at(r & 3, c & 3), y = rho2.at(r >> 2, c >> 2);
      o(r, c) = cd(x.re, x.im) * cd(y.re, y.im);
    }
  return o;
}

// Partial trace keeping qubits (keep0, keep1) as bits (0, 1) of the result.
Pair4 reduce(const Dense& rho, int keep0, int keep1) {
  Pair4 out{};
  int others[2], n = 0;
  for (int q = 0; q < kQubits; ++q)
    if (q != keep0 && q != keep1) others[n++] = q;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      cd s = 0;
      for (int e = 0; e < 4; ++e) {
        const int env = (((e >> 0) & 1) << others[0]) | (((e >> 1) & 1) << others[1]);
        const int rr = env | ((r & 1) << keep0) | (((r >> 1) & 1) << keep1);
        const int cc = env | ((c & 1) << keep0) | (((c >> 1) & 1) << keep1);
        s += rho(rr, cc);
      }
      out.at(r, c) = {s.real(), s.imag()};
    }
  return out;
}

double trace(const Dense& rho) {
  double t = 0;
  for (int i = 0; i < kDim; ++i) t += rho(i, i).real();
  return t;
}

CircuitOutcome normalise(Pair4 p, double probability) {
  CircuitOutcome o;
  o.probability = probability;
  if (probability > 0)
    for (auto& x : p.rho) x = {x.re / probability, x.im / probability};
  o.state = p;
  return o;
}

Pair4 werner_pair(double f) {
  const double e = (1 - f) / 3;
  // F |Phi+><Phi+| + e (I - |Phi+><Phi+|), written out in the computational basis.
  Pair4 p{};
  for (int i = 0; i < 4; ++i) p.at(i, i) = {e, 0};
  p.at(0, 0) = p.at(3, 3) = {e + (f - e) / 2, 0};
  p.at(0, 3) = p.at(3, 0) = {(f - e) / 2, 0};
  return p;
}

double phi_plus_fidelity(const Pair4& p) {
  return (p.at(0, 0).re + p.at(3, 3).re + p.at(0, 3).re + p.at(3, 0).re) / 2;
}

}  // namespace

CircuitOutcome bilateral_cnot_circuit(const Pair4& pair1, const Pair4& pair2, LocalNoise noise,
                                      bool dejmps_rotations) {
  // Qubits: A1 = 0, B1 = 1, A2 = 2, B2 = 3.
  Dense rho = product(pair1, pair2);
  const double pi = std::acos(-1.0);
  if (dejmps_rotations) {
    rho = conjugate_by(multiply(rx(pi / 2, 0), rx(pi / 2, 2)), rho);
    rho = conjugate_by(multiply(rx(-pi / 2, 1), rx(-pi / 2, 3)), rho);
  }
  rho = depolarise2(conjugate_by(cnot(0, 2), rho), 0, 2, noise.two_qubit_depolarising);
  rho = depolarise2(conjugate_by(cnot(1, 3), rho), 1, 3, noise.two_qubit_depolarising);
  const double r = noise.readout_error;
  Dense kept = add(rho, rho, 0, 0);
  for (int ma = 0; ma < 2; ++ma)
    for (int mb = 0; mb < 2; ++mb) {
      const Dense proj = multiply(projector(2, ma), projector(3, mb));
      const double agree = ma == mb ? (1 - r) * (1 - r) + r * r : 2 * r * (1 - r);
      kept = add(kept, conjugate_by(proj, rho), 1, agree);
    }
  return normalise(reduce(kept, 0, 1), trace(kept));
}

CircuitOutcome dejmps_circuit(const Pair4& pair1, const Pair4& pair2, LocalNoise noise) {
  return bilateral_cnot_circuit(pair1, pair2, noise, true);
}

CircuitOutcome bbpssw_circuit(const Pair4& pair1, const Pair4& pair2, LocalNoise noise) {
  CircuitOutcome o = bilateral_cnot_circuit(werner_pair(phi_plus_fidelity(pair1)),
                                            werner_pair(phi_plus_fidelity(pair2)), noise, false);
  o.state = werner_pair(phi_plus_fidelity(o.state));
  return o;
}

CircuitOutcome swap_circuit(const Pair4& pair1, const Pair4& pair2, LocalNoise noise) {
  // Qubits: A = 0, B1 = 1, B2 = 2, C = 3.
  Dense rho = product(pair1, pair2);
  rho = depolarise2(conjugate_by(cnot(1, 2), rho), 1, 2, noise.two_qubit_depolarising);
  rho = conjugate_by(hadamard(1), rho);
  const double r = noise.readout_error;
  Dense out = add(rho, rho, 0, 0);
  for (int m1 = 0; m1 < 2; ++m1)
    for (int m2 = 0; m2 < 2; ++m2) {
      const Dense measured = conjugate_by(multiply(projector(1, m1), projector(2, m2)), rho);
      for (int f1 = 0; f1 < 2; ++f1)
        for (int f2 = 0; f2 < 2; ++f2) {
          const double w = (f1 ? r : 1 - r) * (f2 ? r : 1 - r);
          const int r1 = m1 ^ f1, r2 = m2 ^ f2;
          const Dense fix = multiply(embed1(kPauli[r2 ? 1 : 0], 3), embed1(kPauli[r1 ? 3 : 0], 3));
          out = add(out, conjugate_by(fix, measured), 1, w);
        }
    }
  return normalise(reduce(out, 0, 3), trace(out));
}

}  // namespace qw::models::reference
