// The backend-independent elementary functions (kernels/detmath.h) against the C library: within a
// few ulp everywhere they are used (decay probabilities, geometric sampling), exact at the special
// values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

#include "kernels/detmath.h"

namespace {

// Distance in units in the last place between two finite doubles of the same sign.
double ulps(double a, double b) {
  if (a == b) return 0;
  const double scale = std::max(std::abs(a), std::abs(b));
  return std::abs(a - b) / (std::nextafter(scale, INFINITY) - scale);
}

TEST(DetMath, Expm1MatchesLibmWithinFewUlp) {
  std::mt19937_64 rng(1);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    // log-uniform magnitudes 1e-20 .. 700, both signs
    const double mag = std::pow(10.0, std::uniform_real_distribution<double>(-20, 2.845)(rng));
    const double x = (i % 2 ? mag : -mag);
    if (x < -40) continue;
    worst = std::max(worst, ulps(qw::det::expm1(x), std::expm1(x)));
  }
  EXPECT_LE(worst, 4.0);
}

TEST(DetMath, ExpAndLogMatchLibmWithinFewUlp) {
  std::mt19937_64 rng(2);
  double worst_exp = 0, worst_log = 0;
  for (int i = 0; i < 200000; ++i) {
    const double x = std::uniform_real_distribution<double>(-700, 700)(rng);
    worst_exp = std::max(worst_exp, ulps(qw::det::exp(x), std::exp(x)));
    const double u = std::pow(10.0, std::uniform_real_distribution<double>(-300, 300)(rng));
    worst_log = std::max(worst_log, ulps(qw::det::log(u), std::log(u)));
  }
  EXPECT_LE(worst_exp, 4.0);
  EXPECT_LE(worst_log, 4.0);
}

TEST(DetMath, Log1pMatchesLibmWithinFewUlp) {
  std::mt19937_64 rng(3);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const double mag = std::pow(10.0, std::uniform_real_distribution<double>(-20, 0)(rng));
    const double x = (i % 2 ? mag : -mag * 0.999999);  // (-1, 1)
    worst = std::max(worst, ulps(qw::det::log1p(x), std::log1p(x)));
    const double big = std::pow(10.0, std::uniform_real_distribution<double>(0, 300)(rng));
    worst = std::max(worst, ulps(qw::det::log1p(big), std::log1p(big)));
  }
  EXPECT_LE(worst, 4.0);
}

TEST(DetMath, SpecialValues) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(qw::det::expm1(0.0), 0.0);
  EXPECT_TRUE(std::signbit(qw::det::expm1(-0.0)));  // -0 in, -0 out: gamma = -expm1(-t/inf) = +0
  EXPECT_EQ(qw::det::expm1(-inf), -1.0);
  EXPECT_EQ(qw::det::expm1(inf), inf);
  EXPECT_EQ(qw::det::exp(0.0), 1.0);
  EXPECT_EQ(qw::det::exp(-inf), 0.0);
  EXPECT_EQ(qw::det::log(1.0), 0.0);
  EXPECT_EQ(qw::det::log(0.0), -inf);
  EXPECT_TRUE(std::isnan(qw::det::log(-1.0)));
  EXPECT_EQ(qw::det::log1p(0.0), 0.0);
  EXPECT_EQ(qw::det::log1p(-1.0), -inf);
  EXPECT_TRUE(std::isnan(qw::det::log1p(-2.0)));
  EXPECT_TRUE(std::isnan(qw::det::expm1(std::nan(""))));
  EXPECT_EQ(qw::det::log(2.0), std::log(2.0));
}

}  // namespace
