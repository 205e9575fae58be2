// The qweave command end to end: exit statuses, messages, result files, reproducibility.
#include <gtest/gtest.h>

#include <hdf5.h>

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
using qw::testing::tol;

struct CmdResult {
  int status;
  std::string out;  // stdout and stderr together
};

CmdResult run(const std::string& args) {
  const std::string cmd = std::string(QWEAVE_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  CmdResult r{-1, {}};
  if (!p) return r;
  std::array<char, 4096> buf;
  while (std::size_t k = fread(buf.data(), 1, buf.size(), p)) r.out.append(buf.data(), k);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class Cli : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("qweave_cli_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir / name;
    std::ofstream(p) << text;
    return p.string();
  }
};

std::vector<std::uint8_t> read_measurements(const std::string& file, hsize_t dims[2]) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0) << file;
  const hid_t d = H5Dopen2(f, "/measurements", H5P_DEFAULT);
  const hid_t s = H5Dget_space(d);
  H5Sget_simple_extent_dims(s, dims, nullptr);
  std::vector<std::uint8_t> v(dims[0] * dims[1]);
  if (!v.empty()) H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  std::uint8_t complete = 0;
  const hid_t a = H5Aopen(f, "complete", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_UINT8, &complete);
  EXPECT_EQ(complete, 1);
  H5Aclose(a);
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}

TEST_F(Cli, RemoteCnotExampleRunsAndItsDataQubitsAgree) {
  const std::string out = (dir / "rc.h5").string();
  const CmdResult r = run(std::string("sim ") + QWEAVE_SOURCE_DIR + "/examples/remote_cnot.stim --shots 2000 --seed 4 -o " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("4 qubits, 4 measurement bits per shot, 2000 shots"), std::string::npos) << r.out;
  hsize_t dims[2];
  const auto m = read_measurements(out, dims);
  ASSERT_EQ(dims[0], 2000u);
  ASSERT_EQ(dims[1], 1u);
  std::size_t ones = 0;
  for (std::uint8_t row : m) {
    ASSERT_EQ((row >> 2) & 1, (row >> 3) & 1);  // records 2 and 3: the two data qubits
    ones += (row >> 2) & 1;
  }
  EXPECT_NEAR(static_cast<double>(ones), 1000.0, 5 * std::sqrt(500.0));
  const CmdResult info = run("info " + out);
  EXPECT_EQ(info.status, 0);
  EXPECT_NE(info.out.find("qweave/1"), std::string::npos) << info.out;
}

TEST_F(Cli, SameSeedSameFileContentsForAnyThreadCount) {
  const std::string c = write("bell.stim", "H 0\nCX 0 1\nM 0\nH 0\nM 0 1\n");
  const std::string a = (dir / "a.h5").string(), b = (dir / "b.h5").string();
  ASSERT_EQ(run("sim " + c + " --shots 500 --seed 12 --threads 1 -q -o " + a).status, 0);
  ASSERT_EQ(run("sim " + c + " --shots 500 --seed 12 --threads 2 -q -o " + b).status, 0);
  hsize_t da[2], db[2];
  EXPECT_EQ(read_measurements(a, da), read_measurements(b, db));
}

TEST_F(Cli, BadCircuitExitsTwoWithLocationAndWritesNothing) {
  const std::string c = write("bad.stim", "H 0\nCX 0 1 2\n");
  const std::string out = (dir / "bad.h5").string();
  const CmdResult r = run("sim " + c + " -o " + out);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("bad.stim:2:"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
  const std::string q = write("bad.qasm", "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\nh q[5];\n");
  const CmdResult rq = run("sim " + q + " -o " + out);
  EXPECT_EQ(rq.status, 2);
  EXPECT_NE(rq.out.find("bad.qasm:4:"), std::string::npos) << rq.out;
}

TEST_F(Cli, MissingFilesTooLargeStatesAndBadOptionsExitTwo) {
  CmdResult r = run("sim " + (dir / "nothere.stim").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("cannot open"), std::string::npos) << r.out;
  const std::string big = write("big.stim", "H 45\n");
  r = run("sim " + big + " --no-output");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("46-qubit state needs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("available"), std::string::npos) << r.out;
  r = run("sim " + big + " --shots -1");
  EXPECT_EQ(r.status, 2);
  r = run("sim " + big + " --engine nope");
  EXPECT_EQ(r.status, 2);
  const std::string noext = write("circuit.txt", "H 0\n");
  r = run("sim " + noext);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--format"), std::string::npos) << r.out;
  r = run("info " + noext);
  EXPECT_EQ(r.status, 2);
}

// Reads a compound {r, i} dataset as (re, im) pairs; returns its dims.
std::vector<double> read_complex(const std::string& file, const char* name, std::vector<hsize_t>& dims) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  const hid_t s = H5Dget_space(d);
  dims.assign(static_cast<std::size_t>(H5Sget_simple_extent_ndims(s)), 0);
  H5Sget_simple_extent_dims(s, dims.data(), nullptr);
  hsize_t total = 1;
  for (hsize_t x : dims) total *= x;
  const hid_t t = H5Tcreate(H5T_COMPOUND, 16);
  H5Tinsert(t, "r", 0, H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "i", 8, H5T_NATIVE_DOUBLE);
  std::vector<double> v(2 * total);
  H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Tclose(t);
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}

double read_summary(const std::string& file, const std::string& name) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, ("/summary/" + name).c_str(), H5P_DEFAULT);
  double v = NAN;
  if (d >= 0) {
    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
    H5Dclose(d);
  }
  H5Fclose(f);
  return v;
}

TEST_F(Cli, DensityEngineWritesTheDensityMatrixAndReports) {
  // A Bell pair with amplitude damping on qubit 1: rho row-major with row = ket.
  const std::string c = write("bell.stim", "H 0\nCX 0 1\nAMPLITUDE_DAMP(0.36) 1\n");
  const std::string out = (dir / "dm.h5").string();
  const CmdResult r = run("sim " + c + " --engine dm --shots 0 --save-state --report entropy:0 "
                          "--report 'negativity:0|1' -o " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  std::vector<hsize_t> dims;
  const auto rho = read_complex(out, "/state/density", dims);
  ASSERT_EQ(dims, (std::vector<hsize_t>{4, 4}));
  auto at = [&](int row, int col) { return rho[2 * (row * 4 + col)]; };
  // |00> + sqrt(1-g)|11> branch and g|10>: rho[00][00] = 1/2, rho[11][11] = (1-g)/2,
  // rho[01][01] = g/2 (qubit 0 = 1, qubit 1 decayed), rho[00][11] = sqrt(1-g)/2.
  EXPECT_NEAR(at(0, 0), 0.5, tol(1e-12));
  EXPECT_NEAR(at(3, 3), 0.32, tol(1e-12));
  EXPECT_NEAR(at(1, 1), 0.18, tol(1e-12));
  EXPECT_NEAR(at(0, 3), 0.4, tol(1e-12));
  EXPECT_NEAR(at(3, 0), 0.4, tol(1e-12));
  EXPECT_NEAR(read_summary(out, "entropy_0"), 1.0, tol(1e-9));  // qubit 0 stays maximally mixed
  // rho^T_A: diagonal 0.5, 0.18, 0, 0.32 and 0.4 between |10> and |01>; eigenvalues 0.5, 0.32,
  // 0.09 +- 0.41: trace norm 1.64.
  EXPECT_NEAR(read_summary(out, "log_negativity_0_1"), std::log2(1.64), tol(1e-9));
}

TEST_F(Cli, PlatformAndReportErrorsExitTwo) {
  const std::string c = write("c.stim", "H 0\nCX 0 1\nM 0 1\n");
  const std::string bad = write("bad.toml", "name = \"x\"\nt1_s = \"long\"\n");
  CmdResult r = run("sim " + c + " --platform " + bad + " --no-output");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("bad.toml:2:"), std::string::npos) << r.out;
  r = run("sim " + c + " --platform no_such_preset --no-output");
  EXPECT_EQ(r.status, 2);
  r = run("sim " + c + " --report entropy:5 --no-output");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("entropy:5"), std::string::npos) << r.out;
  r = run("sim " + c + " --platform trapped_ion --shots 200 --no-output");
  EXPECT_EQ(r.status, 0) << r.out;
}

TEST_F(Cli, DryRunPrintsThePlanAndRunsNothing) {
  const std::string big = write("big.stim", "H 45\nM 45\n");
  const std::string out = (dir / "plan.h5").string();
  const CmdResult r = run("sim " + big + " --dry-run -o " + out);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("plan: 46 qubits, state vector"), std::string::npos) << r.out;
  // 2^46 amplitudes of 16 bytes (complex double) or 8 bytes (complex float).
  const std::string state_size = sizeof(qw::real) == sizeof(double) ? "state: 1048576.0 GiB" : "state: 524288.0 GiB";
  EXPECT_NE(r.out.find(state_size), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DOES NOT FIT"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(Cli, FrameEngineWritesDetectorsAndMatchesTheAnalyticFlipRate) {
  const std::string out = (dir / "rep.h5").string();
  const CmdResult r = run(std::string("sim ") + QWEAVE_SOURCE_DIR + "/examples/repetition_code.stim --engine frame "
                          "--shots 50000 --seed 1 -o " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  // The unencoded observable (data qubit 8) flips when an odd number of its 10 rounds of
  // X_ERROR(0.02) fired: (1 - (1 - 2p)^10) / 2.
  const double want = (1 - std::pow(1 - 2 * 0.02, 10)) / 2;
  const double got = read_summary(out, "observable_flip_rate_0");
  EXPECT_NEAR(got, want, 5 * std::sqrt(want * (1 - want) / 50000)) << r.out;
  const CmdResult bad = run(std::string("sim ") + QWEAVE_SOURCE_DIR + "/examples/qft.qasm --engine frame --no-output");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("qft.qasm:"), std::string::npos) << bad.out;
}

TEST_F(Cli, VersionAndFormatOverride) {
  CmdResult r = run("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("qweave 0.1.0"), std::string::npos) << r.out;
  const std::string c = write("circuit.txt", "H 0\nM 0\n");
  r = run("sim " + c + " --format stim --no-output --shots 10");
  EXPECT_EQ(r.status, 0) << r.out;
}

}  // namespace
