// Memory experiments (host/memory_experiment.h): parsing and sweeps, Wilson intervals, per-round
// rates, runs and their result files, resuming, the threshold estimator on synthetic data.
#include <gtest/gtest.h>

#include <hdf5.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "host/errors.h"
#include "host/experiment.h"
#include "host/memory_experiment.h"

namespace {
using namespace qw;

const char* kMemory = R"([experiment]
kind = "memory"
shots = 4000
seed = 5
[code]
type = "surface"
distance = 3
basis = "Z"
[noise]
p = 0.002
[decoder]
kind = "union_find"
)";

std::string error_of(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    parse_experiment(text, "m.toml", sets);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

std::string temp_path(const char* name) { return (std::filesystem::temp_directory_path() / name).string(); }

TEST(MemoryExperiment, ParsesTheFileWithDefaults) {
  const Experiment ex = parse_experiment(kMemory, "m.toml");
  EXPECT_EQ(ex.kind, "memory");
  EXPECT_EQ(ex.memory.shots, 4000u);
  EXPECT_EQ(ex.memory.spec.distance, 3u);
  EXPECT_EQ(ex.memory.spec.rounds, 3u);  // default: the distance
  EXPECT_EQ(ex.memory.spec.basis, 'Z');
  EXPECT_EQ(ex.memory.spec.modules, 1u);
  EXPECT_EQ(ex.memory.decoder, "union_find");
  EXPECT_TRUE(ex.points.empty());
  const Experiment five = parse_experiment(kMemory, "m.toml", {"code.distance=5", "code.rounds=2"});
  EXPECT_EQ(five.memory.spec.distance, 5u);
  EXPECT_EQ(five.memory.spec.rounds, 2u);
}

TEST(MemoryExperiment, BadInputNamesTheKey) {
  const std::string text = kMemory;
  EXPECT_EQ(error_of(text + "[modules]\npartition = \"ring\"\n"),
            "m.toml:14:13: modules.partition = \"ring\": use \"split\" or \"distributed\"");
  EXPECT_NE(error_of(text, {"noise.p=1.5"}).find("noise.p = 1.5 must be in [0, 1]"), std::string::npos);
  EXPECT_NE(error_of(text, {"decoder.kind=\"bp\""}).find("use \"mwpm\" or \"union_find\""), std::string::npos);
  EXPECT_NE(error_of(text + "[sweep]\n\"noise.q\" = [1]\n").find("m.toml:14:1"), std::string::npos);
  EXPECT_NE(error_of(text + "[sweep]\n\"noise.q\" = [1]\n").find("'noise.q' is not a key"), std::string::npos);
  // A bad swept value is reported where it stands.
  EXPECT_EQ(error_of(text + "[sweep]\n\"noise.p\" = [0.001, 2.5]\n"), "m.toml:14:21: noise.p = 2.5 must be in [0, 1]");
  EXPECT_NE(error_of(text + "[sweep]\n\"noise.p\" = 0.1\n").find("must be a non-empty array"), std::string::npos);
}

TEST(MemoryExperiment, SweepIsTheCartesianProductFirstKeySlowest) {
  const Experiment ex = parse_experiment(std::string(kMemory) + "[sweep]\n\"code.distance\" = [3, 5]\nnoise.p = [0.001, 0.002, 0.003]\n",
                                         "m.toml");
  ASSERT_EQ(ex.points.size(), 6u);
  EXPECT_EQ(ex.points[0].values[0].first, "code.distance");
  EXPECT_EQ(ex.points[0].values[1].first, "noise.p");
  EXPECT_EQ(ex.points[4].values[0].second, "5");
  EXPECT_EQ(ex.points[4].values[1].second, "0.002");
  EXPECT_EQ(ex.points[4].memory.spec.distance, 5u);
  EXPECT_EQ(ex.points[4].memory.spec.rounds, 5u);
  EXPECT_DOUBLE_EQ(ex.points[4].memory.spec.p, 0.002);
  EXPECT_EQ(ex.points[4].memory.shots, 4000u);
}

TEST(MemoryExperiment, WilsonIntervalAndPerRoundRate) {
  // Wilson (1927) at z = 1.96: 0 of 10 -> [0, 0.2775]; 5 of 10 -> [0.2366, 0.7634]; 1 of 100 ->
  // [0.00177, 0.0545] (the textbook values).
  auto [l0, h0] = wilson_interval(0, 10);
  EXPECT_NEAR(l0, 0, 1e-12);
  EXPECT_NEAR(h0, 0.2775, 5e-5);
  auto [l5, h5] = wilson_interval(5, 10);
  EXPECT_NEAR(l5, 0.2366, 5e-5);
  EXPECT_NEAR(h5, 0.7634, 5e-5);
  auto [l1, h1] = wilson_interval(1, 100);
  EXPECT_NEAR(l1, 0.00177, 5e-5);
  EXPECT_NEAR(h1, 0.0545, 5e-5);
  for (double r : {1e-4, 0.01, 0.2}) {
    for (unsigned rounds : {1u, 3u, 11u}) {
      const double per_shot = (1 - std::pow(1 - 2 * r, rounds)) / 2;
      EXPECT_NEAR(per_round_rate(per_shot, rounds), r, 1e-12 * (1 + r));
    }
  }
}

TEST(MemoryExperiment, RunCountsAgreeAcrossThreadCounts) {
  MemoryExperiment e = parse_experiment(kMemory, "m.toml").memory;
  e.threads = 1;
  const auto one = run_memory_point(e);
  e.threads = 2;
  const auto two = run_memory_point(e);
  EXPECT_EQ(one.logical_errors, two.logical_errors);
  EXPECT_DOUBLE_EQ(one.detection_fraction, two.detection_fraction);
  EXPECT_EQ(one.shots, 4000u);
  EXPECT_EQ(one.num_detectors, 24u);  // d = 3, 3 rounds: 4 + 8 + 8 + 4
  EXPECT_GT(one.detection_fraction, 0);
  EXPECT_DOUBLE_EQ(one.logical_error_rate, one.logical_errors / 4000.0);
  EXPECT_LE(one.logical_error_rate_low, one.logical_error_rate);
  EXPECT_GE(one.logical_error_rate_high, one.logical_error_rate);
  EXPECT_GT(one.decode_time_per_shot_s, 0);
}

TEST(MemoryExperiment, SweepFileHasOneGroupPerPointAndResumes) {
  const std::string path = temp_path("qweave_memory_sweep_test.h5");
  std::filesystem::remove(path);
  const std::string base = std::string(kMemory) + "[sweep]\n\"noise.p\" = [0.002]\n";
  const Experiment a = parse_experiment(base, "m.toml");
  MemoryRunOptions o;
  o.output = path;
  o.quiet = true;
  const auto ra = run_memory_experiment(a.memory, a.points, o);
  ASSERT_EQ(ra.points.size(), 1u);
  EXPECT_FALSE(ra.reused[0]);
  // The sweep grows by one value: the first point is kept (same counts), the second one runs.
  const Experiment b = parse_experiment(std::string(kMemory) + "[sweep]\n\"noise.p\" = [0.002, 0.004]\n", "m.toml");
  const auto rb = run_memory_experiment(b.memory, b.points, o);
  ASSERT_EQ(rb.points.size(), 2u);
  EXPECT_TRUE(rb.reused[0]);
  EXPECT_FALSE(rb.reused[1]);
  EXPECT_EQ(rb.points[0].logical_errors, ra.points[0].logical_errors);
  EXPECT_DOUBLE_EQ(rb.points[0].decode_time_per_shot_s, ra.points[0].decode_time_per_shot_s);
  // A changed setting (shots) is a different point: nothing is kept.
  const auto rc = run_memory_experiment(b.memory, parse_experiment(std::string(kMemory) + "[sweep]\n\"noise.p\" = [0.002, 0.004]\n",
                                                                   "m.toml", {"experiment.shots=2048"}).points, o);
  EXPECT_FALSE(rc.reused[0]);
  EXPECT_FALSE(rc.reused[1]);

  // A point without complete = 1 (a run killed while writing it) is run again; the other is kept.
  {
    const hid_t rw = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(rw, 0);
    ASSERT_GE(H5Adelete_by_name(rw, "/points/1", "complete", H5P_DEFAULT), 0);
    H5Fclose(rw);
    const auto again = parse_experiment(std::string(kMemory) + "[sweep]\n\"noise.p\" = [0.002, 0.004]\n", "m.toml",
                                        {"experiment.shots=2048"});
    const auto rd = run_memory_experiment(again.memory, again.points, o);
    EXPECT_TRUE(rd.reused[0]);
    EXPECT_FALSE(rd.reused[1]);
    EXPECT_EQ(rd.points[1].logical_errors, rc.points[1].logical_errors);  // the same seed: the same counts
  }
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  for (const char* g : {"/points/0", "/points/1"}) {
    const hid_t grp = H5Gopen2(f, g, H5P_DEFAULT);
    ASSERT_GE(grp, 0) << g;
    for (const char* attr : {"noise.p", "settings", "logical_error_rate", "logical_error_rate_low", "logical_error_rate_high",
                             "logical_error_rate_per_round", "detection_fraction", "decode_time_per_shot_s", "complete"}) {
      EXPECT_GT(H5Aexists(grp, attr), 0) << g << " " << attr;
    }
    H5Gclose(grp);
  }
  H5Fclose(f);
  std::filesystem::remove(path);
}

TEST(MemoryExperiment, SingleRunWritesTheSummary) {
  const std::string path = temp_path("qweave_memory_single_test.h5");
  const Experiment ex = parse_experiment(kMemory, "m.toml");
  MemoryRunOptions o;
  o.output = path;
  o.quiet = true;
  run_memory_experiment(ex.memory, ex.points, o);
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  for (const char* name : {"/summary/logical_error_rate", "/summary/logical_error_rate_per_round",
                           "/summary/logical_error_rate_low", "/summary/logical_error_rate_high",
                           "/summary/detection_fraction", "/summary/decode_time_per_shot_s"}) {
    const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    EXPECT_GE(d, 0) << name;
    if (d >= 0) H5Dclose(d);
  }
  H5Fclose(f);
  std::filesystem::remove(path);
}

TEST(MemoryExperiment, ThresholdEstimatorRecoversASyntheticCrossing) {
  // Synthetic per-round rates r(d, x) = 0.1 (x / 0.008)^((d + 1) / 2), one round, drawn binomially:
  // the estimate must lie within its own 95% bootstrap interval of 0.008, and that interval be
  // narrow.
  std::mt19937_64 rng(3);
  std::vector<ThresholdPoint> pts;
  const std::uint64_t shots = 200000;
  for (unsigned d : {3u, 5u, 7u}) {
    for (double x : {0.005, 0.006, 0.007, 0.009, 0.011}) {
      const double r = 0.1 * std::pow(x / 0.008, (d + 1) / 2.0);
      std::binomial_distribution<std::uint64_t> draw(shots, r);
      pts.push_back({d, 1, x, shots, draw(rng)});
    }
  }
  const ThresholdEstimate t = estimate_threshold(pts);
  ASSERT_TRUE(t.found) << t.why_not;
  EXPECT_EQ(t.crossings.size(), 2u);
  EXPECT_LE(t.low, 0.008);
  EXPECT_GE(t.high, 0.008);
  EXPECT_LT(t.high - t.low, 0.001);
  EXPECT_GT(t.standard_error, 0);
  // One distance only: no threshold.
  std::vector<ThresholdPoint> one(pts.begin(), pts.begin() + 5);
  EXPECT_FALSE(estimate_threshold(one).found);
}

}  // namespace

namespace {
TEST(MemoryExperiment, SplitNvExampleIsWorseThanOneModule) {
  // examples/memory_split.toml: d = 3 split over two NV modules 10 km apart (Bell pairs of
  // fidelity ~0.8 from the link engine, seconds of waiting per round) against the same code in one
  // NV module. 2000 shots each: the rates (~0.3 and ~0.07) differ by far more than 5 sigma.
  const std::string path = std::string(QWEAVE_SOURCE_DIR) + "/examples/memory_split.toml";
  const auto split = qw::read_experiment_file(path, {"experiment.shots=2000"});
  const auto mono = qw::read_experiment_file(path, {"experiment.shots=2000", "modules.count=1", "modules.link=\"\""});
  const auto a = qw::run_memory_point(split.memory), b = qw::run_memory_point(mono.memory);
  EXPECT_GT(a.logical_errors, 0u);
  EXPECT_LT(a.logical_error_rate, 0.5 + 5 * std::sqrt(0.25 / 2000));
  const double sigma = std::sqrt(a.logical_error_rate * (1 - a.logical_error_rate) / 2000 +
                                 b.logical_error_rate * (1 - b.logical_error_rate) / 2000);
  EXPECT_GT(a.logical_error_rate - b.logical_error_rate, 5 * sigma);
}
}  // namespace

namespace {
#if defined(QWEAVE_HAVE_MPI) && defined(QWEAVE_MPIEXEC)
// qweave run under mpiexec: ranks split the 64-shot words, so a memory sweep gives the same counts
// in every point at 1, 2 and 4 ranks.
TEST(MemoryExperimentMpi, SweepCountsDoNotDependOnRanks) {
  const std::string dir = (std::filesystem::temp_directory_path() / "qweave_memory_mpi").string();
  std::filesystem::create_directories(dir);
  const std::string toml = dir + "/sweep.toml";
  std::ofstream(toml) << kMemory << "[sweep]\n\"code.distance\" = [3, 5]\n\"noise.p\" = [0.004]\n";
  std::vector<std::vector<std::uint64_t>> counts;
  for (int ranks : {1, 2, 4}) {
    const std::string out = dir + "/r" + std::to_string(ranks) + ".h5";
    std::filesystem::remove(out);
    const std::string cmd = std::string(QWEAVE_MPIEXEC) + (geteuid() == 0 ? " --allow-run-as-root" : "") +
                            " --oversubscribe -np " + std::to_string(ranks) + " " + QWEAVE_BINARY + " run " + toml +
                            " -q -o " + out + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::array<char, 4096> buf;
    std::string text;
    while (std::size_t k = fread(buf.data(), 1, buf.size(), p)) text.append(buf.data(), k);
    const int st = pclose(p);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << text;
    const hid_t f = H5Fopen(out.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    std::vector<std::uint64_t> c;
    for (const char* g : {"/points/0", "/points/1"}) {
      const hid_t grp = H5Gopen2(f, g, H5P_DEFAULT);
      ASSERT_GE(grp, 0) << g;
      std::uint64_t v = 0;
      const hid_t a = H5Aopen(grp, "logical_errors", H5P_DEFAULT);
      H5Aread(a, H5T_NATIVE_UINT64, &v);
      H5Aclose(a);
      H5Gclose(grp);
      c.push_back(v);
    }
    H5Fclose(f);
    counts.push_back(c);
  }
  EXPECT_GT(counts[0][0], 0u);
  EXPECT_EQ(counts[0], counts[1]);
  EXPECT_EQ(counts[0], counts[2]);
  std::filesystem::remove_all(dir);
}
#endif
}  // namespace
