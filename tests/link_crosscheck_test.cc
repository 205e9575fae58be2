// Cross-engine check of the purification maps: the dense density-matrix engine (qw::run_dense,
// exact channels) runs DEJMPS and BBPSSW as a 4-qubit circuit, and the kept pair with its success
// probability is compared with the closed-form maps (kernels/link_maps.h: the Bell-diagonal maps and
// dejmps4 on general pairs, the link engine's 4x4 path) and with the explicit 4x4 reference
// circuits (models/link_reference.h), to 1e-10 (1e-5 in a single-precision build).
//
// Circuit, qubits A1 = 0, B1 = 1 (pair 1, kept) and A2 = 2, B2 = 3 (pair 2, measured):
//   * each pair: H A; CX A B (|Phi+>), then PAULI_CHANNEL_1(pX, pY, pZ) on A, which makes the
//     Bell-diagonal state (1 - pX - pY - pZ, pX, pY, pZ) in the order (Phi+, Psi+, Psi-, Phi-): the
//     Pauli sigma_k on either qubit takes Phi+ to Bell state k (kernels/link_maps.h). A Werner pair
//     of fidelity F is DEPOLARIZE1(1 - F) (X, Y, Z each (1 - F)/3: exactly (1 - F)/3 on each of the
//     three other Bell states);
//   * DEJMPS only: RX(pi/2) on A1, A2 and RX(-pi/2) on B1, B2 (RX(t) = exp(-i t X / 2), as in
//     models/link_reference.cc);
//   * CX A1 A2, DEPOLARIZE2(p2) A1 A2, CX B1 B2, DEPOLARIZE2(p2) B1 B2;
//   * X_ERROR(r) on A2 and B2: a bit flip just before a Z measurement is the readout error.
// The circuit stops there (no measurement); with keep_state the engine returns the exact 16x16
// density matrix, and the test projects it onto "A2 and B2 agree in Z" (basis indices with bit 2 =
// bit 3), traces out A2, B2 and normalises: the trace is the success probability.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "host/dense_engine.h"
#include "host/parse.h"
#include "kernels/link_maps.h"
#include "models/link_reference.h"
#include "tests/tolerance.h"

namespace qw {
namespace {

constexpr double kTol = qw::testing::tol(1e-10);

std::string num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

// A Bell-diagonal pair on (a, b) from |Phi+> and a Pauli channel on a.
std::string pair_circuit(int a, int b, BellDiagonal s) {
  return "H " + std::to_string(a) + "\nCX " + std::to_string(a) + " " + std::to_string(b) +
         "\nPAULI_CHANNEL_1(" + num(s.psi_plus) + ", " + num(s.psi_minus) + ", " + num(s.phi_minus) +
         ") " + std::to_string(a) + "\n";
}

std::string purification_steps(LocalNoise n, bool dejmps_rotations);

std::string purification_circuit(BellDiagonal p1, BellDiagonal p2, LocalNoise n, bool dejmps_rotations,
                                  bool werner_via_depolarize1 = false) {
  std::string c;
  if (werner_via_depolarize1) {
    c = "H 0\nCX 0 1\nDEPOLARIZE1(" + num(1 - p1.phi_plus) + ") 0\nH 2\nCX 2 3\nDEPOLARIZE1(" +
        num(1 - p2.phi_plus) + ") 2\n";
  } else {
    c = pair_circuit(0, 1, p1) + pair_circuit(2, 3, p2);
  }
  return c + purification_steps(n, dejmps_rotations);
}

// The protocol's steps after the pairs are made (qubits 0, 1 and 2, 3).
std::string purification_steps(LocalNoise n, bool dejmps_rotations) {
  std::string c;
  const double pi = std::acos(-1.0);
  if (dejmps_rotations) c += "RX(" + num(pi / 2) + ") 0 2\nRX(" + num(-pi / 2) + ") 1 3\n";
  c += "CX 0 2\n";
  if (n.two_qubit_depolarising > 0) c += "DEPOLARIZE2(" + num(n.two_qubit_depolarising) + ") 0 2\n";
  c += "CX 1 3\n";
  if (n.two_qubit_depolarising > 0) c += "DEPOLARIZE2(" + num(n.two_qubit_depolarising) + ") 1 3\n";
  if (n.readout_error > 0) c += "X_ERROR(" + num(n.readout_error) + ") 2 3\n";
  return c;
}

struct Kept {
  Pair4 state;
  double probability = 0;
};

// Runs the circuit on the density-matrix engine and post-selects on agreement of qubits 2 and 3.
Kept run_and_keep(const std::string& text) {
  const Circuit circuit = parse_stim(text, "link_crosscheck.stim");
  DenseOptions o;
  o.representation = Representation::DensityMatrix;
  o.keep_state = true;
  o.shots = 1;
  const DenseResult r = run_dense(circuit, o);
  EXPECT_EQ(r.num_qubits, 4u);
  EXPECT_EQ(r.state.size(), 256u);
  Kept k;
  if (r.state.size() != 256) return k;
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) {
      double re = 0, im = 0;
      for (int m : {0, 12}) {  // A2 = B2 = 0, A2 = B2 = 1
        const cplx v = r.state[static_cast<std::size_t>((a | m) * 16 + (b | m))];
        re += static_cast<double>(v.re);
        im += static_cast<double>(v.im);
      }
      k.state.at(a, b) = {re, im};
    }
  }
  k.probability = trace(k.state);
  for (auto& v : k.state.rho) v = {v.re / k.probability, v.im / k.probability};
  return k;
}

void expect_pair_near(const Pair4& a, const Pair4& b, const std::string& what) {
  for (int i = 0; i < 16; ++i) {
    EXPECT_NEAR(a.rho[i].re, b.rho[i].re, kTol) << what << " entry " << i;
    EXPECT_NEAR(a.rho[i].im, b.rho[i].im, kTol) << what << " entry " << i;
  }
}

void expect_bell_near(BellDiagonal a, BellDiagonal b, const std::string& what) {
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(a[k], b[k], kTol) << what << " coefficient " << k;
}

struct Case {
  BellDiagonal p1, p2;
  LocalNoise noise;
};

std::vector<Case> cases() {
  return {
      {werner(0.9), werner(0.9), {}},
      {werner(0.9), werner(0.75), {}},
      {BellDiagonal{0.8, 0.1, 0.06, 0.04}, BellDiagonal{0.7, 0.05, 0.1, 0.15}, {}},
      {BellDiagonal{0.8, 0.1, 0.06, 0.04}, BellDiagonal{0.8, 0.1, 0.06, 0.04}, {0.02, 0.01}},
      {werner(0.9), werner(0.85), {0.01, 0.005}},
      {BellDiagonal{0.6, 0.0, 0.1, 0.3}, BellDiagonal{0.9, 0.05, 0.0, 0.05}, {0.05, 0.03}},
  };
}

std::string label(const Case& c) {
  return "p1 = (" + num(c.p1[0]) + ", " + num(c.p1[1]) + ", " + num(c.p1[2]) + ", " + num(c.p1[3]) +
         "), p2 = (" + num(c.p2[0]) + ", " + num(c.p2[1]) + ", " + num(c.p2[2]) + ", " + num(c.p2[3]) +
         "), p2q = " + num(c.noise.two_qubit_depolarising) + ", readout = " + num(c.noise.readout_error);
}

// General (not Bell-diagonal) pairs: RY(theta) then CX, a tilt RY(0.35) on B, amplitude damping on
// A, a phase and DEPOLARIZE1 on B. The dense engine runs the preparation alone (two qubits) for each pair's 4x4
// state, then preparation and DEJMPS on four qubits; the kept pair equals dejmps4 of the two states
// (the link engine's exact path), for Bell-diagonal-free inputs and noisy local operations.
std::string general_pair(int a, int b, double theta, double gamma, double phase, double p) {
  const std::string A = std::to_string(a), B = std::to_string(b);
  return "RY(" + num(theta) + ") " + A + "\nCX " + A + " " + B + "\nRY(0.35) " + B + "\nAMPLITUDE_DAMP(" + num(gamma) + ") " + A +
         "\nRZ(" + num(phase) + ") " + B + "\nDEPOLARIZE1(" + num(p) + ") " + B + "\n";
}

Pair4 dense_pair(const std::string& prep) {
  DenseOptions o;
  o.representation = Representation::DensityMatrix;
  o.keep_state = true;
  const DenseResult r = run_dense(parse_stim(prep, "pair.stim"), o);
  Pair4 p;
  EXPECT_EQ(r.state.size(), 16u);
  for (std::size_t i = 0; i < 16 && i < r.state.size(); ++i) {
    p.rho[i] = {static_cast<double>(r.state[i].re), static_cast<double>(r.state[i].im)};
  }
  return p;
}

TEST(LinkCrosscheck, DejmpsOnGeneralPairsDenseEngineMatchesThe4x4Map) {
  struct Prep {
    double theta, gamma, phase, p;
  };
  const std::vector<std::pair<Prep, Prep>> preps = {
      {{1.3, 0.2, 0.3, 0.05}, {1.4, 0.1, -0.2, 0.02}},
      {{1.1, 0.4, 0.0, 0.0}, {1.1, 0.4, 0.0, 0.0}},
      {{1.5, 0.05, 0.7, 0.1}, {1.2, 0.3, 0.1, 0.0}},
  };
  for (const LocalNoise n : {LocalNoise{}, LocalNoise{0.02, 0.01}}) {
    for (const auto& [x, y] : preps) {
      const Pair4 p1 = dense_pair(general_pair(0, 1, x.theta, x.gamma, x.phase, x.p));
      const Pair4 p2 = dense_pair(general_pair(0, 1, y.theta, y.gamma, y.phase, y.p));
      const Kept dense = run_and_keep(general_pair(0, 1, x.theta, x.gamma, x.phase, x.p) +
                                      general_pair(2, 3, y.theta, y.gamma, y.phase, y.p) +
                                      purification_steps(n, true));
      const Pair4Outcome map = dejmps4(p1, p2, n);
      EXPECT_NEAR(dense.probability, map.probability, kTol);
      expect_pair_near(dense.state, map.state, "dense vs dejmps4");
      // Not Bell-diagonal: the 4x4 path carries something the twirl would drop.
      const Pair4 twirled = to_pair4(bell_diagonal(dense.state));
      double off = 0;
      for (int i = 0; i < 16; ++i) off += norm2(dense.state.rho[i] - twirled.rho[i]);
      EXPECT_GT(off, 1e-4);
    }
  }
}

// DEPOLARIZE1(1 - F) after H, CX gives exactly the Werner state of fidelity F.
TEST(LinkCrosscheck, Depolarize1MakesWernerPair) {
  const Circuit circuit = parse_stim("H 0\nCX 0 1\nDEPOLARIZE1(0.1) 0\n", "werner.stim");
  DenseOptions o;
  o.representation = Representation::DensityMatrix;
  o.keep_state = true;
  const DenseResult r = run_dense(circuit, o);
  ASSERT_EQ(r.state.size(), 16u);
  Pair4 p;
  for (int i = 0; i < 16; ++i) p.rho[i] = {static_cast<double>(r.state[i].re), static_cast<double>(r.state[i].im)};
  expect_pair_near(p, to_pair4(werner(0.9)), "Werner pair");
  expect_bell_near(bell_diagonal(p), werner(0.9), "Werner pair");
}

TEST(LinkCrosscheck, DejmpsDenseEngineMatchesMapsAndReference) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(label(c));
    const Kept dense = run_and_keep(purification_circuit(c.p1, c.p2, c.noise, true));
    const BellOutcome map = dejmps(c.p1, c.p2, c.noise);
    const models::reference::CircuitOutcome ref =
        models::reference::dejmps_circuit(to_pair4(c.p1), to_pair4(c.p2), c.noise);
    EXPECT_NEAR(dense.probability, map.probability, kTol);
    EXPECT_NEAR(dense.probability, ref.probability, kTol);
    expect_bell_near(bell_diagonal(dense.state), map.state, "dense vs dejmps map");
    expect_pair_near(dense.state, ref.state, "dense vs reference circuit");
    // The output of Bell-diagonal inputs stays Bell-diagonal: nothing outside the twirl.
    expect_pair_near(dense.state, to_pair4(bell_diagonal(dense.state)), "dense output is Bell-diagonal");
  }
}

// Noise-free DEJMPS on identical inputs against Deutsch et al. Eq. (7), written out here.
TEST(LinkCrosscheck, DejmpsDenseEngineMatchesDeutschEq7) {
  const BellDiagonal in{0.8, 0.1, 0.06, 0.04};
  const Kept dense = run_and_keep(purification_circuit(in, in, {}, true));
  const double A = in.phi_plus, B = in.psi_minus, C = in.psi_plus, D = in.phi_minus;
  const double N = (A + B) * (A + B) + (C + D) * (C + D);
  EXPECT_NEAR(dense.probability, N, kTol);
  const BellDiagonal out = bell_diagonal(dense.state);
  EXPECT_NEAR(out.phi_plus, (A * A + B * B) / N, kTol);
  EXPECT_NEAR(out.psi_minus, 2 * C * D / N, kTol);
  EXPECT_NEAR(out.psi_plus, (C * C + D * D) / N, kTol);
  EXPECT_NEAR(out.phi_minus, 2 * A * B / N, kTol);
}

// BBPSSW: Werner inputs (the twirl of the inputs is the identity on them) made with DEPOLARIZE1,
// no rotations, the kept pair twirled to a Werner state of its fidelity.
TEST(LinkCrosscheck, BbpsswDenseEngineMatchesMapsAndReference) {
  const std::vector<Case> werner_cases = {
      {werner(0.9), werner(0.9), {}},
      {werner(0.8), werner(0.7), {}},
      {werner(0.9), werner(0.85), {0.01, 0.005}},
      {werner(0.95), werner(0.6), {0.05, 0.03}},
  };
  for (const Case& c : werner_cases) {
    SCOPED_TRACE(label(c));
    const Kept dense = run_and_keep(purification_circuit(c.p1, c.p2, c.noise, false, true));
    const BellOutcome map = bbpssw(c.p1, c.p2, c.noise);
    const models::reference::CircuitOutcome ref =
        models::reference::bbpssw_circuit(to_pair4(c.p1), to_pair4(c.p2), c.noise);
    const BellDiagonal twirled = werner_twirl(bell_diagonal(dense.state));
    EXPECT_NEAR(dense.probability, map.probability, kTol);
    EXPECT_NEAR(dense.probability, ref.probability, kTol);
    expect_bell_near(twirled, map.state, "dense (twirled) vs bbpssw map");
    expect_pair_near(to_pair4(twirled), ref.state, "dense (twirled) vs reference circuit");
    if (c.noise.two_qubit_depolarising == 0 && c.noise.readout_error == 0 &&
        c.p1.phi_plus == c.p2.phi_plus) {
      // Bennett et al.: F' = (F^2 + e^2)/(F^2 + 2Fe + 5e^2), e = (1 - F)/3.
      const double F = c.p1.phi_plus, e = (1 - F) / 3, N = F * F + 2 * F * e + 5 * e * e;
      EXPECT_NEAR(dense.probability, N, kTol);
      EXPECT_NEAR(twirled.phi_plus, (F * F + e * e) / N, kTol);
    }
  }
}

}  // namespace
}  // namespace qw
