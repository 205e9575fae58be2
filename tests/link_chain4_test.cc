// The exact 4x4 path of repeater chains: swap4 against the Bell-diagonal swap and closed forms, the
// teleportation identity, the chain kernel's 4x4 path against its Bell-diagonal path (same draws;
// equal with dephasing only, different with amplitude damping, with a closed form) and the
// experiment parser's state = "density" checks (purification on 4x4 pairs: link_purify4_test.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "host/errors.h"
#include "host/experiment.h"
#include "kernels/link_chain.h"
#include "kernels/link_maps.h"
#include "kernels/memory.h"
#include "tests/link_test_util.h"

namespace qw {
namespace {

constexpr double kTol = 1e-12;
constexpr double kInf = std::numeric_limits<double>::infinity();

void expect_near(BellDiagonal a, BellDiagonal b, double tol = kTol) { testing::expect_near(a, b, tol); }
void expect_near(const Pair4& a, const Pair4& b, double tol = kTol) { testing::expect_near(a, b, tol); }
using testing::off_bell_diagonal;
using testing::random_density;

BellDiagonal random_bell_diagonal(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  return normalised(BellDiagonal{u(rng), u(rng), u(rng), u(rng)});
}


TEST(LinkChain4, SwapOfWernerPairs) {
  for (double f1 : {1.0, 0.9, 0.7, 0.25}) {
    for (double f2 : {1.0, 0.95, 0.6}) {
      const Pair4 out = swap4(to_pair4(werner(f1)), to_pair4(werner(f2)));
      const double f = f1 * f2 + (1 - f1) * (1 - f2) / 3;
      EXPECT_NEAR(bell_diagonal(out).fidelity(), f, kTol) << f1 << " " << f2;
      expect_near(bell_diagonal(out), werner(f));
      EXPECT_LT(off_bell_diagonal(out), kTol);
      EXPECT_NEAR(trace(out), 1.0, kTol);
    }
  }
}

TEST(LinkChain4, SwapOfBellDiagonalPairsEqualsTheBellDiagonalSwap) {
  std::mt19937_64 rng(11);
  const LocalNoise noises[] = {{}, {0.03, 0}, {0, 0.02}, {0.05, 0.01}};
  for (int trial = 0; trial < 20; ++trial) {
    const BellDiagonal a = random_bell_diagonal(rng), b = random_bell_diagonal(rng);
    for (const LocalNoise& n : noises) {
      const Pair4 out = swap4(to_pair4(a), to_pair4(b), n);
      expect_near(out, to_pair4(swap(a, b, n).state));
    }
  }
}

TEST(LinkChain4, SwapWithAPerfectPairTeleportsTheWholeState) {
  // Bell measurement on (B, C) of rho_AB (x) Phi+_CD with the standard correction: D takes B's
  // place exactly, coherences and populations included.
  std::mt19937_64 rng(12);
  const Pair4 phi = to_pair4(werner(1.0));
  for (int trial = 0; trial < 10; ++trial) {
    const Pair4 rho = random_density(rng);
    expect_near(swap4(rho, phi), rho);
  }
}

TEST(LinkChain4, SwapIsTeleportationThroughAPauliChannel) {
  // Bowen & Bose, PRL 87, 267901 (2001): the output is (I (x) Lambda)(rho_AB), Lambda the Pauli
  // channel of cd's Bell-diagonal coefficients; the noise adds the Bell-measurement channel on D.
  std::mt19937_64 rng(13);
  const LocalNoise n{0.04, 0.015};
  for (int trial = 0; trial < 10; ++trial) {
    const Pair4 ab = random_density(rng), cd = random_density(rng);
    const BellDiagonal c = bell_diagonal(cd);
    const Pair4 want = apply_pauli_channel(apply_pauli_channel(ab, 1, PauliProbs{{c[0], c[1], c[2], c[3]}}), 1,
                                           bell_measurement_noise(n));
    expect_near(swap4(ab, cd, n), want);
    // Hence the Bell-diagonal part of the output needs only the inputs' Bell-diagonal parts.
    expect_near(bell_diagonal(swap4(ab, cd, n)), swap(bell_diagonal(ab), bell_diagonal(cd), n).state);
  }
}

// ---- The chain kernel ----------------------------------------------------------------------------

using testing::ChainRun;
using testing::run_chain;

link::ChainParams chain(unsigned segments, link::Protocol protocol, BellDiagonal elementary) {
  return testing::test_chain(segments, protocol, elementary);
}
using testing::density;

TEST(LinkChain4, DephasingOnlyGivesTheBellDiagonalPathEpisodeByEpisode) {
  const BellDiagonal el = normalised(BellDiagonal{0.9, 0.04, 0.02, 0.04});
  for (const auto& [segments, protocol] : {std::pair{4u, link::Protocol::swap_asap}, std::pair{5u, link::Protocol::swap_asap},
                                           std::pair{8u, link::Protocol::bdcz}}) {
    for (double cutoff : {kInf, 3e-4}) {
      link::ChainParams p = chain(segments, protocol, el);
      p.cutoff_s = cutoff;
      const std::uint64_t n = 2000;
      const ChainRun tw = run_chain(p, 7, n), ex = run_chain(density(p), 7, n);
      EXPECT_EQ(tw.attempts, ex.attempts);
      EXPECT_EQ(tw.time_s, ex.time_s);
      double spread = 0;
      for (std::uint64_t i = 0; i < n; ++i) {
        ASSERT_FALSE(std::isnan(ex.time_s[i]));
        EXPECT_NEAR(tw.fidelity[i], ex.fidelity[i], kTol) << "episode " << i;
        for (int k = 0; k < 4; ++k) EXPECT_NEAR(tw.bell[4 * i + k], ex.bell[4 * i + k], kTol);
        spread = std::max(spread, std::abs(ex.fidelity[i] - ex.fidelity[0]));
      }
      EXPECT_GT(spread, 1e-3) << "the memories should make episodes differ";
    }
  }
}

TEST(LinkChain4, AmplitudeDampingTwoSegmentsClosedForm) {
  // Phi+ pairs, no herald wait, ideal swap: the earlier pair's two qubits wait tau = |t1 - t2| and
  // the later pair is Phi+, which teleports the waited pair unchanged. Exact:
  // F = (1 + g^2 + (1 - g)^2)/4 + e^{-2 tau/T2}/2, g = 1 - e^{-tau/T1}; twirled: lower by g^2/4.
  link::ChainParams p = chain(2, link::Protocol::swap_asap, werner(1.0));
  p.herald_wait_s = 0;
  p.local = {};
  p.t1_s = 1e-3;
  p.t2_s = 1.5e-3;
  const std::uint64_t n = 1000;
  const ChainRun tw = run_chain(p, 3, n), ex = run_chain(density(p), 3, n);
  EXPECT_EQ(tw.attempts, ex.attempts);
  EXPECT_EQ(tw.time_s, ex.time_s);
  // The segments' delivery times are not outputs: solve the twirled fidelity (decreasing in tau)
  // for tau, check that tau is a whole number of attempts, then check the exact fidelity.
  double max_diff = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    auto twirled_f = [&](double tau) {
      const double g = -std::expm1(-tau / p.t1_s);
      return (1 + g * g + (1 - g) * (1 - g)) / 4 + std::exp(-2 * tau / p.t2_s) / 2 - g * g / 4;
    };
    double lo = 0, hi = 1;
    for (int it = 0; it < 200; ++it) {
      const double mid = (lo + hi) / 2;
      (twirled_f(mid) > tw.fidelity[i] ? lo : hi) = mid;
    }
    const double tau = (lo + hi) / 2, g = -std::expm1(-tau / p.t1_s);
    // tau is a whole number of attempts (the two segments' attempt counts differ by k).
    const double k = tau / p.attempt_time_s;
    EXPECT_NEAR(k, std::round(k), 1e-6) << "episode " << i;
    EXPECT_NEAR(ex.fidelity[i], (1 + g * g + (1 - g) * (1 - g)) / 4 + std::exp(-2 * tau / p.t2_s) / 2, 1e-9);
    max_diff = std::max(max_diff, ex.fidelity[i] - tw.fidelity[i]);
  }
  EXPECT_GT(max_diff, 1e-3);
}

TEST(LinkChain4, AmplitudeDampingSeparatesThePathsInLongChains) {
  // Werner pairs, fibre-like herald wait (every qubit waits twice: herald, then storage), both
  // protocols: same draws, different fidelities; the exact output stays a valid state.
  for (const auto& [segments, protocol] : {std::pair{4u, link::Protocol::swap_asap}, std::pair{4u, link::Protocol::bdcz}}) {
    link::ChainParams p = chain(segments, protocol, werner(0.97));
    p.herald_wait_s = 2e-4;
    p.t1_s = 1e-3;
    p.t2_s = 1e-3;
    const std::uint64_t n = 500;
    const ChainRun tw = run_chain(p, 9, n), ex = run_chain(density(p), 9, n);
    EXPECT_EQ(tw.attempts, ex.attempts);
    EXPECT_EQ(tw.time_s, ex.time_s);
    double max_diff = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
      max_diff = std::max(max_diff, std::abs(ex.fidelity[i] - tw.fidelity[i]));
      double s = 0;
      for (int k = 0; k < 4; ++k) {
        EXPECT_GE(ex.bell[4 * i + k], -kTol);
        s += ex.bell[4 * i + k];
      }
      EXPECT_NEAR(s, 1.0, 1e-12);
    }
    EXPECT_GT(max_diff, 1e-4);
  }
}

// ---- The experiment file ---------------------------------------------------------------------------

TEST(LinkChain4Experiment, DensityChainsParseAndRunWithBothProtocols) {
  for (const char* protocol : {"swap_asap", "bdcz"}) {
    const std::string text = std::string("[experiment]\nkind = \"link\"\nepisodes = 300\nseed = 4\n[link]\n"
                                         "source = \"fiber\"\nlength_km = 40.0\nefficiency = 0.9\nsegments = 4\n"
                                         "protocol = \"") + protocol + "\"\n";
    const Experiment dens = parse_experiment(text + "state = \"density\"\n[memory]\nt2_s = 1e-2\n", "d.toml");
    ASSERT_TRUE(dens.link.full_density);
    EXPECT_EQ(dens.link.segments, 4u);
    const Experiment twirl = parse_experiment(text + "[memory]\nt2_s = 1e-2\n", "t.toml");
    const auto a = run_link_experiment(dens.link), b = run_link_experiment(twirl.link);
    EXPECT_EQ(a.attempts, b.attempts);
    EXPECT_EQ(a.time_s, b.time_s);
    for (std::size_t i = 0; i < a.fidelity.size(); ++i) EXPECT_NEAR(a.fidelity[i], b.fidelity[i], kTol) << protocol;
  }
}

}  // namespace
}  // namespace qw
