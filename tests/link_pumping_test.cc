// Entanglement pumping in repeater chains (purification = "pumping"): each step purifies the kept
// pair with a fresh pair by DEJMPS. Without decoherence every episode delivers the iterated map
// pump(...pump(F0, F0)..., F0) and the mean time follows from the steps' success probabilities.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "host/experiment.h"
#include "kernels/link_chain.h"
#include "kernels/link_maps.h"
#include "kernels/memory.h"
#include "tests/link_test_util.h"

namespace qw {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

link::ChainParams pumped_segment(unsigned steps) {
  link::ChainParams c;
  c.segments = 1;
  c.success_probability = 0.2;
  c.attempt_time_s = 1e-5;
  c.segment_delay_s = 2e-5;
  c.elementary = werner(0.9);
  c.elementary_density = to_pair4(c.elementary);
  c.purification = link::Purification::pumping;
  c.rounds = steps;
  c.t1_s = c.t2_s = c.cutoff_s = kInf;
  return c;
}

testing::ChainRun run(const link::ChainParams& p, std::uint64_t n) { return testing::run_chain(p, 5, n); }

TEST(LinkPumping, EpisodesDeliverTheIteratedMapWithTheExpectedTime) {
  const double T = 1e-5, d = 2e-5, p = 0.2;
  for (unsigned steps : {1u, 3u, 6u}) {
    for (bool full : {false, true}) {
      link::ChainParams c = pumped_segment(steps);
      c.full_density = full;
      // E[T_0] = T/p; step r: the kept pair (E[T_(r-1)]), then a fresh one (T/p), the exchange d,
      // success with P_r, else the step restarts from scratch: E[T_r] = (E[T_(r-1)] + T/p + d) / P_r.
      BellDiagonal kept = werner(0.9);
      double mean = T / p;
      for (unsigned r = 0; r < steps; ++r) {
        const BellOutcome o = pump(kept, werner(0.9));
        kept = o.state;
        mean = (mean + T / p + d) / o.probability;
      }
      const std::uint64_t n = 20000;
      const testing::ChainRun o = run(c, n);
      for (std::uint64_t i = 0; i < n; ++i) ASSERT_NEAR(o.fidelity[i], kept.phi_plus, 1e-12) << "episode " << i;
      EXPECT_NEAR(o.mean_time, mean, 5 * o.time_standard_error) << steps << " steps, 4x4 " << full;
    }
  }
}

// Pumping saturates below 1 (about 0.9602 from Werner 0.9, docs/physics.md), recurrence does not.
TEST(LinkPumping, SaturatesWhereRecurrenceKeepsClimbing) {
  link::ChainParams c = pumped_segment(8);
  const testing::ChainRun pumped = run(c, 200);
  EXPECT_NEAR(pumped.fidelity[0], 0.9602, 5e-4);
  c.purification = link::Purification::dejmps;
  c.rounds = 4;
  const testing::ChainRun rec = run(c, 50);
  EXPECT_GT(rec.fidelity[0], 0.999);
}

TEST(LinkPumping, ExperimentFileAcceptsPumping) {
  const Experiment e = parse_experiment("[experiment]\nkind = \"link\"\nepisodes = 100\n[link]\nsegments = 8\n"
                                        "protocol = \"bdcz\"\npurification = \"pumping\"\npurification_rounds = 3\n",
                                        "p.toml");
  EXPECT_EQ(e.link.purification, link::Purification::pumping);
  const auto r = run_link_experiment(e.link);
  EXPECT_EQ(r.failed_episodes, 0u);
}

}  // namespace
}  // namespace qw
