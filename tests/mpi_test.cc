// qweave under mpirun: 1, 2 and 4 ranks split the shots and write one file with parallel HDF5;
// the samples must be identical (each shot keeps its RNG stream), the file complete, `ranks` set.
#include <gtest/gtest.h>

#include "tests/command.h"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "tests/tolerance.h"

namespace {
namespace fs = std::filesystem;

#if defined(QWEAVE_HAVE_MPI) && defined(QWEAVE_MPIEXEC)
int run(const std::string& args, std::string* out = nullptr) { return qw::testing::run_mpi(args, out); }

struct FileContents {
  std::vector<std::uint8_t> measurements;
  int ranks = 0;
  std::uint8_t complete = 0;
};

FileContents read(const std::string& path) {
  FileContents c;
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return c;
  const hid_t d = H5Dopen2(f, "/measurements", H5P_DEFAULT);
  const hid_t s = H5Dget_space(d);
  hsize_t dims[2] = {};
  H5Sget_simple_extent_dims(s, dims, nullptr);
  c.measurements.resize(dims[0] * dims[1]);
  if (!c.measurements.empty()) H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.measurements.data());
  const hid_t a = H5Aopen(f, "ranks", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT, &c.ranks);
  H5Aclose(a);
  const hid_t b = H5Aopen(f, "complete", H5P_DEFAULT);
  H5Aread(b, H5T_NATIVE_UINT8, &c.complete);
  H5Aclose(b);
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  return c;
}

class Mpi : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() / ("qweave_mpi_" + std::to_string(getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
};

TEST_F(Mpi, RanksSplitShotsAndGiveTheSameSamples) {
  const std::string noisy = std::string(QWEAVE_SOURCE_DIR) + "/examples/remote_cnot.stim";
  for (const std::string engine : {"sv", "dm"}) {
    std::vector<FileContents> files;
    for (int np : {1, 2, 4}) {
      const std::string out = (dir / (engine + std::to_string(np) + ".h5")).string();
      std::string text;
      const int st = run("-np " + std::to_string(np) + " " + QWEAVE_BINARY + " sim " + noisy +
                         " --engine " + engine + " --platform nv_centre --shots 2001 --seed 9 -q -o " + out, &text);
      ASSERT_EQ(st, 0) << text;
      files.push_back(read(out));
      EXPECT_EQ(files.back().ranks, np);
      EXPECT_EQ(files.back().complete, 1);
    }
    ASSERT_EQ(files[0].measurements.size(), 2001u);
    EXPECT_EQ(files[1].measurements, files[0].measurements) << engine << ": 2 ranks";
    EXPECT_EQ(files[2].measurements, files[0].measurements) << engine << ": 4 ranks";
  }
}

std::vector<double> read_amplitudes(const std::string& path) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  std::vector<double> v;
  if (f < 0) return v;
  const hid_t d = H5Dopen2(f, "/state/amplitudes", H5P_DEFAULT);
  const hid_t s = H5Dget_space(d);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(s, &n, nullptr);
  const hid_t t = H5Tcreate(H5T_COMPOUND, 16);
  H5Tinsert(t, "r", 0, H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "i", 8, H5T_NATIVE_DOUBLE);
  v.resize(2 * n);
  H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Tclose(t);
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}

TEST_F(Mpi, ShardedStateGivesTheSingleRankAmplitudesAndShots) {
  // A 12-qubit QFT: 2 and 4 ranks hold 1/2 and 1/4 of the state; gates on the top qubits exchange.
  // The sharded state applies the gates one by one, so the reference runs --no-fusion: the same
  // arithmetic, which keeps 1e-12 meaningful in a single-precision build too (fused and unfused
  // float runs differ by ~1e-8; fusion_test.cc compares those).
  const std::string qft = std::string(QWEAVE_SOURCE_DIR) + "/examples/qft.qasm";
  const std::string ref = (dir / "ref.h5").string();
  std::string text;
  ASSERT_EQ(run("-np 1 " + std::string(QWEAVE_BINARY) + " sim " + qft + " --no-fusion --save-state --shots 5000 --seed 4 -q -o " + ref, &text), 0) << text;
  const auto want = read_amplitudes(ref);
  const auto want_shots = read(ref).measurements;
  ASSERT_EQ(want.size(), 2u << 12);
  for (int np : {2, 4, 8}) {
    const std::string out = (dir / ("sharded" + std::to_string(np) + ".h5")).string();
    ASSERT_EQ(run("-np " + std::to_string(np) + " " + QWEAVE_BINARY + " sim " + qft +
                  " --shard --save-state --shots 5000 --seed 4 -q -o " + out, &text), 0) << text;
    const auto got = read_amplitudes(out);
    ASSERT_EQ(got.size(), want.size());
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
    EXPECT_LT(worst, 1e-12) << np << " ranks";
    const auto shots = read(out).measurements;
    ASSERT_EQ(shots.size(), want_shots.size());
    std::size_t same = 0;
    const std::size_t row = shots.size() / 5000;
    for (std::size_t s = 0; s < 5000; ++s) same += std::equal(shots.begin() + s * row, shots.begin() + (s + 1) * row, want_shots.begin() + s * row);
    EXPECT_GE(same, 4995u) << np << " ranks";  // >= 99.9%: only floating-point ties may differ
  }
}

TEST_F(Mpi, ModuleAwareLayoutKeepsTheAnswerAndReportsGlobalQubits) {
  const std::string qft = std::string(QWEAVE_SOURCE_DIR) + "/examples/qft.qasm";
  const std::string ref = (dir / "ref.h5").string(), out = (dir / "mod.h5").string();
  std::string text;
  // Unfused reference, as in ShardedStateGivesTheSingleRankAmplitudesAndShots.
  ASSERT_EQ(run("-np 1 " + std::string(QWEAVE_BINARY) + " sim " + qft + " --no-fusion --save-state --shots 500 --seed 2 -q -o " + ref, &text), 0) << text;
  ASSERT_EQ(run("-np 4 " + std::string(QWEAVE_BINARY) + " sim " + qft +
                " --shard --module 6-11 --module 0-5 --save-state --shots 500 --seed 2 -o " + out, &text), 0) << text;
  // Modules placed in the order given: 6-11 local, then 0-5, whose top two (4, 5) are global.
  EXPECT_NE(text.find("global qubits (start): 4,5"), std::string::npos) << text;
  EXPECT_NE(text.find("module 0 (6 qubits): local"), std::string::npos) << text;
  const auto a = read_amplitudes(ref), b = read_amplitudes(out);
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  EXPECT_LT(worst, 1e-12);
  EXPECT_EQ(read(out).measurements, read(ref).measurements);
}

TEST_F(Mpi, ShardedNoisyMidCircuitRunsDrawTheSameAsOneRank) {
  const fs::path c = dir / "noisy.stim";
  std::ofstream(c) << "H 0\nCX 0 1 1 2 2 3 3 4 4 5\nDEPOLARIZE1(0.05) 0 1 2 3 4 5\nDEPOLARIZE2(0.02) 0 5 2 3\n"
                      "M 0\nCX rec[-1] 5\nMR(0.01) 1 2\nE(0.1) X3 Z4\nELSE_CORRELATED_ERROR(0.2) Y5\n"
                      "HERALDED_ERASE(0.1) 3\nMX 3\nMY 4\nM 5\nBELL_PAIR(0.9) 6 7\nMPAD 1\nM 6 7\n";
  std::string text;
  const std::string ref = (dir / "ref.h5").string();
  ASSERT_EQ(run("-np 1 " + std::string(QWEAVE_BINARY) + " sim " + c.string() + " --shots 1500 --seed 11 -q -o " + ref, &text), 0) << text;
  for (int np : {2, 4}) {
    const std::string out = (dir / ("s" + std::to_string(np) + ".h5")).string();
    ASSERT_EQ(run("-np " + std::to_string(np) + " " + QWEAVE_BINARY + " sim " + c.string() +
                  " --shard --shots 1500 --seed 11 -q -o " + out, &text), 0) << text;
    EXPECT_EQ(read(out).measurements, read(ref).measurements) << np << " ranks";
  }
  // Kraus channels (a platform's T1/T2 idling) draw like one rank too.
  const std::string rc = std::string(QWEAVE_SOURCE_DIR) + "/examples/remote_cnot.stim";
  const std::string ref2 = (dir / "rc1.h5").string(), out2 = (dir / "rc4.h5").string();
  ASSERT_EQ(run("-np 1 " + std::string(QWEAVE_BINARY) + " sim " + rc + " --platform nv_centre --shots 800 --seed 5 -q -o " + ref2, &text), 0) << text;
  ASSERT_EQ(run("-np 4 " + std::string(QWEAVE_BINARY) + " sim " + rc + " --platform nv_centre --shard --shots 800 --seed 5 -q -o " + out2, &text), 0) << text;
  EXPECT_EQ(read(out2).measurements, read(ref2).measurements);
  // What a sharded state cannot run yet is refused with its location, on every rank.
  const fs::path mpp = dir / "mpp.stim";
  std::ofstream(mpp) << "H 0 1 2\nMPP X0*X1\nM 0 1 2\n";
  EXPECT_EQ(run("-np 2 " + std::string(QWEAVE_BINARY) + " sim " + mpp.string() + " --shard --no-output", &text), 2);
  EXPECT_NE(text.find("mpp.stim:2:1: MPP is not supported on a state sharded"), std::string::npos) << text;
}

// A float64 dataset or a float64 attribute of a group, whole ("" when missing).
std::vector<double> read_doubles(const std::string& path, const std::string& dataset) {
  std::vector<double> v;
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return v;
  const hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  if (d >= 0) {
    const hid_t sp = H5Dget_space(d);
    v.resize(static_cast<std::size_t>(H5Sget_simple_extent_npoints(sp)));
    if (!v.empty()) H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Sclose(sp);
    H5Dclose(d);
  }
  H5Fclose(f);
  return v;
}

double read_group_attribute(const std::string& path, const std::string& group, const char* name) {
  double v = std::nan("");
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return v;
  const hid_t g = H5Gopen2(f, group.c_str(), H5P_DEFAULT);
  if (g >= 0 && H5Aexists(g, name) > 0) {
    const hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a);
  }
  if (g >= 0) H5Gclose(g);
  H5Fclose(f);
  return v;
}

// Link experiments: the ranks split the episodes and gather them; every per-episode array and every
// summary equals one rank's, for a chain with purification and for a sweep.
TEST_F(Mpi, LinkExperimentEpisodesSplitOverRanksGiveTheSingleRankResult) {
  const std::string chain = std::string(QWEAVE_SOURCE_DIR) + "/examples/link_fiber_chain.toml";
  const std::string sweep = std::string(QWEAVE_SOURCE_DIR) + "/examples/link_sweep.toml";
  const std::string ref = (dir / "chain1.h5").string(), sref = (dir / "sweep1.h5").string();
  std::string text;
  ASSERT_EQ(run("-np 1 " + std::string(QWEAVE_BINARY) + " run " + chain + " --set experiment.episodes=3001 -q -o " + ref,
                &text), 0) << text;
  ASSERT_EQ(run("-np 1 " + std::string(QWEAVE_BINARY) + " run " + sweep + " --set experiment.episodes=501 -q -o " + sref,
                &text), 0) << text;
  const std::vector<std::string> arrays = {"/links/a_b/time_s", "/links/a_b/fidelity", "/links/a_b/bell_diagonal",
                                           "/summary/fidelity_mean", "/summary/rate_hz", "/summary/attempts_mean"};
  for (int np : {2, 3, 4}) {
    const std::string out = (dir / ("chain" + std::to_string(np) + ".h5")).string();
    ASSERT_EQ(run("-np " + std::to_string(np) + " " + QWEAVE_BINARY + " run " + chain +
                  " --set experiment.episodes=3001 -q -o " + out, &text), 0) << text;
    for (const std::string& a : arrays) {
      const auto want = read_doubles(ref, a);
      ASSERT_FALSE(want.empty()) << a;
      EXPECT_EQ(read_doubles(out, a), want) << a << ", " << np << " ranks";
    }
    EXPECT_EQ(read_group_attribute(out, "/", "ranks"), np);
    const std::string sout = (dir / ("sweep" + std::to_string(np) + ".h5")).string();
    ASSERT_EQ(run("-np " + std::to_string(np) + " " + QWEAVE_BINARY + " run " + sweep +
                  " --set experiment.episodes=501 -q -o " + sout, &text), 0) << text;
    for (int i = 0; i < 12; ++i) {
      const std::string g = "/points/" + std::to_string(i);
      for (const char* name : {"fidelity_mean", "rate_hz", "complete"}) {
        EXPECT_EQ(read_group_attribute(sout, g, name), read_group_attribute(sref, g, name)) << g << " " << name;
      }
    }
  }
}

// LINK(name) on a sharded state: the delivered pair and the waiting qubits' twirled decay draw as
// the single-rank trajectories do, so the records are equal shot for shot.
TEST_F(Mpi, ShardedLinkCircuitsDrawTheSameAsOneRank) {
  const fs::path c = dir / "link.stim";
  std::ofstream(c) << "H 0 5\nLINK(ab) 1 2\nCX 0 1\nM 1\nCX rec[-1] 2\nCX 2 3\nMX 2\nCZ rec[-1] 0\n"
                      "LINK(ab) 1 4\nCX 5 4\nM 4\nCX rec[-1] 1\nMX 0 3 1 5\n";
  const std::string link = " --link ab=" + std::string(QWEAVE_SOURCE_DIR) + "/examples/links/nv_pompili2021.toml";
  std::string text;
  const std::string ref = (dir / "link1.h5").string();
  ASSERT_EQ(run("-np 1 " + std::string(QWEAVE_BINARY) + " sim " + c.string() + link +
                " --t1 3600 --t2 0.05 --shots 1000 --seed 3 -q -o " + ref, &text), 0) << text;
  const auto want = read(ref).measurements;
  ASSERT_FALSE(want.empty());
  for (int np : {2, 4}) {
    const std::string out = (dir / ("link" + std::to_string(np) + ".h5")).string();
    ASSERT_EQ(run("-np " + std::to_string(np) + " " + QWEAVE_BINARY + " sim " + c.string() + link +
                  " --t1 3600 --t2 0.05 --shard --shots 1000 --seed 3 -q -o " + out, &text), 0) << text;
    EXPECT_EQ(read(out).measurements, want) << np << " ranks";
  }
}

// /state/density (rows x cols of complex128) as re, im pairs in row-major order.
std::vector<double> read_density(const std::string& path) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  std::vector<double> v;
  if (f < 0) return v;
  const hid_t d = H5Dopen2(f, "/state/density", H5P_DEFAULT);
  if (d < 0) {
    H5Fclose(f);
    return v;
  }
  const hid_t s = H5Dget_space(d);
  hsize_t dims[2] = {};
  H5Sget_simple_extent_dims(s, dims, nullptr);
  const hid_t t = H5Tcreate(H5T_COMPOUND, 16);
  H5Tinsert(t, "r", 0, H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "i", 8, H5T_NATIVE_DOUBLE);
  v.resize(2 * dims[0] * dims[1]);
  H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Tclose(t);
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}

// The density matrix sharded over ranks (its bra bits global) against the single-rank dm engine:
// the same /state/density to `tolerance` and the same /measurements, shot for shot. The single-rank
// run takes --no-fusion, the sharded path's one-by-one arithmetic, so that 1e-12 holds in a
// single-precision build too where the two run the same kernels.
void expect_sharded_density_matches(const std::string& circuit, const fs::path& dir, const std::string& extra,
                                    std::uint64_t shots, double tolerance = 1e-12) {
  std::string text;
  const std::string ref = (dir / "ref.h5").string();
  const std::string common = " sim " + circuit + " --engine dm --save-state --shots " + std::to_string(shots) +
                             " --seed 5 -q " + extra + " -o ";
  ASSERT_EQ(run("-np 1 " + std::string(QWEAVE_BINARY) + common + ref + " --no-fusion", &text), 0) << text;
  const auto want = read_density(ref);
  const auto want_shots = read(ref).measurements;
  ASSERT_FALSE(want.empty());
  for (int np : {2, 4}) {
    const std::string out = (dir / ("dm" + std::to_string(np) + ".h5")).string();
    ASSERT_EQ(run("-np " + std::to_string(np) + " " + QWEAVE_BINARY + common + out + " --shard", &text), 0) << text;
    const auto got = read_density(out);
    ASSERT_EQ(got.size(), want.size()) << np << " ranks";
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
    EXPECT_LT(worst, tolerance) << np << " ranks";
    // Normalised after every measurement (each branch rescaled by its own mass).
    const std::size_t dim = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(got.size() / 2))));
    double tr = 0;
    for (std::size_t i = 0; i < dim; ++i) tr += got[2 * (i * dim + i)];
    EXPECT_NEAR(tr, 1.0, qw::testing::tol(1e-12)) << np << " ranks";
    EXPECT_EQ(read(out).measurements, want_shots) << np << " ranks";
  }
}

TEST_F(Mpi, ShardedDensityMatrixWithFeedbackMatchesOneRank) {
  // Feedback: the saved density is shot 0's (docs/hdf5.md). No mid-circuit MY here yet: the
  // single-rank batched dm engine's batch::trace_pauli has the sign of Y wrong (it weights
  // rho[c ^ x][c] by (-1)^|c & z| instead of (-1)^|(c ^ x) & z|), so its per-shot MY draws differ. Gates on every qubit, the top ones
  // (bra bits 10, 11 of the 12-bit vector are the global ones) included.
  const fs::path c = dir / "dm.stim";
  std::ofstream(c) << "H 0 5 4\nCX 0 1 1 2 2 3 3 4 4 5\nT 5\nS_DAG 4\nSQRT_Y 3\nRX(0.3) 5\nCZ 5 4\n"
                      "DEPOLARIZE1(0.05) 0 1 2 3 4 5\nDEPOLARIZE2(0.02) 0 5 2 3 4 5\n"
                      "AMPLITUDE_DAMP(0.1) 5 2\nPHASE_DAMP(0.05) 4\nM 0\nCX rec[-1] 5\nY_ERROR(0.1) 5\n"
                      "MR(0.01) 1 4\nH 4\nCY rec[-2] 3\nMX 3\nS 5\nMX 5\nRZ(0.4) 4\nM 2\n";
  // With feedback the single-rank engine runs the batched per-shot kernels (measurements as Pauli
  // expectations), not the sharded path's projections: float runs differ by rounding (~5e-7 here).
  expect_sharded_density_matches(c.string(), dir, "", 300, qw::testing::tol(1e-12));
}

TEST_F(Mpi, ShardedDensityMatrixAveragedAndTerminalMatchOneRank) {
  // No feedback: the saved density is the exact average over outcomes.
  const fs::path c = dir / "avg.stim";
  std::ofstream(c) << "H 0 5\nCX 0 1 5 4\nDEPOLARIZE2(0.03) 4 5\nAMPLITUDE_DAMP(0.2) 5\nMR 5\nM 0\n"
                      "RX 4\nCX 4 3\nMX 1\nKRAUS1(0.8,0,0,0,0,0,1,0,0,0,0,0,0.6,0,0,0) 2\nM 4 3 2\n";
  expect_sharded_density_matches(c.string(), dir, "", 200);
  // Terminal measurements only: one run, every shot sampled from the final diagonal.
  const fs::path t = dir / "term.stim";
  std::ofstream(t) << "H 0 5\nCX 0 1 5 4 1 2\nS 2\nDEPOLARIZE1(0.1) 0 5\nPHASE_DAMP(0.2) 4\n"
                      "AMPLITUDE_DAMP(0.3) 1\nM 0 1 2\nMX 3\nMY 4\nM 5\n";
  expect_sharded_density_matches(t.string(), dir, "", 3000);
  // LINK: the pair with the shots' mean weights, as the single-rank density matrix (which applies
  // the Pauli channel directly, not as a superoperator: float runs differ by rounding, ~1.5e-8).
  const fs::path l = dir / "link_dm.stim";
  std::ofstream(l) << "H 0 5\nLINK(ab) 1 2\nCX 0 1 2 3\nM 1\nCX rec[-1] 5\nLINK(ab) 3 4\nMX 2\nM 4\n";
  expect_sharded_density_matches(l.string(), dir,
                                 "--link ab=" + std::string(QWEAVE_SOURCE_DIR) + "/examples/links/nv_pompili2021.toml",
                                 300, qw::testing::tol(1e-12));  // the mean-weight channel: a superoperator here
  // What the sharded density matrix cannot run yet is refused with its location.
  const fs::path h = dir / "her.stim";
  std::ofstream(h) << "H 0 1 2\nHERALDED_ERASE(0.1) 2\nM 0 1 2\n";
  std::string text;
  EXPECT_EQ(run("-np 2 " + std::string(QWEAVE_BINARY) + " sim " + h.string() + " --engine dm --shard --no-output", &text), 2);
  EXPECT_NE(text.find("her.stim:2:1: HERALDED_ERASE is not supported on a density matrix sharded"),
            std::string::npos) << text;
}

std::vector<std::uint8_t> read_bits(const std::string& path, const char* name) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  std::vector<std::uint8_t> v;
  if (f < 0) return v;
  const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  const hid_t s = H5Dget_space(d);
  hsize_t dims[2] = {};
  H5Sget_simple_extent_dims(s, dims, nullptr);
  v.resize(dims[0] * dims[1]);
  if (!v.empty()) H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}

TEST_F(Mpi, FrameEngineGivesTheSameDetectionEventsForAnyRankCount) {
  const std::string rep = std::string(QWEAVE_SOURCE_DIR) + "/examples/repetition_code.stim";
  std::vector<std::vector<std::uint8_t>> det, obs;
  for (int np : {1, 2, 3}) {
    const std::string out = (dir / ("f" + std::to_string(np) + ".h5")).string();
    std::string text;
    ASSERT_EQ(run("-np " + std::to_string(np) + " " + QWEAVE_BINARY + " sim " + rep +
                  " --engine frame --shots 5001 --seed 3 -q -o " + out, &text), 0) << text;
    det.push_back(read_bits(out, "/detectors"));
    obs.push_back(read_bits(out, "/observables"));
  }
  ASSERT_FALSE(det[0].empty());
  EXPECT_EQ(det[1], det[0]);
  EXPECT_EQ(det[2], det[0]);
  EXPECT_EQ(obs[1], obs[0]);
  EXPECT_EQ(obs[2], obs[0]);
}

TEST_F(Mpi, AFailingRankEndsTheJobWithItsStatus) {
  const fs::path bad = dir / "bad.stim";
  std::ofstream(bad) << "H 0\nCX 0 1 2\n";
  std::string text;
  const int st = run("-np 2 " + std::string(QWEAVE_BINARY) + " sim " + bad.string() + " --no-output", &text);
  EXPECT_EQ(st, 2) << text;
  EXPECT_NE(text.find("bad.stim:2:8"), std::string::npos) << text;
}
#else
TEST(Mpi, Skipped) { GTEST_SKIP() << "built without MPI (QWEAVE_MPI=OFF) or no mpiexec found"; }
#endif

}  // namespace
