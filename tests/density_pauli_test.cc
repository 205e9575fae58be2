// Pauli channels on density matrices (the sparse kernels batch::pauli_channel_density_{1q,2q} and
// the engine's PAULI_CHANNEL_1 / PAULI_CHANNEL_2 path) against the Kraus sum sum_P p_P P rho P^dag,
// written here from full 2^n Pauli matrices, on random mixed states and random probabilities.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <complex>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "host/dense_engine.h"
#include "host/parse.h"
#include "kernels/batch.h"
#include "kernels/memory.h"

namespace {
using namespace qw;
using cd = std::complex<double>;
using Dense = std::vector<cd>;  // row-major square matrix
const double kTol = sizeof(real) == 8 ? 1e-12 : 2e-5;

// Single-qubit Pauli code c (0 I, 1 X, 2 Y, 3 Z) entry [r][c].
cd pauli_entry(unsigned code, unsigned r, unsigned c) {
  const cd i(0, 1);
  switch (code) {
    case 1: return r != c ? 1.0 : 0.0;
    case 2: return r == c ? cd(0) : (r == 0 ? -i : i);
    case 3: return r != c ? cd(0) : (r == 0 ? 1.0 : -1.0);
    default: return r == c ? 1.0 : 0.0;
  }
}

// The 2^n x 2^n matrix of the Pauli string with code codes[q] on qubit q (bit q of the index).
Dense pauli_string(const std::vector<unsigned>& codes) {
  const std::size_t n = codes.size(), dim = std::size_t{1} << n;
  Dense m(dim * dim);
  for (std::size_t r = 0; r < dim; ++r)
    for (std::size_t c = 0; c < dim; ++c) {
      cd v = 1;
      for (std::size_t q = 0; q < n; ++q) v *= pauli_entry(codes[q], (r >> q) & 1u, (c >> q) & 1u);
      m[r * dim + c] = v;
    }
  return m;
}

// sum_j p_j P_j rho P_j^dag.
Dense kraus_sum(const Dense& rho, const std::vector<std::pair<double, Dense>>& terms, std::size_t dim) {
  Dense out(dim * dim, 0.0);
  for (const auto& [p, P] : terms) {
    Dense t(dim * dim, 0.0);  // P rho
    for (std::size_t i = 0; i < dim; ++i)
      for (std::size_t a = 0; a < dim; ++a)
        if (P[i * dim + a] != 0.0)
          for (std::size_t j = 0; j < dim; ++j) t[i * dim + j] += P[i * dim + a] * rho[a * dim + j];
    for (std::size_t i = 0; i < dim; ++i)
      for (std::size_t j = 0; j < dim; ++j) {
        cd s = 0;
        for (std::size_t b = 0; b < dim; ++b) s += t[i * dim + b] * std::conj(P[j * dim + b]);
        out[i * dim + j] += p * s;
      }
  }
  return out;
}

// Terms of a one-qubit channel (probs over codes 0..3) on qubit q of n.
std::vector<std::pair<double, Dense>> terms_1q(const std::array<double, 4>& p, unsigned q, unsigned n) {
  std::vector<std::pair<double, Dense>> t;
  for (unsigned c = 0; c < 4; ++c) {
    std::vector<unsigned> codes(n, 0);
    codes[q] = c;
    t.push_back({p[c], pauli_string(codes)});
  }
  return t;
}
// Terms of a two-qubit channel, p[a + 4 b] for code a on qubit qa and code b on qubit qb.
std::vector<std::pair<double, Dense>> terms_2q(const std::array<double, 16>& p, unsigned qa, unsigned qb,
                                               unsigned n) {
  std::vector<std::pair<double, Dense>> t;
  for (unsigned c = 0; c < 16; ++c) {
    std::vector<unsigned> codes(n, 0);
    codes[qa] = c & 3u;
    codes[qb] = c >> 2;
    t.push_back({p[c], pauli_string(codes)});
  }
  return t;
}

template <std::size_t K>
std::array<double, K> random_probs(std::mt19937_64& rng, bool with_zeros) {
  std::uniform_real_distribution<double> u(0, 1);
  std::array<double, K> p{};
  double s = 0;
  for (auto& x : p) {
    x = with_zeros && u(rng) < 0.3 ? 0.0 : u(rng);
    s += x;
  }
  if (s == 0) p[0] = s = 1;
  for (auto& x : p) x /= s;
  return p;
}

std::string fmt(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// A random 4-qubit mixed state: rotations, entanglers, amplitude damping.
std::string random_prep(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> ang(-3.0, 3.0), g(0.1, 0.6);
  std::string t;
  for (int q = 0; q < 4; ++q)
    t += "U3(" + fmt(ang(rng)) + ", " + fmt(ang(rng)) + ", " + fmt(ang(rng)) + ") " + std::to_string(q) + "\n";
  t += "CX 0 1\nCX 2 3\nCZ 1 2\n";
  t += "AMPLITUDE_DAMP(" + fmt(g(rng)) + ") 0 3\n";
  for (int q = 0; q < 4; ++q) t += "RY(" + fmt(ang(rng)) + ") " + std::to_string(q) + "\n";
  t += "CX 3 0\nCY 1 3\n";
  t += "AMPLITUDE_DAMP(" + fmt(g(rng)) + ") 1 2\n";
  t += "RX(" + fmt(ang(rng)) + ") 2\nCX 2 1\n";
  return t;
}

Dense run_density(const std::string& text) {
  DenseOptions o;
  o.representation = Representation::DensityMatrix;
  o.shots = 0;
  o.keep_state = true;
  const auto r = run_dense(parse_stim(text, "pauli.stim"), o);
  Dense out(r.state.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = {r.state[i].re, r.state[i].im};
  return out;
}

double max_diff(const Dense& a, const Dense& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

double trace_re(const Dense& rho, std::size_t dim) {
  double t = 0;
  for (std::size_t i = 0; i < dim; ++i) t += rho[i * dim + i].real();
  return t;
}

TEST(DensityPauli, RandomOneQubitChannelsMatchTheKrausSum) {
  std::mt19937_64 rng(101);
  const unsigned n = 4;
  for (int trial = 0; trial < 12; ++trial) {
    const std::string prep = random_prep(rng);
    const Dense rho0 = run_density(prep);
    ASSERT_NEAR(trace_re(rho0, 16), 1.0, kTol);
    const unsigned q = static_cast<unsigned>(trial % 4);
    const auto p = random_probs<4>(rng, trial % 3 == 2);
    const std::string op =
        "PAULI_CHANNEL_1(" + fmt(p[1]) + ", " + fmt(p[2]) + ", " + fmt(p[3]) + ") " + std::to_string(q) + "\n";
    const Dense got = run_density(prep + op);
    const Dense want = kraus_sum(rho0, terms_1q(p, q, n), 16);
    EXPECT_LT(max_diff(got, want), kTol) << op;
    EXPECT_NEAR(trace_re(got, 16), 1.0, kTol) << op;
  }
}

TEST(DensityPauli, RandomTwoQubitChannelsMatchTheKrausSumInBothTargetOrders) {
  std::mt19937_64 rng(202);
  const unsigned n = 4;
  const unsigned pairs[][2] = {{0, 1}, {1, 0}, {0, 3}, {3, 0}, {2, 1}, {1, 2}, {3, 2}, {2, 3}};
  int trial = 0;
  for (const auto& pr : pairs) {
    const std::string prep = random_prep(rng);
    const Dense rho0 = run_density(prep);
    const auto p = random_probs<16>(rng, trial++ % 2 == 1);  // p[a + 4 b]: a on pr[0], b on pr[1]
    // Stim's argument order: argument j-1 is (P1, P2) with j = 4 P1 + P2, P1 on the first target.
    std::string op = "PAULI_CHANNEL_2(";
    for (unsigned j = 1; j < 16; ++j) op += (j > 1 ? ", " : "") + fmt(p[(j >> 2) + 4 * (j & 3u)]);
    op += ") " + std::to_string(pr[0]) + " " + std::to_string(pr[1]) + "\n";
    const Dense got = run_density(prep + op);
    const Dense want = kraus_sum(rho0, terms_2q(p, pr[0], pr[1], n), 16);
    EXPECT_LT(max_diff(got, want), kTol) << op;
    EXPECT_NEAR(trace_re(got, 16), 1.0, kTol) << op;
  }
}

TEST(DensityPauli, SeveralTargetPairsAndNamedChannelsInSequence) {
  std::mt19937_64 rng(303);
  const unsigned n = 4;
  const std::string prep = random_prep(rng);
  const auto p2 = random_probs<16>(rng, false);
  const auto p1 = random_probs<4>(rng, false);
  std::string op = "PAULI_CHANNEL_2(";
  for (unsigned j = 1; j < 16; ++j) op += (j > 1 ? ", " : "") + fmt(p2[(j >> 2) + 4 * (j & 3u)]);
  op += ") 3 1 0 2\nDEPOLARIZE2(0.2) 2 3\nPAULI_CHANNEL_1(" + fmt(p1[1]) + ", " + fmt(p1[2]) + ", " +
        fmt(p1[3]) + ") 1 2\nY_ERROR(0.3) 0\n";
  const Dense got = run_density(prep + op);
  Dense want = run_density(prep);
  want = kraus_sum(want, terms_2q(p2, 3, 1, n), 16);
  want = kraus_sum(want, terms_2q(p2, 0, 2, n), 16);
  std::array<double, 16> dep{};
  for (auto& x : dep) x = 0.2 / 15;
  dep[0] = 0.8;
  want = kraus_sum(want, terms_2q(dep, 2, 3, n), 16);
  want = kraus_sum(want, terms_1q(p1, 1, n), 16);
  want = kraus_sum(want, terms_1q(p1, 2, n), 16);
  want = kraus_sum(want, terms_1q({0.7, 0, 0.3, 0}, 0, n), 16);
  EXPECT_LT(max_diff(got, want), kTol);
}

// The kernels directly, on a batch of B = 3 arbitrary (not Hermitian) 3-qubit matrices in the
// memory layout (index ket + 2^n bra): the map is linear, so the Kraus sum applies to each segment.
TEST(DensityPauli, KernelsOnABatchOfSegmentsMatchTheKrausSum) {
  std::mt19937_64 rng(404);
  std::normal_distribution<double> g;
  const unsigned n = 3;
  const std::size_t dim = 8, L = dim * dim, B = 3;
  std::vector<cplx> host(B * L);
  for (auto& v : host) v = {static_cast<real>(g(rng)), static_cast<real>(g(rng))};
  auto segment = [&](const std::vector<cplx>& h, std::size_t b) {  // row-major [ket][bra]
    Dense m(L);
    for (std::size_t k = 0; k < dim; ++k)
      for (std::size_t br = 0; br < dim; ++br) {
        const cplx v = h[b * L + k + dim * br];
        m[k * dim + br] = {v.re, v.im};
      }
    return m;
  };
  auto weights = [](const auto& p, unsigned bits, double* W) {  // W[x * 2^bits + d], independent form
    const unsigned m = 1u << bits;
    for (unsigned x = 0; x < m; ++x)
      for (unsigned d = 0; d < m; ++d) {
        double s = 0;
        for (unsigned z = 0; z < m; ++z) {
          unsigned code = 0;
          for (unsigned j = 0; j < bits; ++j) {
            const unsigned xb = (x >> j) & 1u, zb = (z >> j) & 1u;
            const unsigned c = xb && zb ? 2 : xb ? 1 : zb ? 3 : 0;
            code += c << (2 * j);
          }
          s += (__builtin_popcount(z & d) & 1 ? -1.0 : 1.0) * p[code];
        }
        W[x * m + d] = s;
      }
  };
  for (unsigned q = 0; q < n; ++q) {
    const auto p = random_probs<4>(rng, false);
    double W[2][2];
    weights(p, 1, &W[0][0]);
    DeviceArray<cplx> d(B * L);
    copy_to_device(d.data(), host.data(), host.size() * sizeof(cplx));
    batch::pauli_channel_density_1q(d.data(), B, n, q, W);
    std::vector<cplx> out(B * L);
    copy_to_host(out.data(), d.data(), out.size() * sizeof(cplx));
    for (std::size_t b = 0; b < B; ++b)
      EXPECT_LT(max_diff(segment(out, b), kraus_sum(segment(host, b), terms_1q(p, q, n), dim)), kTol)
          << "q " << q << " segment " << b;
  }
  for (unsigned qa = 0; qa < n; ++qa)
    for (unsigned qb = 0; qb < n; ++qb) {
      if (qa == qb) continue;
      const auto p = random_probs<16>(rng, false);
      double W[4][4];
      weights(p, 2, &W[0][0]);
      DeviceArray<cplx> d(B * L);
      copy_to_device(d.data(), host.data(), host.size() * sizeof(cplx));
      batch::pauli_channel_density_2q(d.data(), B, n, qa, qb, W);
      std::vector<cplx> out(B * L);
      copy_to_host(out.data(), d.data(), out.size() * sizeof(cplx));
      for (std::size_t b = 0; b < B; ++b)
        EXPECT_LT(max_diff(segment(out, b), kraus_sum(segment(host, b), terms_2q(p, qa, qb, n), dim)), kTol)
            << "q " << qa << " " << qb << " segment " << b;
    }
}

}  // namespace
