// The state-vector engine and its kernels against the plain reference simulator, analytic
// results (teleportation, Bell and GHZ statistics), and its error handling.
#include <gtest/gtest.h>

#include <cmath>
#include <omp.h>
#include <random>

#include "host/errors.h"
#include "host/dense_engine.h"
#include "kernels/statevec.h"
#include "tests/reference_sim.h"

namespace {
using namespace qw;
using qw::testing::Vec;

Vec to_ref(const std::vector<cplx>& a) {
  Vec v(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) v[i] = {a[i].re, a[i].im};
  return v;
}

Vec random_state(unsigned n, std::mt19937_64& rng) {
  std::normal_distribution<double> g;
  Vec v(std::size_t{1} << n);
  double norm = 0;
  for (auto& x : v) {
    x = {g(rng), g(rng)};
    norm += std::norm(x);
  }
  for (auto& x : v) x /= std::sqrt(norm);
  return v;
}

std::vector<cplx> from_ref(const Vec& v) {
  std::vector<cplx> a(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) a[i] = {static_cast<real>(v[i].real()), static_cast<real>(v[i].imag())};
  return a;
}

const double kTol = sizeof(real) == 8 ? 1e-12 : 1e-5;

std::vector<const GateInfo*> fixed_unitaries() {
  std::vector<const GateInfo*> out;
  for (const auto& g : all_gates()) {
    if (g.kind == GateKind::Unitary && g.group > 0) out.push_back(&g);
  }
  return out;
}

TEST(BitIndex, InsertZeroBits) {
  EXPECT_EQ(insert_zero_bit(0b1011, 0), 0b10110u);
  EXPECT_EQ(insert_zero_bit(0b1011, 2), 0b10011u);
  EXPECT_EQ(insert_zero_bit(0b1011, 4), 0b01011u);
  EXPECT_EQ(insert_two_zero_bits(0b111, 1, 3), 0b10101u);
  EXPECT_EQ(insert_zero_bit(index_t{1} << 40, 35), index_t{1} << 41);  // 64-bit indices
}

// Every unitary gate, on every placement of its qubits among 5, against its matrix.
TEST(SvKernels, EveryGateOnEveryPlacementMatchesItsMatrix) {
  std::mt19937_64 rng(1);
  const unsigned n = 5;
  for (const GateInfo* g : fixed_unitaries()) {
    std::vector<double> args;
    for (int k = 0; k < g->min_args; ++k) args.push_back(0.3 + 0.7 * k);
    const auto u = gate_matrix(g->id, args);
    for (int trial = 0; trial < 6; ++trial) {
      std::vector<unsigned> qs(n);
      for (unsigned i = 0; i < n; ++i) qs[i] = i;
      std::shuffle(qs.begin(), qs.end(), rng);
      qs.resize(g->group);
      Vec ref = random_state(n, rng);
      StateVector sv(n);
      sv.from_host(from_ref(ref));
      std::vector<std::uint32_t> q32(qs.begin(), qs.end());
      sv.apply_gate(g->id, args, q32);
      qw::testing::ref_apply(ref, u, qs);
      EXPECT_LT(qw::testing::max_abs_diff(to_ref(sv.to_host()), ref), kTol) << g->name;
    }
  }
}

// Random circuits on 1..8 qubits through the engine vs the reference, amplitudes to 1e-12.
TEST(SvEngine, RandomCircuitsMatchReference) {
  std::mt19937_64 rng(7);
  const auto gates = fixed_unitaries();
  for (int trial = 0; trial < 60; ++trial) {
    const unsigned n = 1 + trial % 8;
    Circuit c;
    Vec ref = qw::testing::ref_zero_state(n);
    for (int k = 0; k < 40; ++k) {
      const GateInfo* g = gates[rng() % gates.size()];
      if (g->group > n) continue;
      std::vector<unsigned> qs(n);
      for (unsigned i = 0; i < n; ++i) qs[i] = i;
      std::shuffle(qs.begin(), qs.end(), rng);
      qs.resize(g->group);
      std::vector<double> args;
      for (int a = 0; a < g->min_args; ++a) args.push_back(std::uniform_real_distribution<double>(-4, 4)(rng));
      std::vector<Target> ts;
      for (unsigned q : qs) ts.push_back(Target::qubit(q));
      // Make the circuit span all n qubits so num_qubits() == n.
      c.append(g->id, args, ts);
      qw::testing::ref_apply(ref, gate_matrix(g->id, args), qs);
    }
    std::vector<Target> all;
    for (unsigned q = 0; q < n; ++q) all.push_back(Target::qubit(q));
    c.append(GateId::I, {}, all);
    SvOptions opt;
    opt.shots = 0;
    opt.keep_state = true;
    const SvResult r = run_sv(c, opt);
    ASSERT_EQ(r.num_qubits, n);
    EXPECT_LT(qw::testing::max_abs_diff(to_ref(r.state), ref), kTol) << "trial " << trial;
  }
}

Circuit bell_ghz(unsigned n, GateId measure = GateId::M) {
  Circuit c;
  const Target t0 = Target::qubit(0);
  c.append(GateId::H, {}, {&t0, 1});
  for (unsigned q = 1; q < n; ++q) {
    const Target p[2] = {Target::qubit(q - 1), Target::qubit(q)};
    c.append(GateId::CX, {}, p);
  }
  std::vector<Target> all;
  for (unsigned q = 0; q < n; ++q) all.push_back(Target::qubit(q));
  c.append(measure, {}, all);
  return c;
}

bool bit(const SvResult& r, std::uint64_t shot, std::uint64_t j) {
  return (r.measurements[shot * r.bytes_per_shot + j / 8] >> (j % 8)) & 1u;
}

TEST(SvEngine, GhzSamplesAreAllEqualAndBalanced) {
  const unsigned n = 10;
  SvOptions opt;
  opt.shots = 20000;
  opt.seed = 3;
  const SvResult r = run_sv(bell_ghz(n), opt);
  EXPECT_TRUE(r.sampled_from_final_state);
  std::uint64_t ones = 0;
  for (std::uint64_t s = 0; s < opt.shots; ++s) {
    for (unsigned j = 1; j < n; ++j) ASSERT_EQ(bit(r, s, j), bit(r, s, 0)) << s;
    ones += bit(r, s, 0);
  }
  // Binomial(20000, 1/2): sigma = 70.7; 5 sigma.
  EXPECT_NEAR(static_cast<double>(ones), 10000.0, 5 * 70.72);
}

TEST(SvEngine, GhzInXBasisHasEvenParity) {
  // MX on a GHZ state: the X-parity of all qubits is +1 (even number of ones), each bit uniform.
  const SvResult r = run_sv(bell_ghz(6, GateId::MX), SvOptions{4000, 11});
  std::uint64_t ones0 = 0;
  for (std::uint64_t s = 0; s < 4000; ++s) {
    unsigned par = 0;
    for (unsigned j = 0; j < 6; ++j) par ^= bit(r, s, j);
    ASSERT_EQ(par, 0u);
    ones0 += bit(r, s, 0);
  }
  EXPECT_NEAR(static_cast<double>(ones0), 2000.0, 5 * std::sqrt(1000.0));
}

TEST(SvEngine, ProductStateMarginalsMatchBornRule) {
  // RY(theta_q) on each qubit: P(1) = sin^2(theta_q / 2).
  Circuit c;
  const unsigned n = 5;
  const std::uint64_t shots = 40000;
  for (unsigned q = 0; q < n; ++q) {
    const double th = 0.4 + 0.5 * q;
    const Target t = Target::qubit(q);
    c.append(GateId::ROT_Y, {&th, 1}, {&t, 1});
  }
  std::vector<Target> all;
  for (unsigned q = 0; q < n; ++q) all.push_back(Target::qubit(q));
  c.append(GateId::M, {}, all);
  const SvResult r = run_sv(c, SvOptions{shots, 5});
  for (unsigned q = 0; q < n; ++q) {
    const double p = std::pow(std::sin((0.4 + 0.5 * q) / 2), 2);
    std::uint64_t ones = 0;
    for (std::uint64_t s = 0; s < shots; ++s) ones += bit(r, s, q);
    EXPECT_NEAR(ones / double(shots), p, 5 * std::sqrt(p * (1 - p) / shots)) << q;
  }
}

TEST(SvEngine, TeleportationDeliversTheStateOnEveryShot) {
  // q0 = U3(a,b,c)|0> teleported to q2 with mid-circuit measurement and rec-controlled Paulis.
  const double a[3] = {1.1, 0.7, -0.4};
  Circuit c;
  const Target q0 = Target::qubit(0), q1 = Target::qubit(1), q2 = Target::qubit(2);
  c.append(GateId::U3, a, {&q0, 1});
  c.append(GateId::H, {}, {&q1, 1});
  const Target p12[2] = {q1, q2}, p01[2] = {q0, q1};
  c.append(GateId::CX, {}, p12);
  c.append(GateId::CX, {}, p01);
  c.append(GateId::H, {}, {&q0, 1});
  const Target m[2] = {q0, q1};
  c.append(GateId::M, {}, m);
  const Target fx[2] = {Target::rec(1), q2}, fz[2] = {Target::rec(2), q2};
  c.append(GateId::CX, {}, fx);
  c.append(GateId::CZ, {}, fz);
  // Undo the preparation on q2: it must come back to |0> on every shot.
  const double inv[3] = {-a[0], -a[2], -a[1]};
  c.append(GateId::U3, inv, {&q2, 1});
  c.append(GateId::M, {}, {&q2, 1});
  const SvResult r = run_sv(c, SvOptions{500, 9});
  EXPECT_FALSE(r.sampled_from_final_state);
  std::uint64_t outcomes[4] = {};
  for (std::uint64_t s = 0; s < 500; ++s) {
    ASSERT_FALSE(bit(r, s, 2)) << "shot " << s;
    outcomes[bit(r, s, 0) + 2 * bit(r, s, 1)]++;
  }
  for (auto k : outcomes) EXPECT_GT(k, 60u);  // the Bell outcomes are uniform (125 each)
}

TEST(SvEngine, ResetsPauliProductMeasurementsAndInversion) {
  Circuit c = bell_ghz(2, GateId::I);  // Bell pair, no measurement
  const Target xx[3] = {Target::pauli('X', 0), Target::combiner(), Target::pauli('X', 1)};
  const Target yy[3] = {Target::pauli('Y', 0), Target::combiner(), Target::pauli('Y', 1)};
  const Target zz[3] = {Target::pauli('Z', 0), Target::combiner(), Target::pauli('Z', 1, true)};
  c.append(GateId::MPP, {}, xx);
  c.append(GateId::MPP, {}, yy);
  c.append(GateId::MPP, {}, zz);
  const Target q0 = Target::qubit(0);
  c.append(GateId::R, {}, {&q0, 1});
  c.append(GateId::M, {}, {&q0, 1});
  const Target q1n = Target::qubit(1, true);
  c.append(GateId::MR, {}, {&q1n, 1});
  const Target q1 = Target::qubit(1);
  c.append(GateId::M, {}, {&q1, 1});
  const SvResult r = run_sv(c, SvOptions{200, 1});
  for (std::uint64_t s = 0; s < 200; ++s) {
    EXPECT_FALSE(bit(r, s, 0));  // XX = +1 on Phi+
    EXPECT_TRUE(bit(r, s, 1));   // YY = -1 on Phi+
    EXPECT_TRUE(bit(r, s, 2));   // ZZ = +1, inverted
    EXPECT_FALSE(bit(r, s, 3));  // reset to |0>
    EXPECT_FALSE(bit(r, s, 5));  // MR left |0>
  }
}

TEST(SvEngine, SameSeedSameShotsForAnyThreadCount) {
  Circuit c = bell_ghz(12);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const SvResult a = run_sv(c, SvOptions{3000, 77});
  omp_set_num_threads(2);
  const SvResult b = run_sv(c, SvOptions{3000, 77});
  omp_set_num_threads(saved);
  EXPECT_EQ(a.measurements, b.measurements);
  const SvResult other = run_sv(c, SvOptions{3000, 78});
  EXPECT_NE(a.measurements, other.measurements);
}

TEST(SvEngine, SampledAndPerShotPathsAgreeInDistribution) {
  // Same circuit, once with terminal measurements and once forced per shot by a trailing reset.
  Circuit sampled = bell_ghz(3);
  Circuit per_shot = bell_ghz(3);
  const Target q0 = Target::qubit(0);
  per_shot.append(GateId::R, {}, {&q0, 1});
  const SvResult a = run_sv(sampled, SvOptions{4000, 1});
  const SvResult b = run_sv(per_shot, SvOptions{4000, 2});
  EXPECT_TRUE(a.sampled_from_final_state);
  EXPECT_FALSE(b.sampled_from_final_state);
  std::uint64_t na = 0, nb = 0;
  for (std::uint64_t s = 0; s < 4000; ++s) {
    na += bit(a, s, 0);
    nb += bit(b, s, 0);
    ASSERT_EQ(bit(b, s, 0), bit(b, s, 2));
  }
  // Difference of two Binomial(4000, 1/2): sigma = sqrt(2000) ~ 44.7.
  EXPECT_NEAR(double(na), double(nb), 5 * 44.8);
}

TEST(SvEngine, TooLargeStateFailsBeforeAllocation) {
  Circuit c;
  const Target t = Target::qubit(39);
  c.append(GateId::H, {}, {&t, 1});
  SvOptions opt;
  opt.memory_limit_bytes = std::uint64_t{1} << 30;
  try {
    run_sv(c, opt);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("40-qubit state needs"), std::string::npos) << msg;
    EXPECT_NE(msg.find("1.0 GiB available"), std::string::npos) << msg;
  }
}

TEST(SvEngine, IdleWithoutCoherenceTimesIsRejectedWithItsLocation) {
  Circuit c;
  c.source_name = "noisy.stim";
  const Target t = Target::qubit(0);
  const double dt = 1e-6;
  c.append(GateId::IDLE, {&dt, 1}, {&t, 1}, SourceLocation{4, 1});
  try {
    run_sv(c, SvOptions{});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("noisy.stim:4:1: IDLE(t) needs", 0), 0u) << e.what();
  }
  SvOptions bad;
  bad.t1_s = 1e-3;
  bad.t2_s = 3e-3;
  EXPECT_THROW(run_sv(c, bad), InputError);  // T2 > 2 T1
}

TEST(SvKernels, ExpectationAndNormReductions) {
  std::mt19937_64 rng(3);
  const unsigned n = 9;
  Vec psi = random_state(n, rng);
  StateVector sv(n);
  sv.from_host(from_ref(psi));
  EXPECT_NEAR(sv::norm_squared(sv.data(), sv.size()), 1.0, kTol);
  // <Y2 X5 Z7> against the reference built from matrices.
  Vec p = psi;
  const std::vector<qw::testing::cd> X = {0, 1, 1, 0}, Y = {0, {0, -1}, {0, 1}, 0}, Z = {1, 0, 0, -1};
  qw::testing::ref_apply(p, Y, {2});
  qw::testing::ref_apply(p, X, {5});
  qw::testing::ref_apply(p, Z, {7});
  double want = 0;
  for (std::size_t i = 0; i < psi.size(); ++i) want += (std::conj(psi[i]) * p[i]).real();
  const index_t x = (1u << 2) | (1u << 5), z = (1u << 2) | (1u << 7);
  EXPECT_NEAR(sv::expectation_pauli(sv.data(), sv.size(), x, z, 1), want, kTol);
}

}  // namespace
