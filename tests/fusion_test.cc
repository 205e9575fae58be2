// Gate fusion (host/fusion.h) and the fused-block kernels (kernels/fused.h): the fused engine against
// the unfused one on random circuits (every unitary of the gate table, QASM and Stim text,
// measurement/noise/feedback boundaries, REPEAT blocks, density matrices), the kernels against the
// plain reference simulator, and the plans' shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "host/dense_engine.h"
#include "host/fusion.h"
#include "host/parse.h"
#include "kernels/fused.h"
#include "kernels/fused_math.h"
#include "kernels/memory.h"
#include "kernels/statevec.h"
#if !defined(QWEAVE_BACKEND_CUDA)
#include "kernels/fused_cpu.h"
#endif
#include "tests/reference_sim.h"

namespace {
using namespace qw;
using qw::testing::Vec;
using cd = std::complex<double>;

// Rounding of a few hundred gate applications, in the build's precision.
const double kTol = sizeof(real) == 8 ? 1e-12 : 2e-5;

Vec to_ref(const std::vector<cplx>& a) {
  Vec v(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) v[i] = {a[i].re, a[i].im};
  return v;
}

// A random circuit of every fixed unitary in the gate table (random arguments, random distinct
// qubits), written through Circuit::append so that Stim-only and QASM-only gates both appear.
Circuit random_unitary_circuit(unsigned n, unsigned gates, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<const GateInfo*> pool;
  for (const auto& g : all_gates()) {
    if (g.kind == GateKind::Unitary && g.group > 0 && g.group <= n) pool.push_back(&g);
  }
  Circuit c;
  for (unsigned i = 0; i < gates; ++i) {
    const GateInfo& g = *pool[rng() % pool.size()];
    std::vector<double> args;
    for (int a = 0; a < g.min_args; ++a) args.push_back(std::uniform_real_distribution<double>(-3, 3)(rng));
    std::vector<unsigned> qs(n);
    for (unsigned q = 0; q < n; ++q) qs[q] = q;
    std::shuffle(qs.begin(), qs.end(), rng);
    std::vector<Target> ts;
    // Sometimes broadcast: two groups in one instruction.
    const unsigned groups = (2 * g.group <= n && rng() % 4 == 0) ? 2 : 1;
    for (unsigned t = 0; t < groups * g.group; ++t) ts.push_back(Target::qubit(qs[t]));
    c.append(g.id, args, ts);
  }
  return c;
}

DenseResult run(const Circuit& c, bool fusion, std::uint64_t shots = 1, unsigned max_qubits = 0,
                Representation rep = Representation::StateVector) {
  DenseOptions o;
  o.shots = shots;
  o.seed = 11;
  o.keep_state = true;
  o.fusion = fusion;
  o.fusion_max_qubits = max_qubits;
  o.representation = rep;
  return run_dense(c, o);
}

TEST(Fusion, RandomUnitaryCircuitsMatchUnfused) {
  for (unsigned max_qubits : {2u, 3u, 4u, 5u, 6u}) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      const unsigned n = 3 + static_cast<unsigned>(seed % 6);  // 4..8 qubits
      const Circuit c = random_unitary_circuit(n, 120, seed * 31 + max_qubits);
      const auto a = run(c, false), b = run(c, true, 1, max_qubits);
      EXPECT_LT(qw::testing::max_abs_diff(to_ref(a.state), to_ref(b.state)), kTol)
          << "seed " << seed << ", k = " << max_qubits << "\n" << c.str();
    }
  }
}

TEST(Fusion, RandomCircuitAgainstReference) {
  // The fused engine against the plain reference simulator (shares no code with fusion).
  const unsigned n = 7;
  const Circuit c = random_unitary_circuit(n, 200, 99);
  Vec psi = qw::testing::ref_zero_state(n);
  for (const auto& op : c.instructions()) {
    const unsigned g = gate_info(op.gate).group;
    const auto ts = c.targets(op);
    const auto u = gate_matrix(op.gate, c.args(op));
    for (std::size_t t = 0; t + g <= ts.size(); t += g) {
      std::vector<unsigned> qs;
      for (unsigned j = 0; j < g; ++j) qs.push_back(ts[t + j].value);
      qw::testing::ref_apply(psi, u, qs);
    }
  }
  EXPECT_LT(qw::testing::max_abs_diff(psi, to_ref(run(c, true).state)), kTol);
}

// Random Google-style text: sqrt gates and CZ in QASM, with interleaved diagonal runs (QFT phases).
TEST(Fusion, QasmTextMatchesUnfused) {
  std::mt19937_64 rng(5);
  std::string q = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[9];\ncreg c[9];\n";
  for (int cyc = 0; cyc < 12; ++cyc) {
    for (int j = 0; j < 9; ++j) {
      const char* g[] = {"sx", "ry(pi/2)", "u3(1.5707963,-0.785398,0.785398)", "t", "h"};
      q += std::string(g[rng() % 5]) + " q[" + std::to_string(j) + "];\n";
    }
    for (int j = cyc % 2; j + 1 < 9; j += 2) q += "cz q[" + std::to_string(j) + "],q[" + std::to_string(j + 1) + "];\n";
    for (int j = 0; j < 8; ++j) q += "cu1(" + std::to_string(0.1 * (j + 1)) + ") q[" + std::to_string(j) + "],q[8];\n";
  }
  q += "measure q -> c;\n";
  const Circuit c = parse_qasm(q);
  const auto a = run(c, false, 500), b = run(c, true, 500);
  ASSERT_TRUE(a.sampled_from_final_state);
  EXPECT_LT(qw::testing::max_abs_diff(to_ref(a.state), to_ref(b.state)), kTol);
  // Samples compare u < P against cumulative probabilities that differ by rounding only: a flip
  // needs a draw within ~1e-15 of a boundary (chance ~1e-12 over these 500 shots, fixed seed).
  if (sizeof(real) == 8) EXPECT_EQ(a.measurements, b.measurements);
}

// Measurements, resets, noise, feedback and REPEAT blocks end fused runs; shot 0's final state and
// every record agree with the unfused engine.
TEST(Fusion, BoundariesAndRepeatBlocksMatchUnfused) {
  const std::string text = R"(
H 0 1 2 3
CX 0 1 2 3
T 1 2
SQRT_X 0 3
CZ 1 2
U3(0.3,0.2,0.1) 0
TICK
M 1
CX rec[-1] 3
H 1 2
CX 2 3
DEPOLARIZE1(0.2) 0 1
S 0 2
ISWAP 0 1
REPEAT 3 {
    H 0 3
    CX 0 1 3 2
    SQRT_Y 1 2
    CZ 0 3
    MR 2
    X_ERROR(0.1) 1
    T 0 1
    CX 1 0
    DETECTOR rec[-1]
    H 3
}
AMPLITUDE_DAMP(0.3) 0 2
H 0 1
CCX 0 1 2
SWAP 2 3
C3X 0 1 2 3
M 0 1 2 3
)";
  const Circuit c = parse_stim(text);
  for (const auto rep : {Representation::StateVector, Representation::DensityMatrix}) {
    const auto a = run(c, false, 64, 0, rep), b = run(c, true, 64, 0, rep);
    ASSERT_FALSE(a.sampled_from_final_state);
    EXPECT_LT(qw::testing::max_abs_diff(to_ref(a.state), to_ref(b.state)), kTol);
    if (sizeof(real) == 8) EXPECT_EQ(a.measurements, b.measurements);  // see QasmTextMatchesUnfused
  }
}

TEST(Fusion, DensityMatrixMatchesUnfused) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const Circuit c = random_unitary_circuit(4, 60, seed);
    for (unsigned k : {2u, 3u}) {
      const auto a = run(c, false, 1, 0, Representation::DensityMatrix);
      const auto b = run(c, true, 1, k, Representation::DensityMatrix);
      EXPECT_LT(qw::testing::max_abs_diff(to_ref(a.state), to_ref(b.state)), kTol) << seed;
    }
  }
}

// Mostly diagonal gates with a few mixing ones: diagonal blocks, dense blocks joining closed blocks
// of other qubits, and the switch between them.
TEST(Fusion, DiagonalHeavyCircuitsMatchUnfused) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    std::mt19937_64 rng(seed);
    const unsigned n = 9;
    std::string text;
    for (int i = 0; i < 150; ++i) {
      const unsigned a = static_cast<unsigned>(rng() % n), b = static_cast<unsigned>((a + 1 + rng() % (n - 1)) % n);
      const int pick = static_cast<int>(rng() % 10);
      const std::string qa = std::to_string(a), qb = std::to_string(b);
      if (pick < 3) text += "CZ " + qa + " " + qb + "\n";
      else if (pick < 5) text += "T " + qa + "\n";
      else if (pick < 7) text += "CPHASE(" + std::to_string(0.1 * (i % 7)) + ") " + qa + " " + qb + "\n";
      else if (pick < 8) text += "H " + qa + "\n";
      else if (pick < 9) text += "SQRT_X " + qa + "\n";
      else text += "CX " + qa + " " + qb + "\n";
    }
    const Circuit c = parse_stim(text);
    for (unsigned k : {2u, 3u, 5u}) {
      const auto a = run(c, false), b = run(c, true, 1, k);
      EXPECT_LT(qw::testing::max_abs_diff(to_ref(a.state), to_ref(b.state)), kTol) << seed << " " << k;
    }
  }
}

// A QFT: each H and the controlled phases onto its qubit become a dense block of up to 5 qubits and
// a diagonal for the rest, not a pass per gate.
TEST(Fusion, QftFusesThePhaseLadders) {
  const unsigned n = 14;
  std::string text;
  std::size_t gates = 0;
  for (int j = n - 1; j >= 0; --j) {
    text += "H " + std::to_string(j) + "\n";
    ++gates;
    for (int k = j - 1; k >= 0; --k) {
      text += "CPHASE(" + std::to_string(M_PI / std::pow(2.0, j - k)) + ") " + std::to_string(k) + " " + std::to_string(j) + "\n";
      ++gates;
    }
  }
  const Circuit c = parse_stim(text);
  const auto runs = fuse_block(c, FusionOptions{});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_LE(runs[0].steps.size(), 3u * n);
  EXPECT_GT(gates, 4u * runs[0].steps.size());
  const auto a = run(c, false), b = run(c, true);
  EXPECT_LT(qw::testing::max_abs_diff(to_ref(a.state), to_ref(b.state)), kTol);
}

// The plans' shapes on small circuits.
TEST(Fusion, PlanMergesNeighboursAndKeepsLoneGates) {
  const Circuit c = parse_stim("H 0\nCX 0 1\nH 1\nX 5\nM 0\nH 0\nCZ 0 1\nT 1\nCZ 1 2\n");
  FusionOptions o;
  const auto runs = fuse_block(c, o);
  ASSERT_EQ(runs.size(), 2u);
  // H 0, CX 0 1, H 1 -> one dense block on {0, 1}; X 5 stays a gate of its own.
  EXPECT_EQ(runs[0].begin, 0u);
  EXPECT_EQ(runs[0].end, 4u);
  ASSERT_EQ(runs[0].steps.size(), 2u);
  EXPECT_EQ(runs[0].steps[0].kind, FusedStep::Kind::Dense);
  EXPECT_EQ(runs[0].steps[0].qubits, (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(runs[0].steps[0].gates, 3u);
  EXPECT_EQ(runs[0].steps[1].kind, FusedStep::Kind::Gate);
  EXPECT_EQ(runs[0].steps[1].op, 3u);
  // After M: H 0 then the diagonal CZ 0 1, T 1, CZ 1 2 -> all one dense block (H is not diagonal).
  EXPECT_EQ(runs[1].begin, 5u);
  ASSERT_EQ(runs[1].steps.size(), 1u);
  EXPECT_EQ(runs[1].steps[0].qubits, (std::vector<std::uint32_t>{0, 1, 2}));

  // An all-diagonal run becomes one diagonal, beyond the dense limit.
  std::string diag;
  for (int q = 0; q < 8; ++q) diag += "CZ " + std::to_string(q) + " " + std::to_string(q + 1) + "\nT " + std::to_string(q) + "\n";
  const auto d = fuse_block(parse_stim(diag), o);
  ASSERT_EQ(d.size(), 1u);
  ASSERT_EQ(d[0].steps.size(), 1u);
  EXPECT_EQ(d[0].steps[0].kind, FusedStep::Kind::Diagonal);
  EXPECT_EQ(d[0].steps[0].qubits.size(), 9u);
  EXPECT_EQ(d[0].steps[0].gates, 16u);

  // No fusion below 2 qubits, and nothing to gain from gates that do not share qubits.
  o.max_dense_qubits = 1;
  EXPECT_TRUE(fuse_block(c, o).empty());
  EXPECT_TRUE(fuse_block(parse_stim("H 0 1 2 3\n"), FusionOptions{}).empty());
}

TEST(Fusion, GateOrderIsKeptAcrossBlocks) {
  // CX 1 2 sits between two blocks that share qubit 1 and 2: it must not move.
  const Circuit c = parse_stim("H 0\nCX 0 1\nCX 1 2\nH 2\nCX 2 3\nH 1\nCX 0 1\nCX 3 4\nH 4\nCX 4 0\nM 0 1 2 3 4\n");
  for (unsigned k : {2u, 3u}) {
    const auto a = run(c, false), b = run(c, true, 1, k);
    EXPECT_LT(qw::testing::max_abs_diff(to_ref(a.state), to_ref(b.state)), kTol);
  }
}

// ---- kernels ----------------------------------------------------------------------------------

std::vector<cd> random_matrix(std::size_t dim, std::mt19937_64& rng) {
  std::normal_distribution<double> g;
  std::vector<cd> m(dim * dim);
  for (auto& x : m) x = {g(rng) / std::sqrt(double(dim)), g(rng) / std::sqrt(double(dim))};
  return m;
}

// Column-major re then im, as kernels/fused.h wants it.
std::vector<real> kernel_layout(const std::vector<cd>& m, std::size_t D) {
  std::vector<real> out(2 * D * D);
  for (std::size_t r = 0; r < D; ++r)
    for (std::size_t c = 0; c < D; ++c) {
      out[c * D + r] = static_cast<real>(m[r * D + c].real());
      out[D * D + c * D + r] = static_cast<real>(m[r * D + c].imag());
    }
  return out;
}

std::vector<cplx> apply_dense_on_device(const Vec& psi, unsigned k, const std::vector<unsigned>& qs,
                                        const std::vector<real>& m) {
  DeviceArray<cplx> a(psi.size());
  std::vector<cplx> host(psi.size());
  for (std::size_t i = 0; i < psi.size(); ++i) host[i] = {static_cast<real>(psi[i].real()), static_cast<real>(psi[i].imag())};
  copy_to_device(a.data(), host.data(), host.size() * sizeof(cplx));
  DeviceArray<real> dm(m.size());
  copy_to_device(dm.data(), m.data(), m.size() * sizeof(real));
  sv::apply_dense(a.data(), psi.size(), k, qs.data(), dm.data());
  copy_to_host(host.data(), a.data(), host.size() * sizeof(cplx));
  return host;
}

TEST(FusedKernel, DenseMatchesReferenceForEveryK) {
  std::mt19937_64 rng(3);
  for (unsigned n : {7u, 15u}) {  // below and above the serial threshold
    for (unsigned k = 1; k <= fused::kMaxDenseQubits; ++k) {
      std::vector<unsigned> qs(n);
      for (unsigned q = 0; q < n; ++q) qs[q] = q;
      std::shuffle(qs.begin(), qs.end(), rng);
      qs.resize(k);
      if (k == 3) qs = {0, 1, 2};  // the lowest qubits (contiguous groups)
      const std::size_t D = std::size_t{1} << k;
      const auto m = random_matrix(D, rng);
      Vec psi(std::size_t{1} << n);
      std::normal_distribution<double> g;
      for (auto& x : psi) x = {g(rng), g(rng)};
      const auto got = apply_dense_on_device(psi, k, qs, kernel_layout(m, D));
      Vec want = psi;
      qw::testing::ref_apply(want, m, qs);
      EXPECT_LT(qw::testing::max_abs_diff(want, to_ref(got)), sizeof(real) == 8 ? 1e-12 : 1e-4) << "n " << n << " k " << k;
    }
  }
}

TEST(FusedKernel, DiagonalMatchesReference) {
  std::mt19937_64 rng(4);
  const unsigned n = 15;
  for (unsigned k : {1u, 3u, 7u, 12u}) {
    std::vector<unsigned> qs(n);
    for (unsigned q = 0; q < n; ++q) qs[q] = q;
    std::shuffle(qs.begin(), qs.end(), rng);
    qs.resize(k);
    std::vector<cd> d(std::size_t{1} << k);
    std::vector<cplx> dk(d.size());
    for (std::size_t t = 0; t < d.size(); ++t) {
      d[t] = std::polar(1.0, 6.28 * std::uniform_real_distribution<double>()(rng));
      dk[t] = {static_cast<real>(d[t].real()), static_cast<real>(d[t].imag())};
    }
    Vec psi(std::size_t{1} << n);
    std::normal_distribution<double> g;
    for (auto& x : psi) x = {g(rng), g(rng)};
    std::vector<cplx> host(psi.size());
    for (std::size_t i = 0; i < psi.size(); ++i) host[i] = {static_cast<real>(psi[i].real()), static_cast<real>(psi[i].imag())};
    DeviceArray<cplx> a(psi.size());
    DeviceArray<cplx> dd(d.size());
    copy_to_device(a.data(), host.data(), host.size() * sizeof(cplx));
    copy_to_device(dd.data(), dk.data(), dk.size() * sizeof(cplx));
    sv::apply_diagonal(a.data(), psi.size(), k, qs.data(), dd.data());
    copy_to_host(host.data(), a.data(), host.size() * sizeof(cplx));
    for (std::size_t i = 0; i < psi.size(); ++i) {
      std::size_t t = 0;
      for (unsigned j = 0; j < k; ++j) t |= ((i >> qs[j]) & 1u) << j;
      psi[i] *= d[t];
    }
    EXPECT_LT(qw::testing::max_abs_diff(psi, to_ref(host)), sizeof(real) == 8 ? 1e-12 : 1e-4) << k;
  }
}

// The row form the CUDA kernel uses computes the same sums, bit for bit, as the all-rows form the
// CPU loops use (so fused CPU and CUDA runs agree exactly).
TEST(FusedKernel, RowFormIsBitIdenticalToGroupForm) {
  std::mt19937_64 rng(8);
  for (unsigned k = 1; k <= 5; ++k) {
    const std::size_t D = std::size_t{1} << k;
    const auto m = kernel_layout(random_matrix(D, rng), D);
    std::vector<cplx> a(D);
    std::vector<real> xr(D), xi(D);
    std::normal_distribution<double> g;
    for (std::size_t c = 0; c < D; ++c) {
      a[c] = {static_cast<real>(g(rng)), static_cast<real>(g(rng))};
      xr[c] = a[c].re;
      xi[c] = a[c].im;
    }
    fused::DenseArgs f{};
    f.a = a.data();
    f.k = k;
    for (unsigned j = 0; j < k; ++j) f.sorted[j] = j;
    for (std::size_t c = 0; c < D; ++c) f.off[c] = c;
    f.mre = m.data();
    f.mim = m.data() + D * D;
    switch (k) {
      case 1: fused::dense_group<1>(f, 0); break;
      case 2: fused::dense_group<2>(f, 0); break;
      case 3: fused::dense_group<3>(f, 0); break;
      case 4: fused::dense_group<4>(f, 0); break;
      default: fused::dense_group<5>(f, 0); break;
    }
    for (unsigned r = 0; r < D; ++r) {
      const real yr = fused::dense_row_re(f.mre, f.mim, static_cast<unsigned>(D), r, xr.data(), xi.data());
      const real yi = fused::dense_row_im(f.mre, f.mim, static_cast<unsigned>(D), r, xr.data(), xi.data());
      EXPECT_EQ(std::memcmp(&yr, &a[r].re, sizeof(real)), 0) << "k " << k << " row " << r;
      EXPECT_EQ(std::memcmp(&yi, &a[r].im, sizeof(real)), 0) << "k " << k << " row " << r;
    }
  }
}

// A fused 2x2 / 4x4 block computes exactly what apply_1q / apply_2q compute (same products, same
// order), so blocks of one or two qubits may run on either kernel without changing a bit.
TEST(FusedKernel, OneAndTwoQubitBlocksEqualTheGateKernelsBitForBit) {
  std::mt19937_64 rng(12);
  const unsigned n = 15;
  Vec psi(std::size_t{1} << n);
  std::normal_distribution<double> g;
  for (auto& x : psi) x = {g(rng), g(rng)};
  std::vector<cplx> host(psi.size());
  for (std::size_t i = 0; i < psi.size(); ++i) host[i] = {static_cast<real>(psi[i].real()), static_cast<real>(psi[i].imag())};
  for (unsigned k : {1u, 2u}) {
    const std::size_t D = std::size_t{1} << k;
    const auto m = random_matrix(D, rng);
    const std::vector<unsigned> qs = k == 1 ? std::vector<unsigned>{0} : std::vector<unsigned>{9, 2};
    const auto fused = apply_dense_on_device(psi, k, qs, kernel_layout(m, D));
    DeviceArray<cplx> a(psi.size());
    copy_to_device(a.data(), host.data(), host.size() * sizeof(cplx));
    if (k == 1) {
      Mat2 m2{};
      for (int e = 0; e < 4; ++e) m2.m[e] = {static_cast<real>(m[e].real()), static_cast<real>(m[e].imag())};
      sv::apply_1q(a.data(), psi.size(), qs[0], m2);
    } else {
      Mat4 m4{};
      for (int e = 0; e < 16; ++e) m4.m[e] = {static_cast<real>(m[e].real()), static_cast<real>(m[e].imag())};
      sv::apply_2q(a.data(), psi.size(), qs[0], qs[1], m4);
    }
    std::vector<cplx> gate(psi.size());
    copy_to_host(gate.data(), a.data(), gate.size() * sizeof(cplx));
    EXPECT_EQ(std::memcmp(gate.data(), fused.data(), gate.size() * sizeof(cplx)), 0) << "k " << k;
  }
}

#if !defined(QWEAVE_BACKEND_CUDA)
// The AVX-512 and generic builds of the loops give the same bits (no FMA, no reordered sums).
TEST(FusedKernel, Avx512AndGenericLoopsAreBitIdentical) {
  sv::fused_cpu_force_generic(false);
  if (!sv::fused_cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 on this processor";
  const Circuit c = random_unitary_circuit(12, 300, 77);
  const auto a = run(c, true);
  sv::fused_cpu_force_generic(true);
  const auto b = run(c, true);
  sv::fused_cpu_force_generic(false);
  ASSERT_EQ(a.state.size(), b.state.size());
  EXPECT_EQ(std::memcmp(a.state.data(), b.state.data(), a.state.size() * sizeof(cplx)), 0);
}
#endif

}  // namespace
