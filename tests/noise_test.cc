// Noise channels and the density-matrix engine: every channel against its Kraus definition (written
// here independently of the engine), analytic decay curves and fixed points, density matrix vs
// trajectories, and trajectories independent of the batch size.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <complex>
#include <map>
#include <random>
#include <string>

#include "host/dense_engine.h"
#include "host/errors.h"
#include "host/parse.h"
#include "tests/reference_sim.h"

namespace {
using namespace qw;
using cd = std::complex<double>;
using Dense = std::vector<cd>;  // row-major square matrix
const cd kI(0, 1);
const double kTol = sizeof(real) == 8 ? 1e-12 : 2e-5;

Dense pauli(int c) {
  switch (c) {
    case 1: return {0, 1, 1, 0};
    case 2: return {0, -kI, kI, 0};
    case 3: return {1, 0, 0, -1};
    default: return {1, 0, 0, 1};
  }
}
Dense kron2(const Dense& on_q1, const Dense& on_q0) {  // index bit 0 = q0
  Dense m(16);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) m[r * 4 + c] = on_q0[(r & 1) * 2 + (c & 1)] * on_q1[(r >> 1) * 2 + (c >> 1)];
  return m;
}
Dense scaled(Dense m, double s) {
  for (auto& x : m) x *= s;
  return m;
}

// The full 2^n matrix of the operator k acting on qubits qs.
Dense embed(const Dense& k, const std::vector<unsigned>& qs, unsigned n) {
  const std::size_t dim = std::size_t{1} << n;
  Dense full(dim * dim);
  for (std::size_t col = 0; col < dim; ++col) {
    qw::testing::Vec v(dim, 0.0);
    v[col] = 1;
    qw::testing::ref_apply(v, k, qs);
    for (std::size_t r = 0; r < dim; ++r) full[r * dim + col] = v[r];
  }
  return full;
}

Dense apply_kraus(const Dense& rho, const std::vector<Dense>& kraus, const std::vector<unsigned>& qs, unsigned n) {
  const std::size_t dim = std::size_t{1} << n;
  Dense out(dim * dim, 0.0);
  for (const auto& k : kraus) {
    const Dense f = embed(k, qs, n);
    for (std::size_t i = 0; i < dim; ++i)
      for (std::size_t j = 0; j < dim; ++j) {
        cd s = 0;
        for (std::size_t a = 0; a < dim; ++a)
          for (std::size_t b = 0; b < dim; ++b) s += f[i * dim + a] * rho[a * dim + b] * std::conj(f[j * dim + b]);
        out[i * dim + j] += s;
      }
  }
  return out;
}

std::string fmt_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

const char* kPrep = "RY(0.7) 0\nRX(1.1) 1\nH 2\nCX 2 0\nU3(0.3, 1.2, -0.4) 1\nCZ 1 2\nT 0\nRZ(0.5) 2\n";

Dense prep_rho() {
  const Circuit c = parse_stim(kPrep, "prep.stim");
  DenseOptions o;
  o.shots = 0;
  o.keep_state = true;
  const auto r = run_dense(c, o);
  const std::size_t dim = r.state.size();
  Dense rho(dim * dim);
  for (std::size_t i = 0; i < dim; ++i)
    for (std::size_t j = 0; j < dim; ++j)
      rho[i * dim + j] = cd(r.state[i].re, r.state[i].im) * std::conj(cd(r.state[j].re, r.state[j].im));
  return rho;
}

Dense run_density(const std::string& text, DenseOptions o = {}) {
  o.representation = Representation::DensityMatrix;
  o.shots = 0;
  o.keep_state = true;
  const auto r = run_dense(parse_stim(text, "channel.stim"), o);
  Dense out(r.state.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = {r.state[i].re, r.state[i].im};
  return out;
}

double max_diff(const Dense& a, const Dense& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

void expect_density_matrix(const Dense& rho, const std::string& what) {
  const std::size_t dim = static_cast<std::size_t>(std::lround(std::sqrt(double(rho.size()))));
  cd tr = 0;
  for (std::size_t i = 0; i < dim; ++i) tr += rho[i * dim + i];
  EXPECT_NEAR(tr.real(), 1.0, kTol) << what;
  for (std::size_t i = 0; i < dim; ++i)
    for (std::size_t j = 0; j < dim; ++j) EXPECT_LT(std::abs(rho[i * dim + j] - std::conj(rho[j * dim + i])), kTol) << what;
  // Positivity: <v|rho|v> >= 0 for many random v.
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g;
  for (int t = 0; t < 200; ++t) {
    std::vector<cd> v(dim);
    for (auto& x : v) x = {g(rng), g(rng)};
    cd s = 0;
    for (std::size_t i = 0; i < dim; ++i)
      for (std::size_t j = 0; j < dim; ++j) s += std::conj(v[i]) * rho[i * dim + j] * v[j];
    EXPECT_GT(s.real(), -kTol) << what;
  }
}

TEST(DensityChannels, EveryChannelMatchesItsKrausDefinition) {
  const Dense rho0 = prep_rho();
  const double p = 0.13, px = 0.05, py = 0.07, pz = 0.11, g = 0.3, l = 0.45;
  struct Case {
    std::string text;
    std::vector<Dense> kraus;
    std::vector<unsigned> qs;
  };
  std::vector<Case> cases = {
      {"X_ERROR(0.13) 1", {scaled(pauli(0), std::sqrt(1 - p)), scaled(pauli(1), std::sqrt(p))}, {1}},
      {"Y_ERROR(0.13) 0", {scaled(pauli(0), std::sqrt(1 - p)), scaled(pauli(2), std::sqrt(p))}, {0}},
      {"Z_ERROR(0.13) 2", {scaled(pauli(0), std::sqrt(1 - p)), scaled(pauli(3), std::sqrt(p))}, {2}},
      {"DEPOLARIZE1(0.13) 1",
       {scaled(pauli(0), std::sqrt(1 - p)), scaled(pauli(1), std::sqrt(p / 3)), scaled(pauli(2), std::sqrt(p / 3)),
        scaled(pauli(3), std::sqrt(p / 3))}, {1}},
      {"PAULI_CHANNEL_1(0.05, 0.07, 0.11) 2",
       {scaled(pauli(0), std::sqrt(1 - px - py - pz)), scaled(pauli(1), std::sqrt(px)), scaled(pauli(2), std::sqrt(py)),
        scaled(pauli(3), std::sqrt(pz))}, {2}},
      {"AMPLITUDE_DAMP(0.3) 0", {{1, 0, 0, std::sqrt(1 - g)}, {0, std::sqrt(g), 0, 0}}, {0}},
      {"PHASE_DAMP(0.45) 1", {{1, 0, 0, std::sqrt(1 - l)}, {0, 0, 0, std::sqrt(l)}}, {1}},
  };
  {  // DEPOLARIZE2: the 15 non-identity two-qubit Paulis, p/15 each.
    Case c{"DEPOLARIZE2(0.13) 2 0", {scaled(kron2(pauli(0), pauli(0)), std::sqrt(1 - p))}, {2, 0}};
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b)
        if (a || b) c.kraus.push_back(scaled(kron2(pauli(b), pauli(a)), std::sqrt(p / 15)));
    cases.push_back(c);
  }
  {  // PAULI_CHANNEL_2: arguments in the order IX IY IZ XI XX ... ZZ, first letter on the first target.
    std::string text = "PAULI_CHANNEL_2(";
    Case c{"", {}, {0, 2}};
    double total = 0;
    for (int j = 1; j < 16; ++j) {
      const double pj = 0.004 * j;
      total += pj;
      text += (j > 1 ? ", " : "") + std::to_string(pj);
      c.kraus.push_back(scaled(kron2(pauli(j & 3), pauli(j >> 2)), std::sqrt(pj)));
    }
    c.kraus.push_back(scaled(kron2(pauli(0), pauli(0)), std::sqrt(1 - total)));
    c.text = text + ") 0 2";
    cases.push_back(c);
  }
  for (const auto& c : cases) {
    const Dense got = run_density(std::string(kPrep) + c.text + "\n");
    const Dense want = apply_kraus(rho0, c.kraus, c.qs, 3);
    EXPECT_LT(max_diff(got, want), kTol) << c.text;
    expect_density_matrix(got, c.text);
  }
}

TEST(DensityChannels, CorrelatedErrorChainIsAMixtureOfExclusiveBranches) {
  const Dense rho0 = prep_rho();
  // E(0.2) X0 Z1; ELSE(0.5) Y2: X0Z1 w.p. 0.2, Y2 w.p. 0.8 * 0.5, nothing w.p. 0.4.
  const Dense got = run_density(std::string(kPrep) + "E(0.2) X0 Z1\nELSE_CORRELATED_ERROR(0.5) Y2\n");
  const Dense xz = kron2(pauli(3), pauli(1));
  Dense want = apply_kraus(rho0, {scaled(xz, std::sqrt(0.2))}, {0, 1}, 3);
  const Dense y = apply_kraus(rho0, {scaled(pauli(2), std::sqrt(0.4))}, {2}, 3);
  for (std::size_t i = 0; i < want.size(); ++i) want[i] += y[i] + 0.4 * rho0[i];
  EXPECT_LT(max_diff(got, want), kTol);
}

TEST(DensityChannels, IdleFollowsT1AndT2Curves) {
  DenseOptions o;
  o.t1_s = 50e-6;
  o.t2_s = 30e-6;
  for (double t : {0.0, 5e-6, 20e-6, 80e-6}) {
    const std::string ts = std::to_string(t);
    // |+>: coherence 1/2 e^{-t/T2}; |1>: population e^{-t/T1}.
    const Dense plus = run_density("H 0\nIDLE(" + ts + ") 0\n", o);
    EXPECT_NEAR(std::abs(plus[1]), 0.5 * std::exp(-t / o.t2_s), kTol) << t;
    const Dense one = run_density("X 0\nIDLE(" + ts + ") 0\n", o);
    EXPECT_NEAR(one[3].real(), std::exp(-t / o.t1_s), kTol) << t;
  }
}

TEST(DensityChannels, DepolarisingFixedPointIsMaximallyMixed) {
  // DEPOLARIZE1(3/4) maps any state to I/2; DEPOLARIZE2(15/16) any two-qubit state to I/4.
  const Dense a = run_density("RY(0.4) 0\nDEPOLARIZE1(0.75) 0\n");
  EXPECT_LT(max_diff(a, {0.5, 0, 0, 0.5}), kTol);
  const Dense b = run_density("H 0\nCX 0 1\nDEPOLARIZE2(0.9375) 0 1\n");
  Dense quarter(16, 0.0);
  for (int i = 0; i < 4; ++i) quarter[i * 5] = 0.25;
  EXPECT_LT(max_diff(b, quarter), kTol);
}

TEST(DensityEngine, UnitariesMatchTheStateVector) {
  // A pure-state circuit: the density matrix is |psi><psi| of the state-vector engine.
  const Dense want = prep_rho();
  EXPECT_LT(max_diff(run_density(kPrep), want), kTol);
}

TEST(DensityEngine, SavedStateAveragesMeasurementsAndHeralds) {
  // Bell pair, M 0 dephases, HERALDED_ERASE(0.4) on 1 depolarises it w.p. 0.4 (averaged over the herald):
  // rho = 1/2 |0><0| (x) (0.8|0><0| + 0.2|1><1|) + 1/2 |1><1| (x) (0.2|0><0| + 0.8|1><1|).
  const Dense a = run_density("H 0\nCX 0 1\nM 0\nHERALDED_ERASE(0.4) 1\n");
  Dense want(16, 0.0);
  want[0 * 5] = 0.4;   // q0 = 0, q1 = 0
  want[1 * 5] = 0.1;   // q0 = 1, q1 = 0
  want[2 * 5] = 0.1;   // q0 = 0, q1 = 1
  want[3 * 5] = 0.4;   // q0 = 1, q1 = 1
  EXPECT_LT(max_diff(a, want), kTol);
  // Then RX 0 resets qubit 0 to |+> and MR 1 leaves qubit 1 in |0>: |+><+| (x) |0><0|.
  const Dense b = run_density("H 0\nCX 0 1\nM 0\nHERALDED_ERASE(0.4) 1\nRX 0\nMR 1\n");
  Dense plus0(16, 0.0);
  for (int r : {0, 1})
    for (int c : {0, 1}) plus0[r * 4 + c] = 0.5;
  EXPECT_LT(max_diff(b, plus0), kTol);
}

TEST(DensityEngine, MidCircuitPauliMeasurementsAgreeWithTheStateVector) {
  // |+i> measured in Y mid-circuit is +1 every time (a sign error in tr(Y rho) made it random);
  // Y-type products through MPP and MYY too. Feedback forces shot-by-shot runs.
  const char* text = "H 0\nS 0\nMY 0\nH 1\nS 1\nH 2\nCX 2 3\nMPP Y2*Y3\nMYY 2 3\nMPP X2*X3\nM 1\nCX rec[-1] 4\nM 4\n";
  for (const auto rep : {Representation::StateVector, Representation::DensityMatrix}) {
    DenseOptions o;
    o.representation = rep;
    o.shots = 200;
    const auto r = run_dense(parse_stim(text, "y.stim"), o);
    ASSERT_FALSE(r.sampled_from_final_state);
    for (std::uint64_t s = 0; s < 200; ++s) {
      const std::uint8_t row = r.measurements[s];
      EXPECT_EQ(row & 1, 0) << "MY of |+i>";
      EXPECT_EQ((row >> 1) & 1, 1) << "Y2Y3 of Phi+ is -1";
      EXPECT_EQ((row >> 2) & 1, 1) << "MYY";
      EXPECT_EQ((row >> 3) & 1, 0) << "X2X3 of Phi+ is +1";
      EXPECT_EQ((row >> 4) & 1, (row >> 5) & 1) << "feedback copies the Y-basis-prepared qubit's Z outcome";
    }
  }
}

TEST(DensityEngine, MeasurementCollapseAndResetPerShot) {
  // Bell pair, measure qubit 0 mid-circuit, then the two records agree; reset leaves |0>.
  DenseOptions o;
  o.representation = Representation::DensityMatrix;
  o.shots = 300;
  o.seed = 4;
  const auto r = run_dense(parse_stim("H 0\nCX 0 1\nM 0\nX_ERROR(0) 0\nM 1\nR 0\nM 0\n", "c.stim"), o);
  EXPECT_FALSE(r.sampled_from_final_state);
  std::uint64_t ones = 0;
  for (std::uint64_t s = 0; s < 300; ++s) {
    const std::uint8_t row = r.measurements[s];
    EXPECT_EQ(row & 1, (row >> 1) & 1);
    EXPECT_EQ((row >> 2) & 1, 0);
    ones += row & 1;
  }
  EXPECT_NEAR(double(ones), 150.0, 5 * std::sqrt(75.0));
}

// Outcome distribution of 3 noisy qubits: exact from the density matrix, sampled by trajectories.
const char* kNoisy =
    "H 0\nCX 0 1\nAMPLITUDE_DAMP(0.2) 0\nDEPOLARIZE2(0.1) 1 2\nRX(0.8) 2\nPHASE_DAMP(0.3) 1\n"
    "H 1\nY_ERROR(0.05) 2\nE(0.1) X0 X2\nELSE_CORRELATED_ERROR(0.2) Z1\nM 0 1 2\n";

std::vector<double> exact_distribution(const std::string& text) {
  DenseOptions o;
  o.representation = Representation::DensityMatrix;
  o.shots = 0;
  o.keep_state = true;
  const auto r = run_dense(parse_stim(text, "noisy.stim"), o);
  const std::size_t dim = std::size_t{1} << r.num_qubits;
  std::vector<double> p(dim);
  for (std::size_t i = 0; i < dim; ++i) p[i] = r.state[i * dim + i].re;
  return p;
}

double chi_square(const std::vector<double>& p, const DenseResult& r, std::uint64_t shots) {
  std::vector<double> counts(p.size(), 0.0);
  for (std::uint64_t s = 0; s < shots; ++s) counts[r.measurements[s] & 7]++;
  double chi = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double e = p[i] * shots;
    if (e > 0) chi += (counts[i] - e) * (counts[i] - e) / e;
  }
  return chi;
}

TEST(Trajectories, ReproduceTheDensityMatrixDistribution) {
  const std::vector<double> p = exact_distribution(kNoisy);
  double total = 0;
  for (double x : p) total += x;
  EXPECT_NEAR(total, 1.0, kTol);
  DenseOptions o;
  o.shots = 20000;
  o.seed = 8;
  const auto traj = run_dense(parse_stim(kNoisy, "noisy.stim"), o);
  EXPECT_FALSE(traj.sampled_from_final_state);
  // 7 degrees of freedom: P(chi2 > 30) ~ 1e-4 for a right implementation.
  EXPECT_LT(chi_square(p, traj, o.shots), 30.0);
  // A wrong channel strength gives a distribution the same test rejects.
  std::string wrong = kNoisy;
  wrong.replace(wrong.find("AMPLITUDE_DAMP(0.2)"), 19, "AMPLITUDE_DAMP(0.3)");
  EXPECT_GT(chi_square(exact_distribution(wrong), traj, o.shots), 30.0);
  // The density matrix's own per-shot sampling (terminal measurements) agrees as well.
  o.representation = Representation::DensityMatrix;
  const auto dm = run_dense(parse_stim(kNoisy, "noisy.stim"), o);
  EXPECT_TRUE(dm.sampled_from_final_state);
  EXPECT_LT(chi_square(p, dm, o.shots), 30.0);
}

TEST(Trajectories, ErrorShrinksAsOneOverSqrtShots) {
  // P(1) after AMPLITUDE_DAMP(0.35) on |1> is 0.65; the trajectory estimate's error over 24 seeds.
  const Circuit c = parse_stim("X 0\nAMPLITUDE_DAMP(0.35) 0\nM 0\n", "ad.stim");
  auto rms = [&](std::uint64_t shots) {
    double s2 = 0;
    for (std::uint64_t seed = 0; seed < 24; ++seed) {
      DenseOptions o;
      o.shots = shots;
      o.seed = 1000 + seed;
      const auto r = run_dense(c, o);
      double ones = 0;
      for (std::uint64_t k = 0; k < shots; ++k) ones += r.measurements[k] & 1;
      s2 += std::pow(ones / shots - 0.65, 2);
    }
    return std::sqrt(s2 / 24);
  };
  const double e1 = rms(400), e2 = rms(6400);
  const double sigma1 = std::sqrt(0.65 * 0.35 / 400), sigma2 = std::sqrt(0.65 * 0.35 / 6400);
  EXPECT_NEAR(e1 / sigma1, 1.0, 0.5);  // RMS of 24 draws: within ~3 sigma of its own spread
  EXPECT_NEAR(e2 / sigma2, 1.0, 0.5);
  EXPECT_GT(e1 / e2, 2.0);  // 16x the shots: ~4x smaller
}

TEST(Trajectories, IndependentOfBatchSize) {
  const Circuit c = parse_stim(std::string(kNoisy) + "HERALDED_ERASE(0.3) 0\nMR(0.1) 0 1\nMPAD 1 0\n", "b.stim");
  std::vector<std::uint8_t> first;
  for (std::uint64_t b : {1ull, 7ull, 64ull, 0ull}) {
    DenseOptions o;
    o.shots = 500;
    o.seed = 21;
    o.max_batch = b;
    const auto r = run_dense(c, o);
    if (first.empty()) first = r.measurements;
    EXPECT_EQ(r.measurements, first) << "batch " << b;
  }
}

TEST(Trajectories, HeraldsAndNoisyMeasurementsHaveTheirRates) {
  DenseOptions o;
  o.shots = 40000;
  o.seed = 2;
  const auto r = run_dense(parse_stim("HERALDED_ERASE(0.25) 0\nM(0.1) 1\nMPAD 1\n", "h.stim"), o);
  double herald = 0, flip = 0;
  for (std::uint64_t s = 0; s < o.shots; ++s) {
    herald += r.measurements[s] & 1;
    flip += (r.measurements[s] >> 1) & 1;
    ASSERT_EQ((r.measurements[s] >> 2) & 1, 1);
  }
  EXPECT_NEAR(herald / o.shots, 0.25, 5 * std::sqrt(0.25 * 0.75 / o.shots));
  EXPECT_NEAR(flip / o.shots, 0.1, 5 * std::sqrt(0.09 / o.shots));
  // Density matrix: the same herald draws (same seed, same stream) give the same herald bits.
  o.representation = Representation::DensityMatrix;
  const auto d = run_dense(parse_stim("HERALDED_ERASE(0.25) 0\nM(0.1) 1\nMPAD 1\n", "h.stim"), o);
  for (std::uint64_t s = 0; s < o.shots; ++s) ASSERT_EQ(d.measurements[s] & 1, r.measurements[s] & 1);
}

std::string kraus_args(const std::vector<Dense>& ops) {
  std::string out;
  for (const auto& k : ops)
    for (const cd& e : k) out += (out.empty() ? "" : ", ") + fmt_double(e.real()) + ", " + fmt_double(e.imag());
  return out;
}

TEST(KrausMaps, GeneralOneAndTwoQubitMapsMatchTheirDefinition) {
  const Dense rho0 = prep_rho();
  const double g = 0.3, h = 0.2;
  const std::vector<Dense> ad = {{1, 0, 0, std::sqrt(1 - g)}, {0, std::sqrt(g), 0, 0}};
  const std::vector<Dense> ad2 = {{1, 0, 0, std::sqrt(1 - h)}, {0, std::sqrt(h), 0, 0}};
  // KRAUS1 with the amplitude-damping operators is AMPLITUDE_DAMP.
  EXPECT_LT(max_diff(run_density(std::string(kPrep) + "KRAUS1(" + kraus_args(ad) + ") 1\n"),
                     run_density(std::string(kPrep) + "AMPLITUDE_DAMP(0.3) 1\n")), kTol);
  // KRAUS2: products of two damping maps (4 operators), on targets (2, 0).
  std::vector<Dense> two;
  for (const auto& a : ad)
    for (const auto& b : ad2) two.push_back(kron2(b, a));  // a on the first target, b on the second
  const Dense got = run_density(std::string(kPrep) + "KRAUS2(" + kraus_args(two) + ") 2 0\n");
  EXPECT_LT(max_diff(got, apply_kraus(rho0, two, {2, 0}, 3)), kTol);
  expect_density_matrix(got, "KRAUS2");
  // Trajectories of the same map reproduce the density matrix's distribution.
  const std::string text = std::string(kPrep) + "KRAUS2(" + kraus_args(two) + ") 2 0\nM 0 1 2\n";
  DenseOptions o;
  o.shots = 20000;
  o.seed = 3;
  const auto traj = run_dense(parse_stim(text, "k.stim"), o);
  EXPECT_LT(chi_square(exact_distribution(text), traj, o.shots), 30.0);
}

TEST(KrausMaps, NonTracePreservingMapsAreRejectedWithTheirLocation) {
  try {
    parse_stim("H 0\nKRAUS1(1, 0, 0, 0, 0, 0, 0.5, 0) 0\n", "k.stim");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("k.stim:2:8: KRAUS1 operators are not trace preserving"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_stim("KRAUS2(1, 0, 0) 0 1\n", "k.stim"), InputError);
}

TEST(DensityEngine, TooLargeDensityMatrixFailsBeforeAllocation) {
  DenseOptions o;
  o.representation = Representation::DensityMatrix;
  o.memory_limit_bytes = std::uint64_t{1} << 30;
  try {
    run_dense(parse_stim("H 14\n", "big.stim"), o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("15-qubit density matrix needs"), std::string::npos) << e.what();
  }
}

}  // namespace
