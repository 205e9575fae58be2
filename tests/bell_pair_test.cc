// BELL_PAIR (Bell-pair injection) and the teleported CX (TELEPORTED_CX macro, append_teleported_cx)
// in both dense engines: exact density matrices against the Bell-diagonal definition, trajectories
// against the density matrix, the gate-teleportation identities, and the reader's checks.
//
// Conventions (kernels/link_maps.h): |ab> has qubit a (the first target) in state a; with index bit
// 0 = qubit a, |Phi+-> = (e0 +- e3)/sqrt2, |Psi+-> = (|01> +- |10>)/sqrt2 = (e2 +- e1)/sqrt2. The
// weights are of (Phi+, Psi+, Psi-, Phi-).
//
// Pair measurements. XX has eigenvalue +1 on Phi+, Psi+ and -1 on Psi-, Phi-; ZZ has +1 on Phi+, Phi-
// and -1 on Psi+, Psi-. So on sum_k w_k |B_k><B_k|: <XX> = (w1 + w2) - (w3 + w4), <ZZ> = (w1 + w4) -
// (w2 + w3), and since XX and ZZ commute and their joint eigenbasis is the Bell basis, measuring
// MPP X0*X1 then Z0*Z1 gives (0,0), (0,1), (1,1), (1,0) with probabilities w1, w2, w3, w4 exactly.
//
// Teleported CX with a Bell-diagonal pair. The pair's error sigma_k on a (X_a|Phi+> = X_b|Phi+>,
// Z_a|Phi+> = Z_b|Phi+>) moves through CX c a; M a; CX rec b; CX b t; MX b; CZ rec c as follows: X
// flips M a, so the X correction on b is wrong, and that X_b spreads through CX b t onto t (X_b X_t;
// MX b does not see X_b): X on t. Z_b commutes with CX b t and flips MX b, so the Z correction on c
// is wrong: Z on c. Y: both. With c in |+> and t in |0>, the ideal result is |Phi+> on (c, t), and
// X_t|Phi+> = |Psi+>, Z_c|Phi+> = |Phi->, X_t Z_c|Phi+> ~ |Psi->: the output is the Bell-diagonal
// state with the pair's own weights, whatever the measurement outcomes (each outcome is uniform and
// independent of the error). Fidelity F for a Werner pair of fidelity F; M c t disagree with
// probability w2 + w3, MX c t with probability w3 + w4.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <complex>
#include <string>
#include <vector>

#include "host/circuit.h"
#include "host/dense_engine.h"
#include "host/errors.h"
#include "host/parse.h"

namespace {
using namespace qw;
using cd = std::complex<double>;
using W = std::array<double, 4>;
const double kTol = sizeof(real) == 8 ? 1e-12 : 2e-5;

DenseResult run(const std::string& text, Representation rep, std::uint64_t shots, bool keep_state,
                std::uint64_t seed = 7) {
  DenseOptions o;
  o.representation = rep;
  o.shots = shots;
  o.keep_state = keep_state;
  o.seed = seed;
  return run_dense(parse_stim(text, "t.stim"), o);
}

// Row-major density matrix of the dense engine as complex doubles.
std::vector<cd> rho_of(const DenseResult& r) {
  std::vector<cd> out;
  for (const cplx& v : r.state) out.emplace_back(v.re, v.im);
  return out;
}

// Reduced density matrix of qubits (q0, q1) (index bit 0 = q0) from an n-qubit row-major rho.
std::vector<cd> reduce2(const std::vector<cd>& rho, unsigned n, unsigned q0, unsigned q1) {
  const std::size_t dim = std::size_t{1} << n;
  std::vector<cd> out(16, 0.0);
  const std::size_t mask = (std::size_t{1} << q0) | (std::size_t{1} << q1);
  for (std::size_t r = 0; r < dim; ++r)
    for (std::size_t c = 0; c < dim; ++c) {
      if ((r & ~mask) != (c & ~mask)) continue;
      const std::size_t i = ((r >> q0) & 1) | (((r >> q1) & 1) << 1);
      const std::size_t j = ((c >> q0) & 1) | (((c >> q1) & 1) << 1);
      out[i * 4 + j] += rho[r * dim + c];
    }
  return out;
}

// The four Bell vectors in (Phi+, Psi+, Psi-, Phi-) order, index bit 0 = first qubit.
std::array<std::array<double, 4>, 4> bell_vectors() {
  const double s = M_SQRT1_2;
  return {{{s, 0, 0, s}, {0, s, s, 0}, {0, -s, s, 0}, {s, 0, 0, -s}}};
}

std::vector<cd> bell_diagonal(const W& w) {
  std::vector<cd> rho(16, 0.0);
  const auto b = bell_vectors();
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) rho[i * 4 + j] += w[k] * b[k][i] * b[k][j];
  return rho;
}

W werner(double f) { return {f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3}; }

double max_diff(const std::vector<cd>& a, const std::vector<cd>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

bool bit(const DenseResult& r, std::uint64_t shot, std::uint64_t j) {
  return (r.measurements[shot * r.bytes_per_shot + j / 8] >> (j % 8)) & 1u;
}

std::string args_of(const W& w) { return fmt::format("({}, {}, {}, {})", w[0], w[1], w[2], w[3]); }

std::string error_of(const std::string& text) {
  try {
    parse_stim(text, "f");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

// ---- exact density matrices --------------------------------------------------------------------

TEST(BellPair, WernerDensityMatrixExact) {
  const double f = 0.8;
  const DenseResult r = run("BELL_PAIR(0.8) 0 1\n", Representation::DensityMatrix, 0, true);
  ASSERT_EQ(r.state.size(), 16u);
  // rho = F |Phi+><Phi+| + (1 - F)/3 (I - |Phi+><Phi+|), written out entry by entry.
  std::vector<cd> want(16, 0.0);
  const double phi[4] = {M_SQRT1_2, 0, 0, M_SQRT1_2};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      const double p = phi[i] * phi[j];
      want[i * 4 + j] = f * p + (1 - f) / 3 * ((i == j ? 1.0 : 0.0) - p);
    }
  for (int e = 0; e < 16; ++e) {
    EXPECT_NEAR(r.state[e].re, want[e].real(), kTol) << "entry " << e;
    EXPECT_NEAR(r.state[e].im, want[e].imag(), kTol) << "entry " << e;
  }
  // 00 and 11 carry (F + (1-F)/3)/2 each, 01 and 10 carry (1-F)/3, the 00-11 coherence (F - (1-F)/3)/2.
  EXPECT_NEAR(r.state[0].re, (f + (1 - f) / 3) / 2, kTol);
  EXPECT_NEAR(r.state[5].re, (1 - f) / 3, kTol);
  EXPECT_NEAR(r.state[3].re, (f - (1 - f) / 3) / 2, kTol);
}

TEST(BellPair, BellDiagonalWeightsExact) {
  for (const W w : {W{0.1, 0.2, 0.3, 0.4}, W{0, 1, 0, 0}, W{0, 0, 1, 0}, W{0, 0, 0, 1}, W{0.7, 0, 0.3, 0}}) {
    const DenseResult r = run("BELL_PAIR" + args_of(w) + " 0 1\n", Representation::DensityMatrix, 0, true);
    const auto rho = rho_of(r);
    EXPECT_LT(max_diff(rho, bell_diagonal(w)), kTol);
    // Projections onto the four Bell states give the weights back.
    const auto b = bell_vectors();
    for (int k = 0; k < 4; ++k) {
      cd p = 0;
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) p += b[k][i] * rho[i * 4 + j] * b[k][j];
      EXPECT_NEAR(p.real(), w[k], kTol) << "Bell state " << k;
      EXPECT_NEAR(p.imag(), 0, kTol);
    }
  }
}

TEST(BellPair, FirstTargetCarriesThePauli) {
  // Targets (1, 0): qubit 1 is a; the Bell-diagonal state is symmetric under the swap except for the
  // sign of Psi-, which the projector does not see, so the state is the same.
  const W w{0.25, 0.4, 0.05, 0.3};
  const DenseResult r = run("BELL_PAIR" + args_of(w) + " 1 0\n", Representation::DensityMatrix, 0, true);
  EXPECT_LT(max_diff(rho_of(r), bell_diagonal(w)), kTol);
}

TEST(BellPair, ResetsWhateverWasThere) {
  // Qubit 0 in |+>, entangled with qubit 2; qubit 1 in |->. After BELL_PAIR on (0, 1) the exact
  // state is the pair times qubit 2 left fully mixed by the reset of its partner.
  const DenseResult r = run("H 0\nCX 0 2\nX 1\nH 1\nBELL_PAIR(0.9) 0 1\n", Representation::DensityMatrix,
                            0, true);
  ASSERT_EQ(r.state.size(), 64u);
  const auto pair = bell_diagonal(werner(0.9));
  std::vector<cd> want(64, 0.0);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      for (int q2 = 0; q2 < 2; ++q2) want[(i + 4 * q2) * 8 + (j + 4 * q2)] = 0.5 * pair[i * 4 + j];
  EXPECT_LT(max_diff(rho_of(r), want), kTol);
  EXPECT_TRUE(r.sampled_from_final_state);

  // The averaged path (a non-terminal measurement, no feedback): pair (x) |0><0| on qubit 2.
  const DenseResult a = run("H 0\nCX 0 2\nMR 2\nBELL_PAIR(0.9) 0 1\nM 0\n", Representation::DensityMatrix,
                            10, true);
  EXPECT_FALSE(a.sampled_from_final_state);
  std::vector<cd> avg = rho_of(a);
  // M 0 at the end dephases qubit 0 in the averaged state; compare the diagonal and qubit 2.
  const auto red = reduce2(avg, 3, 0, 1);
  const auto p = bell_diagonal(werner(0.9));
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(red[i * 4 + i].real(), p[i * 4 + i].real(), kTol);
  double q2_one = 0;
  for (int k = 0; k < 8; ++k)
    if (k & 4) q2_one += avg[k * 8 + k].real();
  EXPECT_NEAR(q2_one, 0, kTol);

  // Trajectories: the reset is real, so a Phi+ pair always gives equal Z results.
  const DenseResult s = run("H 0\nCX 0 2\nH 1\nBELL_PAIR(1) 0 1\nM 0 1\n", Representation::StateVector, 400, false);
  int ones = 0;
  for (std::uint64_t k = 0; k < 400; ++k) {
    EXPECT_EQ(bit(s, k, 0), bit(s, k, 1)) << "shot " << k;
    ones += bit(s, k, 0);
  }
  EXPECT_GT(ones, 140);
  EXPECT_LT(ones, 260);
}

TEST(BellPair, BroadcastsOverPairs) {
  const DenseResult r = run("BELL_PAIR(0.7) 0 1 2 3\n", Representation::DensityMatrix, 0, true);
  const auto rho = rho_of(r);
  EXPECT_LT(max_diff(reduce2(rho, 4, 0, 1), bell_diagonal(werner(0.7))), kTol);
  EXPECT_LT(max_diff(reduce2(rho, 4, 2, 3), bell_diagonal(werner(0.7))), kTol);
}

// ---- trajectories against the density matrix ---------------------------------------------------

TEST(BellPair, PairMeasurementsMatchWeights) {
  const W w{0.55, 0.2, 0.1, 0.15};
  const std::uint64_t shots = 20000;
  // (xx, zz) -> Bell index: (0,0) Phi+, (0,1) Psi+, (1,1) Psi-, (1,0) Phi-.
  const int index[2][2] = {{0, 1}, {3, 2}};
  for (const std::string meas : {"MPP X0*X1 Z0*Z1\n", "MXX 0 1\nMZZ 0 1\n"}) {
    for (const Representation rep : {Representation::StateVector, Representation::DensityMatrix}) {
      const DenseResult r = run("BELL_PAIR" + args_of(w) + " 0 1\n" + meas, rep, shots, false, 11);
      ASSERT_EQ(r.num_measurements, 2u);
      W count{};
      double xx = 0, zz = 0;
      for (std::uint64_t k = 0; k < shots; ++k) {
        const bool bx = bit(r, k, 0), bz = bit(r, k, 1);
        count[index[bx][bz]] += 1.0 / shots;
        xx += (bx ? -1.0 : 1.0) / shots;
        zz += (bz ? -1.0 : 1.0) / shots;
      }
      for (int k = 0; k < 4; ++k) {
        const double sigma = std::sqrt(w[k] * (1 - w[k]) / shots);
        EXPECT_NEAR(count[k], w[k], 5 * sigma + 1e-9) << meas << " rep " << static_cast<int>(rep) << " k " << k;
      }
      // <XX> = (w1 + w2) - (w3 + w4), <ZZ> = (w1 + w4) - (w2 + w3).
      EXPECT_NEAR(xx, (w[0] + w[1]) - (w[2] + w[3]), 5 * std::sqrt(1.0 / shots));
      EXPECT_NEAR(zz, (w[0] + w[3]) - (w[1] + w[2]), 5 * std::sqrt(1.0 / shots));
    }
  }
}

TEST(BellPair, TrajectoriesAverageToTheDensityMatrix) {
  // Z-basis outcome distribution of a pair with weights: P(00) = P(11) = (w1 + w4)/2,
  // P(01) = P(10) = (w2 + w3)/2; the DM samples from its exact final state.
  const W w{0.6, 0.25, 0.05, 0.1};
  const std::uint64_t shots = 20000;
  const DenseResult dm = run("BELL_PAIR" + args_of(w) + " 0 1\nM 0 1\n", Representation::DensityMatrix, shots, true);
  EXPECT_TRUE(dm.sampled_from_final_state);
  const DenseResult sv = run("BELL_PAIR" + args_of(w) + " 0 1\nM 0 1\n", Representation::StateVector, shots, false);
  EXPECT_FALSE(sv.sampled_from_final_state);
  for (const DenseResult* r : {&dm, &sv}) {
    double differ = 0;
    for (std::uint64_t k = 0; k < shots; ++k) differ += (bit(*r, k, 0) != bit(*r, k, 1)) / double(shots);
    const double p = w[1] + w[2];
    EXPECT_NEAR(differ, p, 5 * std::sqrt(p * (1 - p) / shots));
  }
}

// ---- teleported CX -----------------------------------------------------------------------------

const char* kTeleport =
    "H 0\n"
    "BELL_PAIR{} 1 2\n"
    "TELEPORTED_CX 0 3 1 2\n";

std::string teleport(const std::string& args, const std::string& tail = "") {
  std::string t = kTeleport;
  t.replace(t.find("{}"), 2, args);
  return t + tail;
}

TEST(TeleportedCx, ExpandsToTheEisertProtocol) {
  const Circuit macro = parse_stim("TELEPORTED_CX 0 3 1 2\n", "m");
  const Circuit plain = parse_stim("CX 0 1\nM 1\nCX rec[-1] 2\nCX 2 3\nMX 2\nCZ rec[-1] 0\n", "p");
  EXPECT_TRUE(macro == plain);
  EXPECT_EQ(macro.str(), plain.str());
  EXPECT_TRUE(parse_stim(macro.str(), "r") == macro);
  EXPECT_TRUE(parse_stim("teleported_cx 0 3 1 2\n", "m") == plain);
  Circuit lib;
  append_teleported_cx(lib, 0, 3, 1, 2);
  EXPECT_TRUE(lib == plain);
  EXPECT_EQ(macro.num_measurements(), 2u);
  // Broadcast over groups of four, and inside REPEAT (rec[-1] always reaches the M just before).
  const Circuit two = parse_stim("TELEPORTED_CX 0 3 1 2 4 7 5 6\n", "m");
  Circuit lib2;
  append_teleported_cx(lib2, 0, 3, 1, 2);
  append_teleported_cx(lib2, 4, 7, 5, 6);
  EXPECT_TRUE(two == lib2);
  EXPECT_EQ(parse_stim("REPEAT 3 {\n  BELL_PAIR(1) 1 2\n  TELEPORTED_CX 0 3 1 2\n}\n", "m").num_measurements(), 6u);
  EXPECT_THROW(append_teleported_cx(lib, 0, 1, 1, 2), std::invalid_argument);
}

TEST(TeleportedCx, PerfectPairGivesPerfectCorrelations) {
  for (const Representation rep : {Representation::StateVector, Representation::DensityMatrix}) {
    for (const std::string basis : {"M", "MX"}) {
      const DenseResult r = run(teleport("(1)", basis + " 0 3\n"), rep, 500, false, 3);
      ASSERT_EQ(r.num_measurements, 4u);
      int ones = 0;
      for (std::uint64_t k = 0; k < 500; ++k) {
        EXPECT_EQ(bit(r, k, 2), bit(r, k, 3)) << basis << " shot " << k;
        ones += bit(r, k, 2);
      }
      EXPECT_GT(ones, 180) << basis;
      EXPECT_LT(ones, 320) << basis;
    }
  }
}

TEST(TeleportedCx, OutputCarriesThePairsWeights) {
  // Density matrix, shot 0's final state: the (control, target) pair is exactly the Bell-diagonal
  // state with the pair's weights (outcome independent), Werner F for a Werner pair.
  for (const W w : {werner(0.85), W{0.5, 0.1, 0.15, 0.25}}) {
    for (const std::uint64_t seed : {1, 2, 3}) {
      const DenseResult r = run(teleport(args_of(w)), Representation::DensityMatrix, 1, true, seed);
      ASSERT_EQ(r.state.size(), 256u);
      EXPECT_LT(max_diff(reduce2(rho_of(r), 4, 0, 3), bell_diagonal(w)), kTol) << "seed " << seed;
    }
  }
}

TEST(TeleportedCx, DisagreementRatesFromThePair) {
  // M c t disagree with probability w2 + w3 (X and Y on the pair), MX c t with w3 + w4 (Y and Z).
  const W w{0.7, 0.15, 0.05, 0.1};
  const std::uint64_t shots = 10000;
  for (const Representation rep : {Representation::StateVector, Representation::DensityMatrix}) {
    for (const std::string basis : {"M", "MX"}) {
      const DenseResult r = run(teleport(args_of(w), basis + " 0 3\n"), rep, shots, false, 5);
      double differ = 0;
      for (std::uint64_t k = 0; k < shots; ++k) differ += (bit(r, k, 2) != bit(r, k, 3)) / double(shots);
      const double p = basis == "M" ? w[1] + w[2] : w[2] + w[3];
      EXPECT_NEAR(differ, p, 5 * std::sqrt(p * (1 - p) / shots)) << basis << " rep " << static_cast<int>(rep);
    }
  }
}

TEST(TeleportedCx, MacroEqualsExplicitInstructions) {
  // The same circuit three ways: text with BELL_PAIR and the macro, the library call, and explicit
  // instructions (on fresh qubits the reset is the identity and, on a density matrix, BELL_PAIR
  // draws nothing, so records and states agree exactly).
  const double f = 0.9;
  const std::string tail = "M 0 3\n";
  const Circuit from_text = parse_stim(teleport("(0.9)", tail), "a");
  Circuit from_lib;
  {
    const Target h[] = {Target::qubit(0)};
    from_lib.append(GateId::H, {}, h);
    const double fa[] = {f};
    const Target pair[] = {Target::qubit(1), Target::qubit(2)};
    from_lib.append(GateId::BELL_PAIR, fa, pair);
    append_teleported_cx(from_lib, 0, 3, 1, 2);
    const Target m[] = {Target::qubit(0), Target::qubit(3)};
    from_lib.append(GateId::M, {}, m);
  }
  EXPECT_TRUE(from_text == from_lib);
  const double e = (1 - f) / 3;
  const std::string explicit_text =
      fmt::format("H 0\nH 1\nCX 1 2\nPAULI_CHANNEL_1({}, {}, {}) 1\n", e, e, e) +
      "CX 0 1\nM 1\nCX rec[-1] 2\nCX 2 3\nMX 2\nCZ rec[-1] 0\n" + tail;
  DenseOptions o;
  o.representation = Representation::DensityMatrix;
  o.shots = 2000;
  o.keep_state = true;
  o.seed = 9;
  const DenseResult a = run_dense(from_lib, o);
  const DenseResult b = run_dense(parse_stim(explicit_text, "b"), o);
  EXPECT_EQ(a.measurements, b.measurements);
  EXPECT_LT(max_diff(rho_of(a), rho_of(b)), kTol);
  // With an explicit reset in front the draws differ, but the (0, 3) state before the final M (the
  // end of shot 0 here) is the same, whatever the outcomes.
  const std::string no_tail = explicit_text.substr(0, explicit_text.size() - tail.size());
  const DenseResult c = run_dense(parse_stim("R 1 2\n" + no_tail, "c"), o);
  const DenseResult d = run_dense(parse_stim(teleport("(0.9)"), "d"), o);
  EXPECT_LT(max_diff(reduce2(rho_of(d), 4, 0, 3), reduce2(rho_of(c), 4, 0, 3)), kTol);
  EXPECT_LT(max_diff(reduce2(rho_of(d), 4, 0, 3), bell_diagonal(werner(f))), kTol);
}

// ---- the reader --------------------------------------------------------------------------------

TEST(BellPairParse, AcceptsOneOrFourArguments) {
  const Circuit c = parse_stim("BELL_PAIR(0.95) 0 1\nbell_pair(0.25, 0.25, 0.25, 0.2500000001) 2 3\n", "f");
  ASSERT_EQ(c.instructions().size(), 2u);
  EXPECT_EQ(c.instructions()[0].gate, GateId::BELL_PAIR);
  EXPECT_EQ(c.args(c.instructions()[1]).size(), 4u);
  EXPECT_TRUE(parse_stim(c.str(), "g") == c);
  EXPECT_EQ(c.num_measurements(), 0u);
  EXPECT_EQ(c.num_qubits(), 4u);
  EXPECT_EQ(gate_info(GateId::BELL_PAIR).kind, GateKind::Noise);
  EXPECT_EQ(gate_info(GateId::BELL_PAIR).group, 2);
  const auto w = bell_pair_weights(std::vector<double>{0.7});
  EXPECT_DOUBLE_EQ(w[0], 0.7);
  EXPECT_DOUBLE_EQ(w[3], 0.1);
}

TEST(BellPairParse, Errors) {
  EXPECT_EQ(error_of("BELL_PAIR(1.5) 0 1"), "f:1:11: BELL_PAIR fidelity must be in [0, 1], got 1.5");
  EXPECT_EQ(error_of("BELL_PAIR(-0.1) 0 1"), "f:1:11: BELL_PAIR fidelity must be in [0, 1], got -0.1");
  EXPECT_EQ(error_of("BELL_PAIR(0.5, 0.5) 0 1"),
            "f:1:10: BELL_PAIR takes 1 argument (the fidelity F) or 4 (the weights of Phi+, Psi+, Psi-, "
            "Phi-), got 2");
  EXPECT_EQ(error_of("BELL_PAIR 0 1"),
            "f:1:1: BELL_PAIR takes 1 argument (the fidelity F) or 4 (the weights of Phi+, Psi+, Psi-, "
            "Phi-), got 0");
  EXPECT_EQ(error_of("BELL_PAIR(0.5, 0.25, 0.25, 0.5) 0 1"), "f:1:11: BELL_PAIR weights must sum to 1, got 1.5");
  EXPECT_EQ(error_of("BELL_PAIR(0.5, 0.5, 1.5, -1.5) 0 1"),
            "f:1:21: BELL_PAIR weight of Psi- must be in [0, 1], got 1.5");
  EXPECT_EQ(error_of("BELL_PAIR(0.25, 0.25, 0.25, 0.25000001) 0 1"),
            "f:1:11: BELL_PAIR weights must sum to 1, got 1.00000001");
  EXPECT_EQ(error_of("BELL_PAIR(0.9) 0"), "f:1:16: BELL_PAIR needs an even number of targets, got 1");
  EXPECT_EQ(error_of("BELL_PAIR(0.9) 3 3"), "f:1:18: BELL_PAIR acts on qubit 3 twice in one application");
  EXPECT_EQ(error_of("BELL_PAIR(0.9) !0 1"), "f:1:16: BELL_PAIR does not take inverted targets, got '!0'");
  EXPECT_EQ(error_of("TELEPORTED_CX 0 1 2"),
            "f:1:15: TELEPORTED_CX needs a multiple of 4 targets (control, target, pair qubit a, pair qubit "
            "b), got 3");
  EXPECT_EQ(error_of("TELEPORTED_CX"),
            "f:1:1: TELEPORTED_CX needs a multiple of 4 targets (control, target, pair qubit a, pair qubit "
            "b), got 0");
  EXPECT_EQ(error_of("TELEPORTED_CX 0 1 2 1"), "f:1:21: TELEPORTED_CX acts on qubit 1 twice in one application");
  EXPECT_EQ(error_of("TELEPORTED_CX(0.5) 0 1 2 3"), "f:1:14: TELEPORTED_CX takes no parenthesised arguments");
  EXPECT_EQ(error_of("M 0\nTELEPORTED_CX rec[-1] 1 2 3"),
            "f:2:15: TELEPORTED_CX takes qubit targets (control, target, pair qubit a, pair qubit b), got "
            "'rec[-1]'");
  EXPECT_EQ(error_of("TELEPORTED_CX X0 1 2 3"),
            "f:1:15: TELEPORTED_CX takes qubit targets (control, target, pair qubit a, pair qubit b), got "
            "'X0'");
}

}  // namespace
