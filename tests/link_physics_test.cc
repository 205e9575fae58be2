// Link physics: the Bell-diagonal maps of kernels/link_maps.h against explicit dense circuits
// (models/link_reference.cc) and closed forms from the papers; heralding, fibre, memory and bound
// formulas of models/link_physics.cc against analytic values and a brute-force enumeration.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/link_maps.h"
#include "models/link_physics.h"
#include "models/link_reference.h"

namespace qw {
namespace {

constexpr double kTol = 1e-12;

BellDiagonal random_bell_diagonal(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  return normalised(BellDiagonal{u(rng), u(rng), u(rng), u(rng)});
}

void expect_near(BellDiagonal a, BellDiagonal b, double tol = kTol) {
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(a[k], b[k], tol) << "coefficient " << k;
}

void expect_near(const Pair4& a, const Pair4& b, double tol = kTol) {
  for (int i = 0; i < 16; ++i) {
    EXPECT_NEAR(a.rho[i].re, b.rho[i].re, tol) << "element " << i;
    EXPECT_NEAR(a.rho[i].im, b.rho[i].im, tol) << "element " << i;
  }
}

// |v><v| for a 4-vector given in the computational basis (index bit 0 = qubit A).
Pair4 projector(const double v[4]) {
  Pair4 p{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) p.at(r, c) = {v[r] * v[c], 0};
  return p;
}

TEST(LinkMaps, BellStatesInHdf5Order) {
  const double s = 1 / std::sqrt(2.0);
  // |Phi+-> = (|00> +- |11>)/sqrt2: indices 0 and 3; |Psi+-> = (|01> +- |10>)/sqrt2 with |01> =
  // A in 0, B in 1 = index 2.
  const double phi_plus[4] = {s, 0, 0, s}, psi_plus[4] = {0, s, s, 0};
  const double psi_minus[4] = {0, -s, s, 0}, phi_minus[4] = {s, 0, 0, -s};
  expect_near(bell_diagonal(projector(phi_plus)), {1, 0, 0, 0});
  expect_near(bell_diagonal(projector(psi_plus)), {0, 1, 0, 0});
  expect_near(bell_diagonal(projector(psi_minus)), {0, 0, 1, 0});
  expect_near(bell_diagonal(projector(phi_minus)), {0, 0, 0, 1});
  expect_near(to_pair4({0, 0, 1, 0}), projector(psi_minus));
}

TEST(LinkMaps, PauliIndexTakesPhiPlusToBellState) {
  const Mat2d pauli[4] = {{{{1, 0}, {0, 0}, {0, 0}, {1, 0}}},
                          {{{0, 0}, {1, 0}, {1, 0}, {0, 0}}},
                          {{{0, 0}, {0, -1}, {0, 1}, {0, 0}}},
                          {{{1, 0}, {0, 0}, {0, 0}, {-1, 0}}}};
  for (int qubit = 0; qubit < 2; ++qubit) {
    for (int k = 0; k < 4; ++k) {
      BellDiagonal expected{0, 0, 0, 0};
      expected[k] = 1;
      const Pair4 flipped = apply_kraus1(to_pair4({1, 0, 0, 0}), qubit, &pauli[k], 1);
      expect_near(bell_diagonal(flipped), expected);
    }
  }
}

TEST(LinkMaps, Pair4RoundTripAndWerner) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 10; ++i) {
    const BellDiagonal a = random_bell_diagonal(rng);
    expect_near(bell_diagonal(to_pair4(a)), a);
    EXPECT_NEAR(trace(to_pair4(a)), 1, kTol);
  }
  expect_near(werner(0.7), {0.7, 0.1, 0.1, 0.1});
  expect_near(depolarise({1, 0, 0, 0}, 0.4), werner(1 - 0.3));
}

// ---- DEJMPS ---------------------------------------------------------------------------------

TEST(LinkMaps, DejmpsMatchesCircuitWithRotations) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 20; ++i) {
    const BellDiagonal a = random_bell_diagonal(rng), b = random_bell_diagonal(rng);
    const BellOutcome map = dejmps(a, b);
    const auto circuit = models::reference::dejmps_circuit(to_pair4(a), to_pair4(b));
    EXPECT_NEAR(map.probability, circuit.probability, kTol);
    expect_near(to_pair4(map.state), circuit.state);  // the output is Bell-diagonal too
  }
}

TEST(LinkMaps, DejmpsWithLocalNoiseMatchesCircuit) {
  std::mt19937_64 rng(3);
  const LocalNoise noise{0.03, 0.02};
  for (int i = 0; i < 10; ++i) {
    const BellDiagonal a = random_bell_diagonal(rng), b = random_bell_diagonal(rng);
    const BellOutcome map = dejmps(a, b, noise);
    const auto circuit = models::reference::dejmps_circuit(to_pair4(a), to_pair4(b), noise);
    EXPECT_NEAR(map.probability, circuit.probability, kTol);
    expect_near(to_pair4(map.state), circuit.state);
  }
}

TEST(LinkMaps, DejmpsIsEquation7OfDeutschEtAl) {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 10; ++i) {
    const BellDiagonal x = random_bell_diagonal(rng);
    // A, B, C, D = Phi+, Psi-, Psi+, Phi- (Deutsch et al. 1996).
    const double A = x.phi_plus, B = x.psi_minus, C = x.psi_plus, D = x.phi_minus;
    const double N = (A + B) * (A + B) + (C + D) * (C + D);
    const BellOutcome o = dejmps(x, x);
    EXPECT_NEAR(o.probability, N, kTol);
    EXPECT_NEAR(o.state.phi_plus, (A * A + B * B) / N, kTol);
    EXPECT_NEAR(o.state.psi_minus, 2 * C * D / N, kTol);
    EXPECT_NEAR(o.state.psi_plus, (C * C + D * D) / N, kTol);
    EXPECT_NEAR(o.state.phi_minus, 2 * A * B / N, kTol);
  }
}

TEST(LinkMaps, DejmpsWithoutRotationsIsADifferentMap) {
  std::mt19937_64 rng(5);
  const BellDiagonal a = random_bell_diagonal(rng), b = random_bell_diagonal(rng);
  const auto plain = models::reference::bilateral_cnot_circuit(to_pair4(a), to_pair4(b), {}, false);
  const BellDiagonal d = dejmps(a, b).state, p = bell_diagonal(plain.state);
  double diff = 0;
  for (int k = 0; k < 4; ++k) diff += std::abs(d[k] - p[k]);
  EXPECT_GT(diff, 1e-3);
}

TEST(LinkMaps, DejmpsRecurrenceConvergesToOne) {
  BellDiagonal x = werner(0.6);
  for (int round = 0; round < 40; ++round) x = dejmps(x, x).state;
  EXPECT_GT(x.fidelity(), 1 - 1e-9);
}

TEST(LinkMaps, PumpingSaturatesBelowOne) {
  const BellDiagonal elementary = werner(0.9);
  BellDiagonal x = elementary, previous{};
  for (int round = 0; round < 2000; ++round) {
    previous = x;
    x = pump(x, elementary).state;
  }
  EXPECT_NEAR(x.fidelity(), previous.fidelity(), 1e-13);     // a fixed point
  EXPECT_GT(x.fidelity(), elementary.fidelity() + 1e-3);     // pumping helps
  EXPECT_LT(x.fidelity(), 1 - 1e-3);                         // but saturates below 1
  expect_near(pump(x, elementary).state, x, 1e-12);
}

// ---- BBPSSW -----------------------------------------------------------------------------------

TEST(LinkMaps, BbpsswClosedFormOnWernerInputs) {
  for (double f : {0.55, 0.7, 0.85, 0.99}) {
    const double e = (1 - f) / 3;
    const double n = f * f + 2 * f * (1 - f) / 3 + 5 * e * e;
    const BellOutcome o = bbpssw(werner(f), werner(f));
    EXPECT_NEAR(o.probability, n, kTol);
    EXPECT_NEAR(o.state.fidelity(), (f * f + e * e) / n, kTol);
    expect_near(o.state, werner(o.state.fidelity()));
  }
}

TEST(LinkMaps, BbpsswMatchesCircuit) {
  std::mt19937_64 rng(6);
  for (const LocalNoise noise : {LocalNoise{}, LocalNoise{0.05, 0.01}}) {
    for (int i = 0; i < 5; ++i) {
      const BellDiagonal a = random_bell_diagonal(rng), b = random_bell_diagonal(rng);
      const BellOutcome map = bbpssw(a, b, noise);
      const auto circuit = models::reference::bbpssw_circuit(to_pair4(a), to_pair4(b), noise);
      EXPECT_NEAR(map.probability, circuit.probability, kTol);
      expect_near(to_pair4(map.state), circuit.state);
    }
  }
}

// ---- Swapping -----------------------------------------------------------------------------------

TEST(LinkMaps, SwapOfWernerPairs) {
  for (double f1 : {0.6, 0.9, 1.0})
    for (double f2 : {0.5, 0.8, 0.97}) {
      const BellOutcome o = swap(werner(f1), werner(f2));
      EXPECT_EQ(o.probability, 1);
      EXPECT_NEAR(o.state.fidelity(), f1 * f2 + (1 - f1) * (1 - f2) / 3, kTol);
    }
}

TEST(LinkMaps, SwapMatchesCircuit) {
  std::mt19937_64 rng(7);
  for (const LocalNoise noise : {LocalNoise{}, LocalNoise{0.04, 0.03}}) {
    for (int i = 0; i < 10; ++i) {
      const BellDiagonal a = random_bell_diagonal(rng), b = random_bell_diagonal(rng);
      const auto circuit = models::reference::swap_circuit(to_pair4(a), to_pair4(b), noise);
      EXPECT_NEAR(circuit.probability, 1, kTol);
      expect_near(to_pair4(swap(a, b, noise).state), circuit.state);
    }
  }
}

// ---- Memory decoherence ----------------------------------------------------------------------

TEST(LinkMaps, MemoryDecoherenceOfPhiPlus) {
  const double t1 = 2e-3, t2 = 1.5e-3;
  for (double t : {0.0, 1e-4, 1e-3, 5e-3}) {
    const double expected = (1 + std::exp(-t / t1)) / 4 + std::exp(-t / t2) / 2;
    for (int qubit = 0; qubit < 2; ++qubit) {
      const Pair4 p = decohere(to_pair4({1, 0, 0, 0}), qubit, t, t1, t2);
      EXPECT_NEAR(trace(p), 1, kTol);
      EXPECT_NEAR(bell_diagonal(p).fidelity(), expected, kTol);
      // Amplitude damping moves population from |1> to |0> of the waiting qubit.
      const int excited_other = qubit == 0 ? 2 : 1;  // waiting qubit decayed, the other in |1>
      EXPECT_NEAR(p.at(excited_other, excited_other).re, (1 - std::exp(-t / t1)) / 2, kTol);
      EXPECT_NEAR(p.at(0, 3).re, std::exp(-t / t2) / 2, kTol);
    }
  }
}

TEST(LinkMaps, MemoryDecoherenceOfBothQubits) {
  const double t1 = 1.0, t2 = 0.4, ta = 0.3, tb = 0.1;
  const Pair4 p = decohere(decohere(to_pair4({1, 0, 0, 0}), 0, ta, t1, t2), 1, tb, t1, t2);
  // |11> decays to |00> when both qubits relax: rho00 = (1 + ga gb)/2, rho11,11 = (1-ga)(1-gb)/2.
  const double ga = 1 - std::exp(-ta / t1), gb = 1 - std::exp(-tb / t1);
  const double expected = (1 + ga * gb + (1 - ga) * (1 - gb)) / 4 + std::exp(-(ta + tb) / t2) / 2;
  EXPECT_NEAR(bell_diagonal(p).fidelity(), expected, kTol);
}

TEST(LinkMaps, TwirledDecoherenceIsBellDiagonalPartOfExact) {
  std::mt19937_64 rng(8);
  const double t1 = 3e-3, t2 = 1e-3;
  for (int i = 0; i < 10; ++i) {
    const BellDiagonal a = random_bell_diagonal(rng);
    const double t = 1e-4 * (i + 1);
    for (int qubit = 0; qubit < 2; ++qubit) {
      expect_near(bell_diagonal(decohere(to_pair4(a), qubit, t, t1, t2)),
                  decohere_twirled(a, t, t1, t2));
    }
  }
  const PauliProbs q = memory_pauli_twirl(1e-3, t1, t2);
  EXPECT_NEAR(q.p[0] + q.p[1] + q.p[2] + q.p[3], 1, kTol);
  EXPECT_NEAR(q.p[1], (1 - std::exp(-1e-3 / t1)) / 4, kTol);
}

TEST(LinkMaps, NoDecayWithInfiniteCoherenceAndCutoff) {
  const double inf = std::numeric_limits<double>::infinity();
  expect_near(decohere_twirled(werner(0.9), 10.0, inf, inf), werner(0.9));
  expect_near(decohere(to_pair4(werner(0.9)), 1, 10.0, inf, inf), to_pair4(werner(0.9)));
  EXPECT_TRUE(within_cutoff(1.0, inf));
  EXPECT_TRUE(within_cutoff(1.0, 1.0));
  EXPECT_FALSE(within_cutoff(1.5, 1.0));
}

// ---- Fibre, timing, bounds -------------------------------------------------------------------

TEST(LinkPhysics, FibreTransmissivity) {
  EXPECT_EQ(models::fibre_transmissivity(0, 0.2), 1);
  EXPECT_NEAR(models::fibre_transmissivity(50, 0.2), 0.1, 1e-15);
  EXPECT_NEAR(models::fibre_transmissivity(100, 0.2), 0.01, 1e-16);
}

TEST(LinkPhysics, PlobBound) {
  EXPECT_NEAR(models::plob_bound(0.1), -std::log2(0.9), 1e-15);
  EXPECT_NEAR(models::plob_bound(0.1), 0.15200309344504995, 1e-15);
  EXPECT_EQ(models::plob_bound(0), 0);
  // Far from the source: -log2(1 - eta) ~ 1.44 eta.
  EXPECT_NEAR(models::plob_bound(1e-6) / 1e-6, 1 / std::log(2.0), 1e-6);
  EXPECT_NEAR(models::plob_bound_per_second(0.1, 1e6), 0.15200309344504995e6, 1e-6);
}

TEST(LinkPhysics, AttemptAndSignallingTimes) {
  const double c_fibre = 299792458.0 / 1.44;
  EXPECT_NEAR(models::signalling_delay_s(50, 1.44), 50e3 / c_fibre, 1e-18);
  models::LinkParams p;
  p.length_km = 50;
  p.preparation_time_s = 5e-6;
  p.scheme = models::HeraldScheme::double_click;
  EXPECT_NEAR(models::attempt_time_s(p), 2 * 5e-6 + 50e3 / c_fibre, 1e-18);
  p.scheme = models::HeraldScheme::single_click;
  EXPECT_NEAR(models::attempt_time_s(p), 5e-6 + 50e3 / c_fibre, 1e-18);
  EXPECT_NEAR(models::mean_generation_time_s(0.01, 1e-3), 0.1, 1e-15);
}

// ---- Heralding --------------------------------------------------------------------------------

TEST(LinkPhysics, DoubleClickIdealLimit) {
  for (double v : {1.0, 0.9}) {
    const auto h = models::double_click(0.3, 0.2, v, 0);
    EXPECT_NEAR(h.success_probability, 0.5 * 0.3 * 0.2, kTol);
    EXPECT_NEAR(bell_diagonal(h.state).fidelity(), (1 + v) / 2, kTol);
  }
}

TEST(LinkPhysics, SingleClickIdealLimit) {
  for (double alpha : {0.05, 0.1, 0.3}) {
    const double eta = 0.01;
    const auto h = models::single_click(eta, eta, alpha, 1.0, 0);
    EXPECT_NEAR(h.success_probability, 2 * alpha * eta - alpha * alpha * eta * eta, kTol);
    EXPECT_NEAR(bell_diagonal(h.state).fidelity(), 2 * (1 - alpha) / (2 - alpha * eta), kTol);
    EXPECT_NEAR(bell_diagonal(h.state).fidelity(), 1 - alpha, alpha * eta);
  }
}

TEST(LinkPhysics, DarkCountsOnlyGiveNoise) {
  const double d = 1e-3;
  const auto dc = models::double_click(0, 0, 1, d);
  // Every spin configuration needs a dark count in exactly one detector in each round.
  EXPECT_NEAR(dc.success_probability, std::pow(2 * d * (1 - d), 2), kTol);
  expect_near(bell_diagonal(dc.state), {0.25, 0.25, 0.25, 0.25});
  const auto sc = models::single_click(0, 0, 0.2, 1, d);
  EXPECT_NEAR(sc.success_probability, 2 * d * (1 - d), kTol);
  // Dark counts lower the fidelity at finite efficiency.
  EXPECT_LT(bell_diagonal(models::double_click(1e-3, 1e-3, 1, 1e-5).state).fidelity(),
            bell_diagonal(models::double_click(1e-3, 1e-3, 1, 0).state).fidelity() - 1e-3);
}

// Brute force over the model's elementary events (spin configuration, which emitted photons
// arrive, which beam-splitter port each takes, dark counts per detector): success probability and
// the weight of the wrong-parity (Psi after correction) subspace.
struct Enumerated {
  double success = 0, wrong_parity = 0;
};

// Probability that exactly one of two detectors clicks, given the photons arriving.
double one_click_probability(int arriving, double v, double d) {
  double total = 0;
  // ports: for 1 photon, port 0 or 1; for 2 photons, same port with (1 + V)/2.
  struct Pattern { double weight; bool lit[2]; };
  Pattern patterns[2] = {};
  int n = 0;
  if (arriving == 0) patterns[n++] = {1, {false, false}};
  if (arriving == 1) {
    patterns[n++] = {0.5, {true, false}};
    patterns[n++] = {0.5, {false, true}};
  }
  if (arriving == 2) {
    patterns[n++] = {(1 + v) / 2, {true, false}};  // both in one port (which one is irrelevant)
    patterns[n++] = {(1 - v) / 2, {true, true}};
  }
  for (int i = 0; i < n; ++i)
    for (int d0 = 0; d0 < 2; ++d0)
      for (int d1 = 0; d1 < 2; ++d1) {
        const double w = patterns[i].weight * (d0 ? d : 1 - d) * (d1 ? d : 1 - d);
        const int clicks = (patterns[i].lit[0] || d0) + (patterns[i].lit[1] || d1);
        if (clicks == 1) total += w;
      }
  return total;
}

// One round: emitting nodes (bit 0 = A, bit 1 = B); sums over which photons arrive.
double round_one_click(int emitters, double eta_a, double eta_b, double v, double d) {
  double total = 0;
  for (int arrive = 0; arrive < 4; ++arrive) {
    if (arrive & ~emitters) continue;
    double w = 1;
    if (emitters & 1) w *= (arrive & 1) ? eta_a : 1 - eta_a;
    if (emitters & 2) w *= (arrive & 2) ? eta_b : 1 - eta_b;
    total += w * one_click_probability(((arrive & 1) ? 1 : 0) + ((arrive & 2) ? 1 : 0), v, d);
  }
  return total;
}

TEST(LinkPhysics, HeraldingMatchesEnumeration) {
  const double ea = 0.3, eb = 0.15, v = 0.85, d = 0.02, alpha = 0.2;
  Enumerated dc, sc;
  for (int spins = 0; spins < 4; ++spins) {  // bit 0: A up (emits in round 1), bit 1: B up
    const double p =
        round_one_click(spins, ea, eb, v, d) * round_one_click(3 & ~spins, ea, eb, v, d) / 4;
    dc.success += p;
    if (spins == 0 || spins == 3) dc.wrong_parity += p;
    const double w = ((spins & 1) ? alpha : 1 - alpha) * ((spins & 2) ? alpha : 1 - alpha);
    const double q = w * round_one_click(spins, ea, eb, v, d);
    sc.success += q;
    if (spins == 0 || spins == 3) sc.wrong_parity += q;
  }
  const auto hd = models::double_click(ea, eb, v, d);
  EXPECT_NEAR(hd.success_probability, dc.success, kTol);
  const BellDiagonal bd = bell_diagonal(hd.state);
  EXPECT_NEAR(bd.psi_plus + bd.psi_minus, dc.wrong_parity / dc.success, kTol);
  const auto hs = models::single_click(ea, eb, alpha, v, d);
  EXPECT_NEAR(hs.success_probability, sc.success, kTol);
  const BellDiagonal bs = bell_diagonal(hs.state);
  EXPECT_NEAR(bs.psi_plus + bs.psi_minus, sc.wrong_parity / sc.success, kTol);
}

TEST(LinkPhysics, LinkModelFromParams) {
  models::LinkParams p;
  p.scheme = models::HeraldScheme::double_click;
  p.length_km = 50;
  p.collection_efficiency = 0.5;
  const auto m = models::link_model(p);
  const double eta = 0.5 * models::fibre_transmissivity(25, 0.2);
  EXPECT_NEAR(models::arm_efficiency(p), eta, kTol);
  EXPECT_NEAR(m.success_probability, eta * eta / 2, kTol);
  EXPECT_NEAR(m.bell_diagonal.fidelity(), 1, kTol);
  EXPECT_NEAR(m.signalling_delay_s, models::signalling_delay_s(50, 1.44), 1e-18);

  p.scheme = models::HeraldScheme::werner;
  p.werner_fidelity = 0.9;
  p.werner_success_probability = 0.25;
  const auto w = models::link_model(p);
  EXPECT_EQ(w.success_probability, 0.25);
  expect_near(w.bell_diagonal, werner(0.9));
}

TEST(LinkPhysics, ValidationNamesBadValues) {
  models::LinkParams p;
  EXPECT_TRUE(models::validate(p).empty());
  p.length_km = -1;
  p.visibility = 1.2;
  p.detector_efficiency = -0.1;
  p.dark_count_probability = 1;
  p.fibre_index = 0.5;
  auto errors = models::validate(p);
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_NE(errors[0].find("length_km = -1"), std::string::npos) << errors[0];
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  for (const char* key : {"visibility = 1.2: must be in [0, 1]", "detector_efficiency",
                          "dark_count_probability", "fibre_index"}) {
    EXPECT_NE(all.find(key), std::string::npos) << all;
  }
  EXPECT_THROW(models::link_model(p), std::invalid_argument);

  models::LinkParams s;
  s.scheme = models::HeraldScheme::single_click;
  for (double alpha : {0.0, 0.6, std::nan("")}) {
    s.bright_state_alpha = alpha;
    errors = models::validate(s);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("bright_state_alpha"), std::string::npos);
  }
  s.bright_state_alpha = 0.5;
  EXPECT_TRUE(models::validate(s).empty());

  models::LinkParams w;
  w.scheme = models::HeraldScheme::werner;
  w.werner_success_probability = 0;
  w.werner_fidelity = 1.5;
  EXPECT_EQ(models::validate(w).size(), 2u);

  models::MemoryParams mem;
  EXPECT_TRUE(models::validate(mem).empty());
  mem.t1_s = 1;
  mem.t2_s = 3;
  mem.cutoff_s = -1;
  EXPECT_EQ(models::validate(mem).size(), 2u);
}

}  // namespace
}  // namespace qw

namespace {
// The recurrence from the reference figures (Deutsch et al. 1996 protocol on identical
// copies): F = 0.8 Werner -> 0.838150 -> 0.943639 -> 0.987974.
TEST(LinkMapsPublished, DejmpsFromWernerPointEightMatchesTheReferenceSequence) {
  qw::BellDiagonal s = qw::werner(0.8);
  const double want[3] = {0.838150, 0.943639, 0.987974};
  for (double w : want) {
    const qw::BellOutcome o = qw::dejmps(s, s);
    s = o.state;
    EXPECT_NEAR(s.fidelity(), w, 5e-7);
    EXPECT_GT(o.probability, 0.5);
    EXPECT_LE(o.probability, 1.0);
  }
}
}  // namespace
