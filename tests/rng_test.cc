// Philox4x32-10 against the published known-answer vectors (Salmon et al. 2011, Random123's
// kat_vectors), device draws against host draws, and independence from the thread count.
#include <gtest/gtest.h>

#include <omp.h>
#include <cmath>
#include <set>
#include <vector>

#include "kernels/rng.h"
#include "kernels/rng_fill.h"

namespace {

TEST(Rng, Philox4x32x10KnownAnswers) {
  r123::Philox4x32 g;
  struct Kat { std::uint32_t ctr[4], key[2], out[4]; };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const auto& k : kats) {
    r123::Philox4x32::ctr_type c = {{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}};
    r123::Philox4x32::key_type key = {{k.key[0], k.key[1]}};
    const auto r = g(c, key);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.v[i], k.out[i]) << i;
  }
}

TEST(Rng, KeyingBySeedStreamAndDraw) {
  // Same inputs, same number; any input changed, a different number.
  const double a = qw::uniform01(7, 3, 2);
  EXPECT_EQ(a, qw::uniform01(7, 3, 2));
  std::set<double> seen = {a, qw::uniform01(8, 3, 2), qw::uniform01(7, 4, 2), qw::uniform01(7, 3, 3),
                           qw::uniform01(7, 3 + (std::uint64_t{1} << 32), 2)};
  EXPECT_EQ(seen.size(), 5u);
  qw::RngStream s{7, 3};
  EXPECT_EQ(s.uniform(), qw::uniform01(7, 3, 0));
  EXPECT_EQ(s.uniform(), qw::uniform01(7, 3, 1));
}

TEST(Rng, DeviceDrawsEqualHostDrawsForAnyThreadCount) {
  const std::uint64_t n = 100000;
  std::vector<double> ref(n);
  for (std::uint64_t s = 0; s < n; ++s) ref[s] = qw::uniform01(42, 1000 + s, 5);
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    std::vector<double> got(n);
    qw::fill_uniform(42, 1000, n, 5, got.data());
    EXPECT_EQ(got, ref) << threads << " threads";
  }
  omp_set_num_threads(saved);
}

TEST(Rng, UniformMomentsWithinFiveSigma) {
  const std::uint64_t n = 200000;
  std::vector<double> u(n);
  qw::fill_uniform(1, 0, n, 0, u.data());
  double m = 0, m2 = 0;
  for (double x : u) {
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    m += x;
    m2 += x * x;
  }
  m /= n;
  m2 /= n;
  // mean 1/2 with sigma sqrt(1/12/n); second moment 1/3 with sigma sqrt(4/45/n).
  EXPECT_NEAR(m, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(m2, 1.0 / 3, 5 * std::sqrt(4.0 / 45 / n));
}

}  // namespace
