// Module entanglement diagnostics (host/diagnostics.h, kernels/linalg.h) against closed forms
// (Bell, GHZ, Werner, product and maximally mixed states), Schmidt symmetry of random pure states,
// a brute-force partial trace written here with std::complex, and the --report spec errors.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <fstream>
#include <sstream>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "host/diagnostics.h"
#include "host/errors.h"
#include "kernels/linalg.h"
#include "kernels/memory.h"

namespace {
using namespace qw;
using namespace qw::diag;
using C = std::complex<double>;

// Double precision is exact to rounding; single precision loses ~1e-7 per entry, and an eigenvalue
// that rounds to 1e-7 contributes ~2e-6 to an entropy.
constexpr double kTol = std::is_same_v<real, double> ? 1e-10 : 1e-4;

std::vector<cplx> to_cplx_vec(const std::vector<C>& v) {
  std::vector<cplx> a(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    a[i] = {static_cast<real>(v[i].real()), static_cast<real>(v[i].imag())};
  }
  return a;
}

DeviceArray<cplx> on_device(const std::vector<C>& v) {
  const std::vector<cplx> a = to_cplx_vec(v);
  DeviceArray<cplx> d(a.size());
  copy_to_device(d.data(), a.data(), a.size() * sizeof(cplx));
  return d;
}

std::vector<C> random_state(unsigned n, std::mt19937_64& rng) {
  std::normal_distribution<double> g;
  std::vector<C> v(std::size_t{1} << n);
  double norm = 0;
  for (auto& x : v) {
    x = {g(rng), g(rng)};
    norm += std::norm(x);
  }
  for (auto& x : v) x /= std::sqrt(norm);
  return v;
}

std::vector<C> ghz_state(unsigned n) {
  std::vector<C> v(std::size_t{1} << n);
  v.front() = v.back() = 1 / std::sqrt(2.0);
  return v;
}

// |ψ><ψ| as a row-major matrix.
std::vector<C> projector(const std::vector<C>& psi) {
  const std::size_t d = psi.size();
  std::vector<C> rho(d * d);
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t j = 0; j < d; ++j) rho[i * d + j] = psi[i] * std::conj(psi[j]);
  }
  return rho;
}

// Brute-force Tr_rest |ψ><ψ|: sums ψ_i ψ_j* over every pair (i, j) that agrees off the subset.
std::vector<C> brute_rdm(const std::vector<C>& psi, unsigned n, const std::vector<unsigned>& s) {
  std::uint64_t mask = 0;
  for (unsigned q : s) mask |= std::uint64_t{1} << q;
  auto row = [&](std::uint64_t i) {
    std::uint64_t r = 0;
    for (std::size_t j = 0; j < s.size(); ++j) r |= ((i >> s[j]) & 1u) << j;
    return r;
  };
  const std::size_t d = std::size_t{1} << s.size();
  std::vector<C> rho(d * d);
  for (std::uint64_t i = 0; i < (std::uint64_t{1} << n); ++i) {
    for (std::uint64_t j = 0; j < (std::uint64_t{1} << n); ++j) {
      if ((i & ~mask) == (j & ~mask)) rho[row(i) * d + row(j)] += psi[i] * std::conj(psi[j]);
    }
  }
  return rho;
}

void expect_matrix_near(const std::vector<cplx>& got, const std::vector<C>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    EXPECT_NEAR(got[k].re, want[k].real(), tol) << "entry " << k;
    EXPECT_NEAR(got[k].im, want[k].imag(), tol) << "entry " << k;
  }
}

// Werner state p|Φ+><Φ+| + (1-p) I/4 on two qubits.
std::vector<C> werner(double p) {
  std::vector<C> rho = projector({1 / std::sqrt(2.0), 0, 0, 1 / std::sqrt(2.0)});
  for (std::size_t k = 0; k < 16; ++k) rho[k] *= p;
  for (std::size_t i = 0; i < 4; ++i) rho[i * 4 + i] += (1 - p) / 4;
  return rho;
}

double entropy_of(const std::vector<double>& eigenvalues) {
  double s = 0;
  for (double l : eigenvalues) {
    if (l > 0) s -= l * std::log2(l);
  }
  return s;
}

std::string error_of(const std::vector<std::string>& specs) {
  try {
    parse_reports(specs);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DiagnosticsLinalg, GramRowsIsAAdjoint) {
  std::mt19937_64 rng(7);
  const unsigned rows = 3, cols = 5;
  std::vector<C> a = random_state(4, rng);  // 16 values; use the first 15
  a.resize(rows * cols);
  DeviceArray<cplx> da = on_device(a);
  DeviceArray<cplx> out(rows * rows);
  linalg::gram_rows(da.data(), rows, cols, out.data());
  std::vector<cplx> got(rows * rows);
  copy_to_host(got.data(), out.data(), got.size() * sizeof(cplx));
  std::vector<C> want(rows * rows);
  for (unsigned i = 0; i < rows; ++i) {
    for (unsigned j = 0; j < rows; ++j) {
      for (unsigned k = 0; k < cols; ++k) want[i * rows + j] += a[i * cols + k] * std::conj(a[j * cols + k]);
    }
  }
  expect_matrix_near(got, want, kTol);
}

TEST(DiagnosticsLinalg, HermitianEigenvalues) {
  // [[1, i], [-i, 1]] has eigenvalues 0 and 2; [[2, 1-i, 0], [1+i, 3, 0], [0, 0, -1]]: 1, 4, -1.
  DeviceArray<cplx> a = on_device({1, C(0, 1), C(0, -1), 1});
  const auto ea = linalg::hermitian_eigenvalues(a.data(), 2);
  ASSERT_EQ(ea.size(), 2u);
  EXPECT_NEAR(ea[0], 0, kTol);
  EXPECT_NEAR(ea[1], 2, kTol);
  DeviceArray<cplx> b = on_device({2, C(1, -1), 0, C(1, 1), 3, 0, 0, 0, -1});
  const auto eb = linalg::hermitian_eigenvalues(b.data(), 3);
  ASSERT_EQ(eb.size(), 3u);
  EXPECT_NEAR(eb[0], -1, kTol);
  EXPECT_NEAR(eb[1], 1, kTol);
  EXPECT_NEAR(eb[2], 4, kTol);
}

TEST(Diagnostics, BellPair) {
  DeviceArray<cplx> psi = on_device({1 / std::sqrt(2.0), 0, 0, 1 / std::sqrt(2.0)});
  const unsigned q0[] = {0}, q1[] = {1};
  const auto rho0 = reduced_density_matrix(psi.data(), 2, q0);
  expect_matrix_near(rho0, {0.5, 0, 0, 0.5}, kTol);
  EXPECT_NEAR(von_neumann_entropy_bits(rho0), 1, kTol);
  EXPECT_NEAR(von_neumann_entropy_bits(reduced_density_matrix(psi.data(), 2, q1)), 1, kTol);
  EXPECT_NEAR(purity(rho0), 0.5, kTol);
  EXPECT_NEAR(log_negativity(pair_density_matrix(psi.data(), 2, q0, q1), 1, 1), 1, kTol);

  const auto values = evaluate_reports(
      parse_reports({"entropy:0", "purity:1", "negativity:0|1", "fidelity:ghz:0-1"}), psi.data(), 2);
  ASSERT_EQ(values.size(), 4u);
  EXPECT_EQ(values[0].name, "entropy_0");
  EXPECT_EQ(values[0].units, "bit");
  EXPECT_NEAR(values[0].value, 1, kTol);
  EXPECT_EQ(values[1].name, "purity_1");
  EXPECT_EQ(values[1].units, "1");
  EXPECT_NEAR(values[1].value, 0.5, kTol);
  EXPECT_EQ(values[2].name, "log_negativity_0_1");
  EXPECT_EQ(values[2].units, "ebit");
  EXPECT_NEAR(values[2].value, 1, kTol);
  EXPECT_EQ(values[3].name, "fidelity_ghz_0-1");
  EXPECT_NEAR(values[3].value, 1, kTol);
  for (const auto& v : values) EXPECT_FALSE(v.description.empty()) << v.name;
}

TEST(Diagnostics, ProductStateHasNoEntanglement) {
  // ⊗_q (cos θ_q |0> + e^{iφ_q} sin θ_q |1>) on 4 qubits.
  const unsigned n = 4;
  std::vector<C> psi(16, 1);
  for (unsigned q = 0; q < n; ++q) {
    const double th = 0.3 + 0.4 * q, ph = 1.1 * q;
    for (std::size_t i = 0; i < psi.size(); ++i) {
      psi[i] *= ((i >> q) & 1u) ? std::polar(std::sin(th), ph) : C(std::cos(th));
    }
  }
  DeviceArray<cplx> d = on_device(psi);
  for (const char* spec : {"entropy:0", "entropy:1-2", "entropy:0,3", "entropy:0-2"}) {
    EXPECT_NEAR(evaluate_reports(parse_reports({spec}), d.data(), n)[0].value, 0, kTol) << spec;
  }
  EXPECT_NEAR(evaluate_reports(parse_reports({"purity:1,3"}), d.data(), n)[0].value, 1, kTol);
  EXPECT_NEAR(evaluate_reports(parse_reports({"negativity:0-1|2-3"}), d.data(), n)[0].value, 0, kTol);
}

TEST(Diagnostics, GhzAnyProperSubsetHasOneBit) {
  const unsigned n = 5;
  DeviceArray<cplx> d = on_device(ghz_state(n));
  for (unsigned mask = 1; mask + 1 < (1u << n); ++mask) {
    std::vector<unsigned> s;
    for (unsigned q = 0; q < n; ++q) {
      if ((mask >> q) & 1u) s.push_back(q);
    }
    EXPECT_NEAR(von_neumann_entropy_bits(reduced_density_matrix(d.data(), n, s)), 1, kTol)
        << "mask " << mask;
  }
  const unsigned all[] = {0, 1, 2, 3, 4};
  EXPECT_NEAR(von_neumann_entropy_bits(reduced_density_matrix(d.data(), n, all)), 0, kTol);
  // Reports: a cut with more than half the qubits goes through the complement.
  const auto v = evaluate_reports(
      parse_reports({"entropy:0-3", "entropy:0-4", "fidelity:ghz:0-4", "fidelity:ghz:1,3",
                     "negativity:0|1"}),
      d.data(), n);
  EXPECT_NEAR(v[0].value, 1, kTol);
  EXPECT_NEAR(v[1].value, 0, kTol);
  EXPECT_NEAR(v[2].value, 1, kTol);
  EXPECT_NEAR(v[3].value, 0.5, kTol);  // ρ = (|00><00| + |11><11|)/2
  EXPECT_NEAR(v[4].value, 0, kTol);    // two qubits of GHZ_5: separable (classically correlated)
}

TEST(Diagnostics, WernerStateClosedForms) {
  for (double p : {0.0, 0.2, 1.0 / 3, 0.5, 0.8, 1.0}) {
    const std::vector<cplx> rho = to_cplx_vec(werner(p));
    // Spectrum: (1+3p)/4 once, (1-p)/4 three times.
    const double l1 = (1 + 3 * p) / 4, l2 = (1 - p) / 4;
    EXPECT_NEAR(von_neumann_entropy_bits(rho), entropy_of({l1, l2, l2, l2}), kTol) << p;
    EXPECT_NEAR(purity(rho), l1 * l1 + 3 * l2 * l2, kTol) << p;
    // Partial transpose spectrum: (1+p)/4 three times and (1-3p)/4, so
    // ||ρ^{T_A}||_1 = (3(1+p) + |1-3p|)/4 and E_N = log2 max(1, (1+3p)/2).
    const double en = std::log2(std::max(1.0, (1 + 3 * p) / 2));
    EXPECT_NEAR(log_negativity(rho, 1, 1), en, kTol) << p;
    const std::vector<C> phi_plus = {1 / std::sqrt(2.0), 0, 0, 1 / std::sqrt(2.0)};
    EXPECT_NEAR(fidelity_pure(rho, to_cplx_vec(phi_plus)), (1 + 3 * p) / 4, kTol) << p;

    // The same Werner pair on qubits 2 (A) and 0 (B) of a 3-qubit density matrix, qubit 1 in |+>:
    // ρ3[(q0,q1,q2)][(q0',q1',q2')] = W[(q2,q0)][(q2',q0')] · 1/2.
    const std::vector<C> w = werner(p);
    std::vector<C> rho3(64);
    for (unsigned i = 0; i < 8; ++i) {
      for (unsigned j = 0; j < 8; ++j) {
        const unsigned wi = ((i >> 2) & 1u) | ((i & 1u) << 1), wj = ((j >> 2) & 1u) | ((j & 1u) << 1);
        rho3[i * 8 + j] = w[wi * 4 + wj] * 0.5;
      }
    }
    const std::vector<cplx> r3 = to_cplx_vec(rho3);
    const auto v = evaluate_reports(
        parse_reports({"negativity:2|0", "entropy:0,2", "entropy:1", "purity:0-2", "entropy:2"}), r3,
        3);
    EXPECT_EQ(v[0].name, "log_negativity_2_0");
    EXPECT_NEAR(v[0].value, en, kTol) << p;
    EXPECT_NEAR(v[1].value, entropy_of({l1, l2, l2, l2}), kTol) << p;
    EXPECT_NEAR(v[2].value, 0, kTol) << p;
    EXPECT_NEAR(v[3].value, l1 * l1 + 3 * l2 * l2, kTol) << p;
    EXPECT_NEAR(v[4].value, 1, kTol) << p;  // either half of a Werner pair is maximally mixed
  }
}

TEST(Diagnostics, RandomPureStateSchmidtSymmetry) {
  std::mt19937_64 rng(2024);
  const unsigned n = 7;
  const std::vector<C> psi = random_state(n, rng);
  DeviceArray<cplx> d = on_device(psi);
  for (unsigned mask : {0b1u, 0b1010u, 0b1100001u, 0b111u, 0b1010101u}) {
    std::vector<unsigned> a, b;
    for (unsigned q = 0; q < n; ++q) ((mask >> q) & 1u ? a : b).push_back(q);
    const auto ra = reduced_density_matrix(d.data(), n, a);
    const auto rb = reduced_density_matrix(d.data(), n, b);
    const double sa = von_neumann_entropy_bits(ra), sb = von_neumann_entropy_bits(rb);
    EXPECT_GT(sa, 0.1) << "mask " << mask;  // a random state is entangled across every cut
    EXPECT_NEAR(sa, sb, kTol) << "mask " << mask;
    EXPECT_NEAR(purity(ra), purity(rb), kTol) << "mask " << mask;
  }
}

TEST(Diagnostics, SixteenQubitCutsAgree) {
  // Large enough for the parallel paths (permutation over 2^16 amplitudes, 2^16-entry mirror).
  std::mt19937_64 rng(5);
  const unsigned n = 16;
  const std::vector<C> psi = random_state(n, rng);
  DeviceArray<cplx> d = on_device(psi);
  const std::vector<unsigned> even = {0, 2, 4, 6, 8, 10, 12, 14}, odd = {1, 3, 5, 7, 9, 11, 13, 15};
  const std::vector<unsigned> low = {0, 1, 2, 3, 4, 5, 6, 7}, high = {8, 9, 10, 11, 12, 13, 14, 15};
  const auto re = reduced_density_matrix(d.data(), n, even);
  const auto ro = reduced_density_matrix(d.data(), n, odd);
  const auto rl = reduced_density_matrix(d.data(), n, low);
  const auto rh = reduced_density_matrix(d.data(), n, high);  // the no-permutation path
  for (const auto* r : {&re, &ro, &rl, &rh}) {
    double trace = 0;
    for (std::size_t i = 0; i < 256; ++i) trace += (*r)[i * 256 + i].re;
    EXPECT_NEAR(trace, 1, kTol);
  }
  EXPECT_NEAR(von_neumann_entropy_bits(re), von_neumann_entropy_bits(ro), kTol);
  EXPECT_NEAR(von_neumann_entropy_bits(rl), von_neumann_entropy_bits(rh), kTol);
  EXPECT_NEAR(purity(rl), purity(rh), kTol);
  // Page: a random 8|8 cut of 16 qubits is close to maximally entangled (S ≈ 8 - 1/(2 ln 2)).
  EXPECT_GT(von_neumann_entropy_bits(rl), 7);
}

TEST(Diagnostics, PartialTraceMatchesReducedDensityMatrix) {
  std::mt19937_64 rng(99);
  const unsigned n = 5;
  const std::vector<C> psi = random_state(n, rng);
  DeviceArray<cplx> d = on_device(psi);
  const std::vector<cplx> rho = to_cplx_vec(projector(psi));
  const std::vector<std::vector<unsigned>> subsets = {
      {}, {0}, {4}, {3, 0}, {1, 4, 2}, {3, 4}, {0, 1, 2, 3, 4}, {4, 2, 0, 1, 3}};
  for (const auto& s : subsets) {
    const std::vector<C> want = brute_rdm(psi, n, s);
    SCOPED_TRACE("subset of " + std::to_string(s.size()) + " starting " +
                 (s.empty() ? std::string("-") : std::to_string(s[0])));
    expect_matrix_near(reduced_density_matrix(d.data(), n, s), want, kTol);
    expect_matrix_near(partial_trace(rho.data(), n, s), want, kTol);
  }
}

TEST(Diagnostics, MaximallyMixedModule) {
  // k Bell pairs (q, q+k): the module 0..k-1 is I/2^k, purity 2^-k, entropy k bits.
  for (unsigned k = 1; k <= 4; ++k) {
    const unsigned n = 2 * k;
    std::vector<C> psi(std::size_t{1} << n);
    for (std::size_t x = 0; x < (std::size_t{1} << k); ++x) psi[x | (x << k)] = std::pow(2.0, -0.5 * k);
    DeviceArray<cplx> d = on_device(psi);
    std::vector<unsigned> module;
    for (unsigned q = 0; q < k; ++q) module.push_back(q);
    const auto rho = reduced_density_matrix(d.data(), n, module);
    const std::size_t dim = std::size_t{1} << k;
    std::vector<C> identity(dim * dim);
    for (std::size_t i = 0; i < dim; ++i) identity[i * dim + i] = 1.0 / dim;
    expect_matrix_near(rho, identity, kTol);
    EXPECT_NEAR(purity(rho), std::pow(2.0, -double(k)), kTol) << k;
    EXPECT_NEAR(von_neumann_entropy_bits(rho), k, kTol * k) << k;
    // Module against its partners: k ebits.
    std::vector<unsigned> partners;
    for (unsigned q = k; q < n; ++q) partners.push_back(q);
    EXPECT_NEAR(log_negativity(pair_density_matrix(d.data(), n, module, partners), k, k), k, kTol * k);
  }
}

TEST(Diagnostics, ParseReports) {
  const auto r = parse_reports({"entropy:0-4", "entropy:5,2,0", "purity:3-5", "negativity:0-1|2-3",
                                "fidelity:ghz:7,6,8", "entropy:12"});
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].kind, Report::Kind::Entropy);
  EXPECT_EQ(r[0].a, (std::vector<unsigned>{0, 1, 2, 3, 4}));
  EXPECT_EQ(r[0].name, "entropy_0-4");
  EXPECT_EQ(r[1].a, (std::vector<unsigned>{0, 2, 5}));
  EXPECT_EQ(r[1].name, "entropy_0,2,5");
  EXPECT_EQ(r[2].kind, Report::Kind::Purity);
  EXPECT_EQ(r[2].name, "purity_3-5");
  EXPECT_EQ(r[3].kind, Report::Kind::Negativity);
  EXPECT_EQ(r[3].a, (std::vector<unsigned>{0, 1}));
  EXPECT_EQ(r[3].b, (std::vector<unsigned>{2, 3}));
  EXPECT_EQ(r[3].name, "log_negativity_0-1_2-3");
  EXPECT_EQ(r[4].kind, Report::Kind::FidelityGhz);
  EXPECT_EQ(r[4].name, "fidelity_ghz_6-8");
  EXPECT_EQ(r[5].name, "entropy_12");
  EXPECT_EQ(r[5].spec, "entropy:12");
}

TEST(Diagnostics, ParseReportErrors) {
  EXPECT_EQ(error_of({"entropy:4-2"}), "--report 'entropy:4-2': '4-2': empty range");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"entropy", "expected KIND:QUBITS"},
      {"entanglement:0-1", "unknown report 'entanglement'"},
      {"entropy:", "empty qubit list"},
      {"entropy:1,,2", "'' is not a qubit index"},
      {"entropy:a", "'a' is not a qubit index"},
      {"entropy:1-", "'1-' is not a qubit index"},
      {"entropy:-1", "'-1' is not a qubit index"},
      {"entropy: 1", "' 1' is not a qubit index"},
      {"entropy:0,0", "qubit 0 is listed twice"},
      {"entropy:0-2,1", "qubit 1 is listed twice"},
      {"entropy:0|1", "takes one qubit list"},
      {"negativity:0-1", "two qubit lists separated by '|'"},
      {"negativity:0|1|2", "two qubit lists separated by '|'"},
      {"negativity:0-1|1-2", "qubit 1 is listed twice"},
      {"negativity:0|", "empty qubit list"},
      {"fidelity:0-1", "fidelity:TARGET:QUBITS"},
      {"fidelity:w:0-1", "fidelity:TARGET:QUBITS"},
      {"entropy:0-99999", "more than 4096 qubits"},
      {"entropy:99999999999", "is not a qubit index"},
  };
  for (const auto& [spec, message] : cases) {
    const std::string e = error_of({spec});
    EXPECT_NE(e.find("--report '" + spec + "'"), std::string::npos) << e;
    EXPECT_NE(e.find(message), std::string::npos) << spec << " -> " << e;
  }
  EXPECT_NE(error_of({"entropy:0-1", "entropy:1,0"}).find("asks again for /summary/entropy_0-1"),
            std::string::npos);
}

TEST(Diagnostics, DocumentedSpecsGiveDocumentedNamesAndUnits) {
  // docs/diagnostics.md's table rows: | `spec` | `name` | units | ... (`\|` is a literal '|').
  std::ifstream in(std::string(QWEAVE_SOURCE_DIR) + "/docs/diagnostics.md");
  ASSERT_TRUE(in.good());
  std::string line;
  int rows = 0;
  DeviceArray<cplx> psi = on_device(ghz_state(6));
  while (std::getline(in, line)) {
    if (line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, '`');) cells.push_back(cell);
    ASSERT_GE(cells.size(), 5u) << line;
    auto unescape = [](std::string s) {
      for (std::size_t p; (p = s.find("\\|")) != std::string::npos;) s.erase(p, 1);
      return s;
    };
    const std::string spec = unescape(cells[1]), name = cells[3];
    std::string units = cells[4].substr(cells[4].find('|') + 1);
    units = units.substr(0, units.find('|'));
    units.erase(0, units.find_first_not_of(' '));
    units.erase(units.find_last_not_of(' ') + 1);
    const auto values = evaluate_reports(parse_reports({spec}), psi.data(), 6);
    EXPECT_EQ(values[0].name, name) << line;
    EXPECT_EQ(values[0].units, units) << line;
    ++rows;
  }
  EXPECT_GE(rows, 5);
}

TEST(Diagnostics, CheckReportsQubitsAndSizes) {
  auto check_error = [](const std::string& spec, unsigned n, bool pure) -> std::string {
    try {
      check_reports(parse_reports({spec}), n, pure);
    } catch (const InputError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_EQ(check_error("entropy:3-5", 5, true),
            "--report 'entropy:3-5': qubit 5 does not exist; the circuit has 5 qubits (0-4)");
  EXPECT_NE(check_error("negativity:0|9", 4, false).find("qubit 9 does not exist"), std::string::npos);
  // Pure state: a 15-qubit cut of 20 qubits forms the 5-qubit side.
  EXPECT_EQ(check_error("entropy:0-14", 20, true), "(no error)");
  EXPECT_EQ(check_error("entropy:0-14", 30, true),
            "--report 'entropy:0-14': the entropy needs the RDM of 15 qubits, 2^30 entries; at most 14");
  EXPECT_NE(check_error("entropy:0-14", 15, false).find("RDM of 15 qubits"), std::string::npos);
  EXPECT_NE(check_error("negativity:0-7|8-14", 20, true).find("RDM of 15 qubits"), std::string::npos);
  EXPECT_NE(check_error("fidelity:ghz:0-14", 20, true).find("RDM of 15 qubits"), std::string::npos);
  EXPECT_EQ(check_error("purity:0-13", 28, true), "(no error)");
}

}  // namespace
