// Helpers shared by the link-engine tests: comparing pairs, random two-qubit states, and running
// the repeater-chain kernel into host vectors with their summary statistics.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/link_chain.h"
#include "kernels/link_maps.h"
#include "kernels/memory.h"

namespace qw::testing {

inline void expect_near(BellDiagonal a, BellDiagonal b, double tol) {
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(a[k], b[k], tol) << "coefficient " << k;
}

inline void expect_near(const Pair4& a, const Pair4& b, double tol) {
  for (int i = 0; i < 16; ++i) {
    EXPECT_NEAR(a.rho[i].re, b.rho[i].re, tol) << "element " << i;
    EXPECT_NEAR(a.rho[i].im, b.rho[i].im, tol) << "element " << i;
  }
}

// Off-diagonal weight in the Bell basis: zero iff the state is Bell-diagonal.
inline double off_bell_diagonal(const Pair4& p) {
  const Pair4 d = to_pair4(bell_diagonal(p));
  double s = 0;
  for (int i = 0; i < 16; ++i) s += norm2(p.rho[i] - d.rho[i]);
  return std::sqrt(s);
}

// A random full-rank density matrix M M^dagger / tr, M with Gaussian entries (not Bell-diagonal),
// mixed with |Phi+> with weight phi_weight (0: none).
inline Pair4 random_density(std::mt19937_64& rng, double phi_weight = 0) {
  std::normal_distribution<double> g(0.0, 1.0);
  cplx64 m[16];
  for (auto& x : m) x = {g(rng), g(rng)};
  Pair4 p{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      cplx64 s{0, 0};
      for (int k = 0; k < 4; ++k) s = s + m[r * 4 + k] * conj(m[c * 4 + k]);
      p.at(r, c) = s;
    }
  const double t = trace(p);
  const Pair4 phi = to_pair4(werner(1.0));
  for (int i = 0; i < 16; ++i) p.rho[i] = ((1 - phi_weight) / t) * p.rho[i] + phi_weight * phi.rho[i];
  return p;
}

// Episodes [0, n) of a chain, copied to the host, with the means of time, attempts and fidelity.
struct ChainRun {
  std::vector<double> time_s, fidelity, bell;  // bell: [episode, 4]
  std::vector<std::uint64_t> attempts;
  double mean_time = 0, time_standard_error = 0, mean_attempts = 0, mean_fidelity = 0;
};

inline ChainRun run_chain(const link::ChainParams& p, std::uint64_t seed, std::uint64_t n) {
  DeviceArray<double> t(n), f(n), b(4 * n);
  DeviceArray<std::uint64_t> a(n);
  link::run_chain_episodes(p, seed, 0, static_cast<index_t>(n), {t.data(), a.data(), f.data(), b.data()});
  ChainRun r;
  r.time_s.resize(n);
  r.fidelity.resize(n);
  r.bell.resize(4 * n);
  r.attempts.resize(n);
  copy_to_host(r.time_s.data(), t.data(), n * sizeof(double));
  copy_to_host(r.fidelity.data(), f.data(), n * sizeof(double));
  copy_to_host(r.bell.data(), b.data(), 4 * n * sizeof(double));
  copy_to_host(r.attempts.data(), a.data(), n * sizeof(std::uint64_t));
  double s = 0, s2 = 0, sa = 0, sf = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    s += r.time_s[i];
    s2 += r.time_s[i] * r.time_s[i];
    sa += static_cast<double>(r.attempts[i]);
    sf += r.fidelity[i];
  }
  const double dn = static_cast<double>(n);
  r.mean_time = s / dn;
  r.time_standard_error = std::sqrt(std::max(0.0, s2 / dn - r.mean_time * r.mean_time) / dn);
  r.mean_attempts = sa / dn;
  r.mean_fidelity = sf / dn;
  return r;
}

// A chain with 10 us attempts at p = 0.1, 20 us per segment of classical delay, a 5 us herald wait,
// noisy swaps (DEPOLARIZE2 1%, readout 0.5%), dephasing memories (T2 = 2 ms), no cut-off.
inline link::ChainParams test_chain(unsigned segments, link::Protocol protocol, BellDiagonal elementary) {
  link::ChainParams p;
  p.segments = segments;
  p.protocol = protocol;
  p.success_probability = 0.1;
  p.attempt_time_s = 1e-5;
  p.segment_delay_s = 2e-5;
  p.chain_delay_s = segments * 2e-5;
  p.herald_wait_s = 5e-6;
  p.elementary = elementary;
  p.elementary_density = to_pair4(elementary);
  p.local = {0.01, 0.005};
  p.t1_s = std::numeric_limits<double>::infinity();
  p.t2_s = 2e-3;
  p.cutoff_s = std::numeric_limits<double>::infinity();
  return p;
}

// The same chain on the exact 4x4 path.
inline link::ChainParams density(link::ChainParams p) {
  p.full_density = true;
  return p;
}

}  // namespace qw::testing
