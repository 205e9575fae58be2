// Link experiments from TOML: the issue's minimum file, analytic chain results (swap of Werner
// pairs, DEJMPS recurrence), the time model, cut-offs, the PLOB bound, and input errors.
#include <gtest/gtest.h>

#include <hdf5.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "host/errors.h"
#include "host/experiment.h"
#include "host/memory_experiment.h"
#include "host/result_file.h"
#include "kernels/link_maps.h"
#include "tests/command.h"

namespace {
using namespace qw;

const char* kMinimum = R"(
[experiment]
kind = "link"          # deliver entangled pairs between two modules
episodes = 100000      # delivered pairs to simulate
seed = 1
[link]
source = "werner"      # "werner" | "fiber"
fidelity = 0.8         # werner: fidelity of each elementary pair (a Werner state)
success_probability = 0.05   # werner: heralding success per attempt
scheme = "double_click"      # fiber: "double_click" | "single_click"
length_km = 25.0             # fiber: total length, station in the middle
attenuation_db_per_km = 0.2  # fiber
efficiency = 0.8             # fiber: product of collection and detector efficiencies
attempt_time_s = 1e-5
segments = 1           # elementary links in a repeater chain, joined by swapping
purification = "none"  # "none" | "bbpssw" | "dejmps"
purification_rounds = 0
)";

LinkExperimentResult run(const std::vector<std::string>& sets) {
  return run_link_experiment(parse_experiment(kMinimum, "min.toml", sets).link);
}

TEST(LinkExperiment, TheMinimumFileRunsAsWritten) {
  const auto r = run({});
  ASSERT_EQ(r.fidelity.size(), 100000u);
  EXPECT_NEAR(r.fidelity_mean, 0.8, 1e-9);
  // Geometric attempts with p = 0.05: mean 20, sigma of the mean sqrt(0.95)/0.05/sqrt(N).
  EXPECT_NEAR(r.attempts_mean, 20.0, 5 * std::sqrt(0.95) / 0.05 / std::sqrt(1e5));
  // One segment of a werner source over 25 km: delivery time = attempts x attempt time + L/c.
  const double delay = 25.0e3 / (299792458.0 / 1.44);
  for (std::size_t i = 0; i < 1000; ++i) {
    EXPECT_NEAR(r.time_s[i], static_cast<double>(r.attempts[i]) * 1e-5, 1e-15 + 1e-12 * r.time_s[i]);
  }
  (void)delay;
  EXPECT_NEAR(r.rate_hz, 1 / r.time_mean_s, 1e-9);
  EXPECT_NEAR(r.plob_bound, -std::log2(1 - 0.05), 1e-15);
}

TEST(LinkExperiment, SwappingWernerPairsFollowsTheClosedForm) {
  for (double f : {0.9, 0.75}) {
    const auto r = run({"link.success_probability=1", "link.segments=2", "link.fidelity=" + std::to_string(f),
                        "experiment.episodes=100"});
    const double want = f * f + (1 - f) * (1 - f) / 3;  // F1 F2 + (1-F1)(1-F2)/3
    for (double x : r.fidelity) EXPECT_NEAR(x, want, 1e-12);
    // Four segments: three swaps of identical Werner pairs.
    const auto r4 = run({"link.success_probability=1", "link.segments=4", "link.fidelity=" + std::to_string(f),
                         "experiment.episodes=10"});
    const double two = want;
    const double four = two * two + (1 - two) * (1 - two) / 3;
    EXPECT_NEAR(r4.fidelity_mean, four, 1e-12);
  }
}

TEST(LinkExperiment, DejmpsRoundsReproduceTheRecurrence) {
  const double want[3] = {0.838150, 0.943639, 0.987974};
  for (int rounds = 1; rounds <= 3; ++rounds) {
    const auto r = run({"link.success_probability=1", "link.purification=\"dejmps\"",
                        "link.purification_rounds=" + std::to_string(rounds), "experiment.episodes=2000"});
    EXPECT_NEAR(r.fidelity_mean, want[rounds - 1], 5e-7) << rounds;
    // Failed rounds regenerate: at least 2^rounds elementary pairs per delivered pair.
    EXPECT_GE(r.attempts_mean, std::pow(2.0, rounds));
  }
}

TEST(LinkExperiment, MemoriesDecayAndCutOffsBoundTheWait) {
  const std::vector<std::string> base = {"link.segments=2", "link.success_probability=0.01", "link.fidelity=1",
                                         "experiment.episodes=20000"};
  auto with = [&](std::vector<std::string> extra) {
    auto s = base;
    s.insert(s.end(), extra.begin(), extra.end());
    return run(s);
  };
  const auto ideal = with({});
  EXPECT_DOUBLE_EQ(ideal.fidelity_mean, 1.0);
  const auto decayed = with({"memory.t2_s=0.002"});
  EXPECT_LT(decayed.fidelity_mean, 0.999);
  // With a cut-off no stored pair waits longer than it: every delivered pair's fidelity is at least
  // that of a pair whose two qubits dephased for the cut-off time (T1 = inf): (1 + e^{-2t/T2})/2.
  const double cut = 5e-4;
  const auto cutoff = with({"memory.t2_s=0.002", "memory.cutoff_s=" + std::to_string(cut)});
  const double floor = (1 + std::exp(-2 * cut / 0.002)) / 2;
  for (double f : cutoff.fidelity) EXPECT_GE(f, floor - 1e-12);
  EXPECT_GT(cutoff.fidelity_mean, decayed.fidelity_mean);
  EXPECT_GT(cutoff.time_mean_s, decayed.time_mean_s);  // discarded pairs cost time
}

TEST(LinkExperiment, FiberLinksStayBelowThePlobBound) {
  for (double km : {10.0, 50.0, 150.0}) {
    const auto r = run({"link.source=\"fiber\"", "link.length_km=" + std::to_string(km), "experiment.episodes=20000",
                        "link.efficiency=1"});
    // Double-click: two channel uses per attempt.
    const double per_use = 1 / (2 * r.attempts_mean);
    EXPECT_LT(per_use, r.plob_bound) << km;
    EXPECT_NEAR(r.transmissivity, std::pow(10, -0.2 * km / 10), 1e-12);
  }
}

// ---- bdcz (nested purify-then-swap) -----------------------------------------------------------

TEST(LinkExperiment, BdczTwoSegmentsWithoutPurificationIsOneSwap) {
  for (double f : {0.9, 0.75}) {
    const auto r = run({"link.protocol=\"bdcz\"", "link.success_probability=1", "link.segments=2",
                        "link.fidelity=" + std::to_string(f), "experiment.episodes=100"});
    const double want = f * f + (1 - f) * (1 - f) / 3;
    for (double x : r.fidelity) EXPECT_NEAR(x, want, 1e-12);
    EXPECT_EQ(r.failed_episodes, 0u);
  }
}

TEST(LinkExperiment, BdczNestsSwapAndDejmpsLevelByLevel) {
  // One DEJMPS round at every level of a 4-segment chain, p = 1, no memory decay: every episode
  // ends in the same state whatever rounds failed, the closed-form nesting of the maps.
  for (double f : {0.8, 0.9}) {
    for (unsigned segments : {2u, 4u, 8u}) {
      const auto r = run({"link.protocol=\"bdcz\"", "link.success_probability=1",
                          "link.segments=" + std::to_string(segments), "link.fidelity=" + std::to_string(f),
                          "link.purification=\"dejmps\"", "link.purification_rounds=1", "experiment.episodes=200"});
      BellDiagonal level = dejmps(werner(f), werner(f)).state;  // level 0
      for (unsigned span = 2; span <= segments; span *= 2) {
        const BellDiagonal swapped = swap(level, level).state;
        level = dejmps(swapped, swapped).state;
      }
      EXPECT_EQ(r.failed_episodes, 0u);
      for (std::size_t i = 0; i < r.fidelity.size(); ++i) {
        for (int k = 0; k < 4; ++k) ASSERT_NEAR(r.bell_diagonal[4 * i + k], level[k], 1e-12) << segments << " " << k;
      }
      // Purification fails sometimes: more than the 2 x segments x 2^levels elementary pairs of a
      // run in which every round succeeds, on average.
      const double levels = std::log2(static_cast<double>(segments));
      EXPECT_GT(r.attempts_mean, segments * std::pow(2.0, levels + 1)) << segments;
    }
  }
}

TEST(LinkExperiment, BdczAndSwapAsapAgreeWithoutPurificationAndDecay) {
  for (unsigned segments : {1u, 2u, 4u, 16u, 64u}) {
    const std::vector<std::string> base = {"link.segments=" + std::to_string(segments), "link.fidelity=0.97",
                                           "link.success_probability=0.3", "experiment.episodes=300",
                                           "noise.two_qubit_depolarising=0.01", "noise.readout_error=0.002"};
    auto with = [&](const char* protocol) {
      auto s = base;
      s.push_back(std::string("link.protocol=\"") + protocol + "\"");
      return run(s);
    };
    const auto a = with("swap_asap"), b = with("bdcz");
    // The swap composition is a convolution of Pauli frames: the order of the swaps does not matter.
    for (std::size_t i = 0; i < a.fidelity.size(); ++i) {
      for (int k = 0; k < 4; ++k) ASSERT_NEAR(a.bell_diagonal[4 * i + k], b.bell_diagonal[4 * i + k], 1e-12);
    }
    // Both generate every segment once from t = 0 and swap when the slowest is ready (no cut-off):
    // the same draws, the same times.
    for (std::size_t i = 0; i < a.time_s.size(); ++i) {
      EXPECT_EQ(a.attempts[i], b.attempts[i]);
      EXPECT_NEAR(a.time_s[i], b.time_s[i], 1e-15 + 1e-12 * a.time_s[i]);
    }
  }
}

TEST(LinkExperiment, BdczTimeModel) {
  // p = 1, attempt time T, 40 km in 4 segments (werner source: length only sets the delays).
  const double T = 1e-5, d = 10.0e3 / (299792458.0 / 1.44);  // one segment's one-way delay
  const std::vector<std::string> base = {"link.protocol=\"bdcz\"", "link.success_probability=1",
                                         "link.segments=4", "link.length_km=40", "link.fidelity=1",
                                         "link.attempt_time_s=1e-5", "experiment.episodes=20"};
  // No purification: every segment at T, the swaps at once, the outcomes across the chain (4d).
  const auto r0 = run(base);
  for (double t : r0.time_s) EXPECT_NEAR(t, T + 4 * d, 1e-15);
  // One round per level with perfect pairs (always succeeds): a level-l round takes two level-l
  // pairs one after the other plus an exchange across 2^l segments; a level-l swap waits for the
  // outcome to cross 2^l segments. dur(0) = 2T + d, dur(1) = 2 (dur(0) + 2d) + 2d,
  // dur(2) = 2 (dur(1) + 4d) + 4d = 8T + 28d.
  auto with_rounds = base;
  with_rounds.push_back("link.purification=\"dejmps\"");
  with_rounds.push_back("link.purification_rounds=1");
  const auto r1 = run(with_rounds);
  for (double t : r1.time_s) EXPECT_NEAR(t, 8 * T + 28 * d, 1e-14);
  for (auto a : r1.attempts) EXPECT_EQ(a, 32u);  // 4 segments x 2 pairs x 2 x 2
  // Cut-offs bound every wait: with memory decay the fidelity never drops below the floor of two
  // qubits dephasing for the cut-off at each of the levels' waits, and nothing fails.
  auto slow = base;
  slow.push_back("link.success_probability=0.05");
  slow.push_back("memory.t2_s=0.01");
  slow.push_back("memory.cutoff_s=2e-4");
  slow.push_back("experiment.episodes=2000");
  const auto rc = run(slow);
  EXPECT_EQ(rc.failed_episodes, 0u);
  const double one = (1 + std::exp(-2 * 2e-4 / 0.01)) / 2;  // one pair dephased for the cut-off
  // Three swaps, each input dephased at most once (the later pair of each swap does not wait):
  // composing Z-only errors, the worst case is 4 pairs each flipped with probability (1 - one).
  const double q = 1 - one, worst = (1 + std::pow(1 - 2 * q, 4)) / 2;
  for (double f : rc.fidelity) EXPECT_GE(f, worst - 1e-12);
}

std::string error_of(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    parse_experiment(text, "e.toml", sets);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(LinkExperiment, BadInputNamesFileLineAndNumbers) {
  const std::string head = "[experiment]\nkind = \"link\"\n[link]\n";
  EXPECT_EQ(error_of(head + "fidelity = 1.2\n"), "e.toml:4:12: link.fidelity = 1.2 must be in [0, 1]");
  EXPECT_EQ(error_of(head + "length_km = -3.0\n"), "e.toml:4:13: link.length_km = -3 must be a length >= 0");
  EXPECT_EQ(error_of(head + "purification_rounds = 2\n"),
            "e.toml:4:23: link.purification_rounds = 2 needs a protocol: set purification = \"dejmps\" or \"bbpssw\"");
  EXPECT_NE(error_of(head + "lenght_km = 3\n").find("e.toml:4:1: unknown key 'lenght_km' in [link]"), std::string::npos);
  EXPECT_NE(error_of(head + "segments = \"two\"\n").find("e.toml:4:12: link.segments must be an integer, got a string"),
            std::string::npos);
  EXPECT_NE(error_of("[experimnt]\nkind = \"link\"\n").find("e.toml:1:2: unknown table [experimnt]"), std::string::npos);
  EXPECT_NE(error_of(head + "[memory]\nt1_s = 1e-3\nt2_s = 3e-3\n").find("exceeds 2 t1_s"), std::string::npos);
  EXPECT_NE(error_of(head, {"link.nope=1"}).find("--set link.nope=1: unknown key 'nope'"), std::string::npos);
  EXPECT_NE(error_of(head, {"link.length_km=abc"}).find("--set link.length_km=abc"), std::string::npos);
  EXPECT_NE(error_of(head + "source = \"laser\"\n").find("use \"werner\" or \"fiber\""), std::string::npos);
  EXPECT_NE(error_of("[experiment]\nkind = \"memry\"\n").find("use \"link\", \"memory\" or \"circuit\""), std::string::npos);
  EXPECT_EQ(error_of(head + "protocol = \"bdcz\"\nsegments = 3\n"),
            "e.toml:5:12: link.segments = 3 must be a power of two (1, 2, 4, ..., 64) for protocol = \"bdcz\"");
  EXPECT_EQ(error_of(head + "protocol = \"bdzc\"\n"), "e.toml:4:12: link.protocol = \"bdzc\": use \"swap_asap\" or \"bdcz\"");
  EXPECT_NE(error_of(head + "protocol = \"bdcz\"\nsegments = 64\npurification = \"dejmps\"\npurification_rounds = 4\n")
                .find("e.toml:7:23: link.purification_rounds = 4 with protocol = \"bdcz\" over 64 segments needs at least "
                      "2^34 elementary pairs"),
            std::string::npos);
  EXPECT_EQ(error_of(head + "protocol = \"bdcz\"\nsegments = 64\npurification = \"dejmps\"\npurification_rounds = 3\n"),
            "no error");
  EXPECT_NE(error_of(head + "segments = 6\n", {"link.protocol=\"bdcz\""}).find("link.segments = 6 must be a power of two"),
            std::string::npos);
}

TEST(LinkExperiment, ResultFileHasTheLinkDatasetsAndSummaries) {
  const auto e = parse_experiment(kMinimum, "min.toml", {"experiment.episodes=500", "link.name=\"ab\""});
  const auto r = run_link_experiment(e.link);
  const auto path = (std::filesystem::temp_directory_path() / "qweave_link_experiment.h5").string();
  {
    RunAttributes attrs;
    attrs.engine = "link";
    ResultFile f(path, attrs);
    write_link_experiment(f, e.link, r);
    f.close();
  }
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  for (const char* name : {"/links/ab/time_s", "/links/ab/attempts", "/links/ab/fidelity", "/links/ab/bell_diagonal",
                           "/summary/fidelity_mean", "/summary/attempts_mean", "/summary/time_mean_s",
                           "/summary/rate_hz", "/summary/plob_bound", "/summary/pairs_per_attempt"}) {
    EXPECT_GT(H5Lexists(f, "/links", H5P_DEFAULT), 0);
    const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    EXPECT_GE(d, 0) << name;
    if (d >= 0) H5Dclose(d);
  }
  // Delivered pairs per attempt: the reciprocal of the mean attempts.
  double per_attempt = 0;
  const hid_t d = H5Dopen2(f, "/summary/pairs_per_attempt", H5P_DEFAULT);
  if (d >= 0) {
    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &per_attempt);
    H5Dclose(d);
  }
  EXPECT_DOUBLE_EQ(per_attempt, 1 / r.attempts_mean);
  H5Fclose(f);
  std::filesystem::remove(path);
}

TEST(LinkExperiment, DocsListEveryKey) {
  std::ifstream in(std::string(QWEAVE_SOURCE_DIR) + "/docs/experiments.md");
  ASSERT_TRUE(in) << "docs/experiments.md";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const char* k : {"kind", "episodes", "seed", "name", "source", "fidelity", "success_probability", "scheme",
                        "length_km", "attenuation_db_per_km", "efficiency", "visibility", "dark_count_probability",
                        "bright_state_alpha", "fibre_index", "attempt_time_s", "segments", "protocol", "purification",
                        "purification_rounds", "t1_s", "t2_s", "cutoff_s", "qubits_per_node", "state", "two_qubit_depolarising", "readout_error",
                        "shots", "type", "distance", "rounds", "basis", "p", "count", "partition", "interface_error",
                        "interface_idle", "bell_fidelity", "threads", "platform", "link_wait_s", "link"}) {
    EXPECT_NE(doc.find(std::string("`") + k + "`"), std::string::npos) << k;
  }
}

}  // namespace

namespace {
TEST(LinkExperimentFiber, ElementaryPairsDephaseWhileTheHeraldTravels) {
  // Ideal double-click (V = 1, no dark counts) delivers Phi+; both memories wait L/c for the herald
  // and dephase: each qubit flips with p = (1 - e^{-t/T2})/2, the pair with q = 2p(1-p); F = 1 - q.
  const auto e = qw::parse_experiment(
      "[experiment]\nkind = \"link\"\nepisodes = 200\n[link]\nsource = \"fiber\"\nlength_km = 50.0\n"
      "efficiency = 1.0\n[memory]\nt2_s = 1e-3\n",
      "f.toml");
  const auto r = qw::run_link_experiment(e.link);
  const double t = 50e3 / (299792458.0 / 1.44);
  const double p = (1 - std::exp(-t / 1e-3)) / 2, q = 2 * p * (1 - p);
  EXPECT_NEAR(r.elementary_fidelity, 1.0, 1e-12);
  EXPECT_NEAR(r.fidelity_mean, 1 - q, 1e-9);
}
}  // namespace

namespace {
qw::LinkExperiment fiber_link(const std::string& extra) {
  return qw::parse_experiment("[experiment]\nkind = \"link\"\nepisodes = 3000\nseed = 5\n[link]\nsource = \"fiber\"\n"
                              "length_km = 50.0\nefficiency = 1.0\n" + extra,
                              "f.toml")
      .link;
}

TEST(LinkExperimentFiber, DensityAndBellDiagonalPathsShareDrawsAndAgreeForDephasing) {
  auto twirled = fiber_link("[memory]\nt2_s = 1e-3\n");
  auto exact = fiber_link("state = \"density\"\n[memory]\nt2_s = 1e-3\n");
  ASSERT_TRUE(exact.full_density);
  const auto a = qw::run_link_experiment(twirled), b = qw::run_link_experiment(exact);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.time_s, b.time_s);
  for (std::size_t i = 0; i < a.fidelity.size(); ++i) EXPECT_NEAR(a.fidelity[i], b.fidelity[i], 1e-12);
}

TEST(LinkExperimentFiber, DensityPathIsExactForAmplitudeDamping) {
  // Phi+ with both memories relaxing (T1 = T2 = 1 ms) for the herald wait t = L/c:
  // F = (1 + g^2 + (1 - g)^2)/4 + e^{-2t/T2}/2 with g = 1 - e^{-t/T1} (docs/physics.md).
  const auto r = qw::run_link_experiment(fiber_link("state = \"density\"\n[memory]\nt1_s = 1e-3\nt2_s = 1e-3\n"));
  const double t = 50e3 / (299792458.0 / 1.44), g = 1 - std::exp(-t / 1e-3);
  EXPECT_NEAR(r.fidelity_mean, (1 + g * g + (1 - g) * (1 - g)) / 4 + std::exp(-2 * t / 1e-3) / 2, 1e-12);
  // The twirled path misses the |11> -> |00> term: lower by g^2/4.
  const auto tw = qw::run_link_experiment(fiber_link("[memory]\nt1_s = 1e-3\nt2_s = 1e-3\n"));
  EXPECT_NEAR(r.fidelity_mean - tw.fidelity_mean, g * g / 4, 1e-12);
}

// The exact path purifies too (link_purify4_test.cc has the physics): a fibre link, one BBPSSW
// round on 4x4 pairs, delivers Werner pairs above the elementary fidelity.
TEST(LinkExperimentFiber, DensityStateRunsPurification) {
  const auto e = qw::parse_experiment("[experiment]\nkind = \"link\"\nepisodes = 300\nseed = 1\n[link]\n"
                                      "source = \"fiber\"\nlength_km = 10.0\nvisibility = 0.9\npurification = \"bbpssw\"\n"
                                      "purification_rounds = 1\nstate = \"density\"\n", "d.toml");
  ASSERT_TRUE(e.link.full_density);
  const auto r = qw::run_link_experiment(e.link);
  EXPECT_EQ(r.failed_episodes, 0u);
  EXPECT_GT(r.fidelity_mean, r.elementary_fidelity);
}
}  // namespace

// ---- Link sweeps ---------------------------------------------------------------------------------
namespace {
const char* kLinkSweep = R"([experiment]
kind = "link"
episodes = 400
seed = 3
[link]
source = "fiber"
length_km = 20.0
visibility = 0.9
segments = 2
attempt_time_s = 5e-6
[sweep]
"link.length_km" = [10.0, 40.0]
"memory.qubits_per_node" = [1, 2, 4]
)";

TEST(LinkSweep, PointsAreTheCartesianProductFirstKeySlowest) {
  const qw::Experiment e = qw::parse_experiment(kLinkSweep, "s.toml");
  ASSERT_EQ(e.link_points.size(), 6u);
  EXPECT_EQ(e.link_points[0].values, (std::vector<std::pair<std::string, std::string>>{
                                         {"link.length_km", "10"}, {"memory.qubits_per_node", "1"}}));
  EXPECT_DOUBLE_EQ(e.link_points[4].link.total_length_km, 40.0);
  EXPECT_EQ(e.link_points[4].link.memories, 2u);
  EXPECT_EQ(e.link_points[5].link.memories, 4u);
  EXPECT_EQ(e.link_points[5].link.segments, 2u);  // unswept keys as in the file
}

TEST(LinkSweep, BadValueIsReportedAtItsPlaceInTheSweep) {
  std::string text = kLinkSweep;
  text.replace(text.find("[1, 2, 4]"), 9, "[1, 0, 4]");
  try {
    qw::parse_experiment(text, "s.toml");
    FAIL() << "no error";
  } catch (const qw::InputError& err) {
    EXPECT_NE(std::string(err.what()).find("s.toml:13:32: memory.qubits_per_node = 0 must be in [1, 1024]"),
              std::string::npos)
        << err.what();
  }
}

// A point's seed depends only on the experiment seed and its own values: the 40 km point gives the
// same episodes in a sweep of two lengths and in a sweep of that length alone.
TEST(LinkSweep, APointDoesNotDependOnTheOtherPoints) {
  std::string one = kLinkSweep;
  one.replace(one.find("[10.0, 40.0]"), 12, "[40.0]");
  const qw::Experiment both = qw::parse_experiment(kLinkSweep, "s.toml");
  const qw::Experiment alone = qw::parse_experiment(one, "s.toml");
  qw::LinkSweepPoint a = both.link_points[3], b = alone.link_points[0];
  ASSERT_EQ(a.values, b.values);
  a.link.seed = qw::sweep_point_seed(a.link.seed, a.values);
  b.link.seed = qw::sweep_point_seed(b.link.seed, b.values);
  EXPECT_EQ(a.link.seed, b.link.seed);
  EXPECT_NE(a.link.seed, qw::sweep_point_seed(both.link_points[0].link.seed, both.link_points[0].values));
  const auto ra = qw::run_link_experiment(a.link), rb = qw::run_link_experiment(b.link);
  EXPECT_EQ(ra.time_s, rb.time_s);
  EXPECT_EQ(ra.fidelity, rb.fidelity);
}

TEST(LinkSweep, CommandWritesEveryPointWithItsSummary) {
  const auto dir = std::filesystem::temp_directory_path() / "qweave_link_sweep_test";
  std::filesystem::create_directories(dir);
  const auto toml = (dir / "s.toml").string(), out = (dir / "s.h5").string();
  std::ofstream(toml) << kLinkSweep;
  ASSERT_EQ(std::system((std::string(QWEAVE_BINARY) + " run " + toml + " -q -o " + out).c_str()), 0);
  const hid_t f = H5Fopen(out.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  auto attr = [&](const std::string& group, const char* name) {
    double v = std::nan("");
    const hid_t g = H5Gopen2(f, group.c_str(), H5P_DEFAULT);
    if (g < 0) return v;
    if (H5Aexists(g, name) > 0) {
      const hid_t a = H5Aopen(g, name, H5P_DEFAULT);
      H5Aread(a, H5T_NATIVE_DOUBLE, &v);
      H5Aclose(a);
    }
    H5Gclose(g);
    return v;
  };
  for (int i = 0; i < 6; ++i) {
    const std::string g = "/points/" + std::to_string(i);
    EXPECT_EQ(attr(g, "complete"), 1.0) << g;
    EXPECT_EQ(attr(g, "link.length_km"), i < 3 ? 10.0 : 40.0) << g;
    EXPECT_EQ(attr(g, "memory.qubits_per_node"), double(1 << (i % 3))) << g;
    EXPECT_GT(attr(g, "fidelity_mean"), 0.5) << g;
    EXPECT_NEAR(attr(g, "pairs_per_attempt"), 1 / attr(g, "attempts_mean"), 1e-12) << g;
  }
  // More memories, faster pairs; longer links, slower ones.
  EXPECT_GT(attr("/points/2", "rate_hz"), attr("/points/0", "rate_hz"));
  EXPECT_GT(attr("/points/0", "rate_hz"), attr("/points/3", "rate_hz"));
  EXPECT_EQ(attr("/", "complete"), 1.0);
  H5Fclose(f);
  // qweave info lists the points with their swept values and headline results.
  std::string info;
  ASSERT_EQ(qw::testing::run_command(std::string(QWEAVE_BINARY) + " info " + out, &info), 0) << info;
  EXPECT_NE(info.find("points: 6 (6 complete)"), std::string::npos) << info;
  EXPECT_NE(info.find("  5: link.length_km=40 memory.qubits_per_node=4 -> fidelity_mean="), std::string::npos) << info;
  std::filesystem::remove_all(dir);
}
}  // namespace
