// Purification of full 4x4 pairs (kernels/link_maps.h: dejmps4, bbpssw4) and the repeater chain's
// exact path with purification (kernels/link_chain.cu, full_density): the maps against the explicit
// 16x16 reference circuits (models/link_reference.h, no shared code) on random general states,
// against the Bell-diagonal maps on Bell-diagonal inputs, the published DEJMPS sequence; the chain's
// 4x4 path against its Bell-diagonal path (same draws: equal episode by episode where the memories
// only dephase, different with amplitude damping) and the experiment file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "host/experiment.h"
#include "kernels/link_chain.h"
#include "kernels/link_maps.h"
#include "kernels/memory.h"
#include "models/link_reference.h"
#include "tests/link_test_util.h"
#include "tests/tolerance.h"

namespace qw {
namespace {

constexpr double kTol = 1e-12;
constexpr double kInf = std::numeric_limits<double>::infinity();

void expect_near(const Pair4& a, const Pair4& b, double tol = kTol) { testing::expect_near(a, b, tol); }
using testing::random_density;

const std::vector<LocalNoise>& noises() {
  static const std::vector<LocalNoise> n = {{0, 0}, {0.02, 0}, {0, 0.03}, {0.05, 0.02}, {0.3, 0.1}};
  return n;
}

using testing::off_bell_diagonal;

TEST(Purify4, DejmpsMatchesTheReferenceCircuitOnGeneralPairs) {
  std::mt19937_64 rng(11);
  for (const LocalNoise& n : noises()) {
    for (int trial = 0; trial < 20; ++trial) {
      const Pair4 a = random_density(rng, 0.6), b = random_density(rng, 0.5);
      ASSERT_GT(off_bell_diagonal(a), 1e-2);
      const Pair4Outcome got = dejmps4(a, b, n);
      const models::reference::CircuitOutcome want = models::reference::dejmps_circuit(a, b, n);
      EXPECT_NEAR(got.probability, want.probability, kTol) << "noise " << n.two_qubit_depolarising;
      expect_near(got.state, want.state);
      EXPECT_NEAR(trace(got.state), 1.0, kTol);
    }
  }
}

TEST(Purify4, BbpsswMatchesTheReferenceCircuitOnGeneralPairs) {
  std::mt19937_64 rng(12);
  for (const LocalNoise& n : noises()) {
    for (int trial = 0; trial < 10; ++trial) {
      const Pair4 a = random_density(rng, 0.7), b = random_density(rng, 0.4);
      const Pair4Outcome got = bbpssw4(a, b, n);
      const models::reference::CircuitOutcome want = models::reference::bbpssw_circuit(a, b, n);
      EXPECT_NEAR(got.probability, want.probability, kTol);
      expect_near(got.state, want.state);
    }
  }
}

TEST(Purify4, BellDiagonalInputsGiveTheBellDiagonalMaps) {
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (const LocalNoise& n : noises()) {
    for (int trial = 0; trial < 20; ++trial) {
      const BellDiagonal a = normalised({1.5 + u(rng), u(rng), u(rng), u(rng)});
      const BellDiagonal b = normalised({1.5 + u(rng), u(rng), u(rng), u(rng)});
      const Pair4Outcome d4 = dejmps4(to_pair4(a), to_pair4(b), n);
      const BellOutcome d = dejmps(a, b, n);
      EXPECT_NEAR(d4.probability, d.probability, kTol);
      expect_near(d4.state, to_pair4(d.state));
      const Pair4Outcome b4 = bbpssw4(to_pair4(a), to_pair4(b), n);
      const BellOutcome bb = bbpssw(a, b, n);
      EXPECT_NEAR(b4.probability, bb.probability, kTol);
      expect_near(b4.state, to_pair4(bb.state));
    }
  }
}

// Deutsch et al. 1996 on identical copies from a Werner pair F = 0.8: 0.838150, 0.943639, 0.987974.
TEST(Purify4, DejmpsFromWernerPointEightMatchesTheReferenceSequence) {
  Pair4 s = to_pair4(werner(0.8));
  for (double want : {0.838150, 0.943639, 0.987974}) {
    const Pair4Outcome o = dejmps4(s, s);
    s = o.state;
    EXPECT_NEAR(bell_diagonal(s).phi_plus, want, 5e-7);
  }
}

// The bilateral CNOT and the DEJMPS rotations map bilateral Paulis to bilateral Paulis, so the
// Bell-diagonal part of the kept pair and the success probability depend only on the inputs'
// Bell-diagonal parts; what the 4x4 path adds is the rest of the state, which later non-Pauli
// noise (amplitude damping) turns into different fidelities.
TEST(Purify4, BellDiagonalPartDependsOnlyOnTheInputsBellDiagonalParts) {
  std::mt19937_64 rng(14);
  for (const LocalNoise& n : noises()) {
    for (int trial = 0; trial < 20; ++trial) {
      const Pair4 a = random_density(rng, 0.6), b = random_density(rng, 0.5);
      const Pair4Outcome exact = dejmps4(a, b, n);
      const BellOutcome twirled = dejmps(bell_diagonal(a), bell_diagonal(b), n);
      EXPECT_NEAR(exact.probability, twirled.probability, kTol);
      for (int k = 0; k < 4; ++k) EXPECT_NEAR(bell_diagonal(exact.state)[k], twirled.state[k], kTol);
    }
  }
  // A random pair purified with itself keeps a state far from Bell-diagonal; one qubit of it then
  // relaxes (amplitude damping, T2 = 2 T1: no extra dephasing) and a second round runs: the exact
  // path and the twirled one (twirled damping of the Bell-diagonal part) now differ.
  const Pair4 a = random_density(rng, 0.6);
  const Pair4Outcome exact = dejmps4(a, a);
  EXPECT_GT(off_bell_diagonal(exact.state), 1e-2);
  const double gamma = 0.3, t1 = 1.0, t = -std::log(1 - gamma) * t1;
  const Pair4 relaxed = amplitude_damp(exact.state, 0, gamma);
  const BellDiagonal relaxed_tw = decohere_twirled(bell_diagonal(exact.state), t, t1, 2 * t1);
  const Pair4Outcome second = dejmps4(relaxed, relaxed);
  const BellOutcome second_tw = dejmps(relaxed_tw, relaxed_tw);
  EXPECT_GT(std::abs(bell_diagonal(second.state).phi_plus - second_tw.state.phi_plus), 1e-3);
}

// ---- The chain kernel with purification on 4x4 pairs ---------------------------------------------

using testing::ChainRun;
using testing::run_chain;

link::ChainParams chain(unsigned segments, link::Protocol protocol, link::Purification pur, unsigned rounds) {
  link::ChainParams p = testing::test_chain(segments, protocol, normalised(BellDiagonal{0.9, 0.04, 0.02, 0.04}));
  p.purification = pur;
  p.rounds = rounds;
  return p;
}
using testing::density;

TEST(Purify4Chain, DephasingOnlyGivesTheBellDiagonalPathEpisodeByEpisode) {
  struct Config {
    unsigned segments;
    link::Protocol protocol;
    link::Purification pur;
    unsigned rounds;
    double cutoff;
  };
  const Config configs[] = {
      {1, link::Protocol::swap_asap, link::Purification::dejmps, 2, kInf},
      {4, link::Protocol::swap_asap, link::Purification::dejmps, 2, kInf},
      {4, link::Protocol::bdcz, link::Purification::dejmps, 1, 2e-3},
      {3, link::Protocol::swap_asap, link::Purification::bbpssw, 1, kInf},
      {2, link::Protocol::bdcz, link::Purification::bbpssw, 2, kInf},
  };
  for (const Config& c : configs) {
    SCOPED_TRACE(::testing::Message() << c.segments << " segments, protocol " << static_cast<int>(c.protocol)
                                      << ", purification " << static_cast<int>(c.pur) << " x " << c.rounds);
    link::ChainParams p = chain(c.segments, c.protocol, c.pur, c.rounds);
    p.cutoff_s = c.cutoff;
    const std::uint64_t n = 500;
    const ChainRun tw = run_chain(p, 21, n), ex = run_chain(density(p), 21, n);
    EXPECT_EQ(tw.attempts, ex.attempts);
    EXPECT_EQ(tw.time_s, ex.time_s);
    double spread = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
      ASSERT_FALSE(std::isnan(ex.time_s[i])) << "episode " << i;
      for (int k = 0; k < 4; ++k) EXPECT_NEAR(tw.bell[4 * i + k], ex.bell[4 * i + k], 1e-11) << "episode " << i;
      spread = std::max(spread, std::abs(ex.fidelity[i] - ex.fidelity[0]));
    }
    EXPECT_GT(spread, 1e-4) << "the memories should make episodes differ";
  }
}

// Amplitude damping: the 4x4 path keeps what the twirl drops. Both deliver valid states, most
// episodes' fidelities differ, and so do the mean fidelities (by far more than 1e-3). (The draws
// part ways only when a purification's success probabilities differ across a uniform.)
TEST(Purify4Chain, AmplitudeDampingSeparatesThePaths) {
  for (link::Protocol protocol : {link::Protocol::swap_asap, link::Protocol::bdcz}) {
    link::ChainParams p = chain(4, protocol, link::Purification::dejmps, 1);
    p.herald_wait_s = 2e-4;
    p.t1_s = 5e-4;
    p.t2_s = 5e-4;
    const std::uint64_t n = 2000;
    const ChainRun tw = run_chain(p, 5, n), ex = run_chain(density(p), 5, n);
    double mean_tw = 0, mean_ex = 0;
    std::uint64_t differ = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
      ASSERT_FALSE(std::isnan(ex.time_s[i]));
      double s = 0;
      for (int k = 0; k < 4; ++k) {
        EXPECT_GE(ex.bell[4 * i + k], -kTol);
        s += ex.bell[4 * i + k];
      }
      EXPECT_NEAR(s, 1.0, 1e-12);
      mean_tw += tw.fidelity[i] / n;
      mean_ex += ex.fidelity[i] / n;
      differ += std::abs(ex.fidelity[i] - tw.fidelity[i]) > 1e-6;
    }
    EXPECT_GT(differ, n / 2);
    EXPECT_GT(std::abs(mean_ex - mean_tw), 2e-3) << "exact " << mean_ex << " twirled " << mean_tw;
  }
}

// ---- The experiment file ----------------------------------------------------------------------------

TEST(Purify4Experiment, DensityWithPurificationRunsAndMatchesTheTwirledPathWithDephasing) {
  for (const char* pur : {"dejmps", "bbpssw"}) {
    const std::string text = std::string("[experiment]\nkind = \"link\"\nepisodes = 300\nseed = 4\n[link]\n"
                                         "source = \"fiber\"\nlength_km = 40.0\nefficiency = 0.9\nsegments = 4\n"
                                         "purification = \"") + pur + "\"\npurification_rounds = 1\n";
    const Experiment dens = parse_experiment(text + "state = \"density\"\n[memory]\nt2_s = 1e-2\n", "d.toml");
    ASSERT_TRUE(dens.link.full_density);
    const Experiment twirl = parse_experiment(text + "[memory]\nt2_s = 1e-2\n", "t.toml");
    const auto a = run_link_experiment(dens.link), b = run_link_experiment(twirl.link);
    EXPECT_EQ(a.attempts, b.attempts);
    EXPECT_EQ(a.time_s, b.time_s);
    for (std::size_t i = 0; i < a.fidelity.size(); ++i) EXPECT_NEAR(a.fidelity[i], b.fidelity[i], 1e-11) << pur;
  }
}

}  // namespace
}  // namespace qw
