// Memory qubits per node in repeater chains (ChainParams::memories, memory.qubits_per_node):
// multiplexed elementary attempts and parallel generation of a purification round's two pairs,
// against closed forms for the mean delivery time and attempt count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "host/errors.h"
#include "host/experiment.h"
#include "kernels/link_chain.h"
#include "kernels/link_maps.h"
#include "kernels/memory.h"
#include "tests/link_test_util.h"

namespace qw {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

testing::ChainRun run(const link::ChainParams& p, std::uint64_t n) { return testing::run_chain(p, 3, n); }

link::ChainParams one_segment(double p_success, unsigned memories) {
  link::ChainParams c;
  c.segments = 1;
  c.success_probability = p_success;
  c.attempt_time_s = 1e-5;
  c.segment_delay_s = 3e-5;
  c.elementary = werner(0.9);
  c.elementary_density = to_pair4(c.elementary);
  c.t1_s = kInf;
  c.t2_s = kInf;
  c.cutoff_s = kInf;
  c.memories = memories;
  return c;
}

TEST(LinkMemories, MultiplexedElementaryAttempts) {
  const double p = 0.1, T = 1e-5;
  for (unsigned m : {1u, 2u, 4u, 7u}) {
    const testing::ChainRun r = run(one_segment(p, m), 40000);
    const double pm = 1 - std::pow(1 - p, m);
    EXPECT_NEAR(r.mean_time, T / pm, 5 * r.time_standard_error) << m << " memories";
    // Every window uses all m memories: attempts = m x windows, episode by episode.
    for (std::size_t i = 0; i < r.time_s.size(); ++i) {
      const double windows = std::round(r.time_s[i] / T);
      ASSERT_EQ(r.attempts[i], static_cast<std::uint64_t>(windows) * m) << "episode " << i;
    }
  }
}

// One DEJMPS round on one segment, no decoherence: every try takes the generation of both pairs plus
// the exchange d, and succeeds with the map's probability P. One memory: the pairs one after the
// other, E = (2T/p + d)/P. Two memories: at once, E = (T E[max(G1, G2)] + d)/P with
// E[max] = 2/p - 1/(1 - (1 - p)^2) for two independent geometric counts.
TEST(LinkMemories, PurificationPairsInParallel) {
  const double p = 0.1, T = 1e-5, d = 3e-5;
  const BellOutcome o = dejmps(werner(0.9), werner(0.9));
  for (unsigned m : {1u, 2u}) {
    link::ChainParams c = one_segment(p, m);
    c.purification = link::Purification::dejmps;
    c.rounds = 1;
    const testing::ChainRun r = run(c, 40000);
    const double gen = m == 1 ? 2 * T / p : T * (2 / p - 1 / (1 - (1 - p) * (1 - p)));
    EXPECT_NEAR(r.mean_time, (gen + d) / o.probability, 5 * r.time_standard_error) << m << " memories";
    for (double f : r.fidelity) ASSERT_NEAR(f, o.state.phi_plus, 1e-14);
  }
}

// With memories that dephase, waiting less (parallel generation) gives better pairs, faster.
TEST(LinkMemories, MoreMemoriesWaitLess) {
  link::ChainParams c = one_segment(0.05, 1);
  c.segments = 2;
  c.chain_delay_s = 6e-5;
  c.purification = link::Purification::dejmps;
  c.rounds = 2;
  c.t2_s = 5e-3;
  const testing::ChainRun one = run(c, 20000);
  c.memories = 4;
  const testing::ChainRun four = run(c, 20000);
  EXPECT_GT(four.mean_fidelity, one.mean_fidelity + 1e-3);
  EXPECT_LT(four.mean_time, 0.8 * one.mean_time);
}

TEST(LinkMemories, ExperimentKey) {
  const std::string base = "[experiment]\nkind = \"link\"\nepisodes = 100\n[link]\nsegments = 2\n[memory]\n";
  const Experiment e = parse_experiment(base + "qubits_per_node = 4\n", "m.toml");
  EXPECT_EQ(e.link.memories, 4u);
  EXPECT_EQ(parse_experiment(base, "m.toml").link.memories, 1u);
  try {
    parse_experiment(base + "qubits_per_node = 0\n", "m.toml");
    FAIL() << "no error";
  } catch (const InputError& err) {
    EXPECT_NE(std::string(err.what()).find("m.toml:7:"), std::string::npos) << err.what();
    EXPECT_NE(std::string(err.what()).find("qubits_per_node = 0 must be in [1, 1024]"), std::string::npos) << err.what();
  }
  // 4 memories on the exact 4x4 path of one segment run through the chain kernel.
  const Experiment d = parse_experiment(
      "[experiment]\nkind = \"link\"\nepisodes = 200\nseed = 2\n[link]\nstate = \"density\"\n[memory]\n"
      "qubits_per_node = 4\n", "d.toml");
  const auto r = run_link_experiment(d.link);
  EXPECT_EQ(r.attempts.size(), 200u);
  for (std::uint64_t a : r.attempts) EXPECT_EQ(a % 4, 0u);
}

}  // namespace
}  // namespace qw
