// The frame engine with one module per MPI rank (--split modules): rank r keeps the frames of its
// module's qubits, gates across modules exchange frame words, records and detectors are XORed over
// ranks. Detection events, observables and raw measurements must be bit-identical to a single-rank
// run for 1, 2, 3 and 4 ranks, with contiguous blocks and with explicit --module lists.
#include <gtest/gtest.h>

#include "tests/command.h"

#include <hdf5.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace {
namespace fs = std::filesystem;

#if defined(QWEAVE_HAVE_MPI) && defined(QWEAVE_MPIEXEC)
int run(const std::string& args, std::string* out = nullptr) { return qw::testing::run_mpi(args, out); }

std::vector<std::uint8_t> dataset(const std::string& path, const char* name) {
  std::vector<std::uint8_t> v;
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
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

// Every kind of cross-module interaction: two-qubit Cliffords across modules (also a broadcast
// that reuses qubits, so groups must run in order), two-qubit noise across modules, correlated
// errors and an ELSE chain spanning modules, heralded erasure, a Pauli-product measurement over
// all modules, MXX across modules, classically controlled Paulis whose record lives on another
// module, MR of one qubit twice, SWAP across modules.
constexpr const char* kMixed = R"(H 0 2 4 6
CX 0 5 2 7 1 6
CX 5 1 1 3 3 6
DEPOLARIZE2(0.1) 0 7 2 5
E(0.05) X0 Z5 Y7
ELSE_CORRELATED_ERROR(0.1) Z1 X6
HERALDED_ERASE(0.1) 3 4
MPP X0*X2*X4*X6 Z1*Z5
M 0 1
CX rec[-1] 6 rec[-2] 5
MXX 2 7
MR 3 3 5
CZ 4 0 6 2
SWAP 1 7
X_ERROR(0.2) 0 1 2 3 4 5 6 7
M 0 1 2 3 4 5 6 7
DETECTOR rec[-1] rec[-8]
DETECTOR rec[-3] rec[-4] rec[-12]
DETECTOR rec[-5]
OBSERVABLE_INCLUDE(0) rec[-2] rec[-6]
)";

class FrameModules : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() / ("qweave_frame_modules_" + std::to_string(getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  // Runs `circuit` on one rank without modules, then under each of `layouts` (ranks, extra args),
  // and compares the three datasets.
  void expect_identical(const fs::path& circuit, const std::vector<std::pair<int, std::string>>& layouts) {
    const std::string common = " " + std::string(QWEAVE_BINARY) + " sim " + circuit.string() +
                               " --engine frame --shots 3000 --seed 11 --measurements -q";
    const std::string ref = (dir / "ref.h5").string();
    std::string log;
    ASSERT_EQ(run("-np 1" + common + " -o " + ref, &log), 0) << log;
    const char* names[] = {"/detectors", "/observables", "/measurements"};
    std::map<std::string, std::vector<std::uint8_t>> want;
    for (const char* n : names) want[n] = dataset(ref, n);
    ASSERT_FALSE(want["/measurements"].empty());
    int k = 0;
    for (const auto& [np, extra] : layouts) {
      const std::string out = (dir / ("m" + std::to_string(k++) + ".h5")).string();
      ASSERT_EQ(run("-np " + std::to_string(np) + common + " --split modules " + extra + " -o " + out, &log), 0)
          << log;
      for (const char* n : names) EXPECT_EQ(dataset(out, n), want[n]) << n << " with " << np << " ranks " << extra;
    }
  }
};

TEST_F(FrameModules, MixedCircuitIsBitIdenticalForAnyRankCount) {
  const fs::path c = dir / "mixed.stim";
  std::ofstream(c) << kMixed;
  expect_identical(c, {{1, ""}, {2, ""}, {3, ""}, {4, ""},
                       {3, "--module 0,7,3 --module 1-2,6 --module 4-5"},
                       {2, "--module 0,2,4,6 --module 1,3,5,7"}});
}

TEST_F(FrameModules, SplitSurfaceCodeIsBitIdenticalForAnyRankCount) {
  // A distance-3 patch cut into two modules by the generator, with SD6 noise and noisy seams.
  const fs::path c = dir / "split.stim";
  std::string log;
  ASSERT_EQ(run("-np 1 " + std::string(QWEAVE_BINARY) + " gen surface -d 3 -r 3 -p 0.01 --modules 2 "
                "--interface-error 0.05 -o " + c.string(), &log), 0) << log;
  expect_identical(c, {{2, ""}, {4, ""}});
}

TEST_F(FrameModules, BadModuleListsAreInputErrors) {
  const fs::path c = dir / "mixed.stim";
  std::ofstream(c) << kMixed;
  const std::string base = " " + std::string(QWEAVE_BINARY) + " sim " + c.string() +
                           " --engine frame --shots 64 --no-output --split modules ";
  std::string log;
  EXPECT_EQ(run("-np 2" + base + "--module 0-3", &log), 2) << log;  // one list for two ranks
  EXPECT_NE(log.find("1 --module lists for 2 ranks"), std::string::npos) << log;
  EXPECT_EQ(run("-np 2" + base + "--module 0-3 --module 3-7", &log), 2) << log;
  EXPECT_NE(log.find("already in module 0"), std::string::npos) << log;
  EXPECT_EQ(run("-np 2" + base + "--module 0-3 --module 4-6", &log), 2) << log;
  EXPECT_NE(log.find("qubit 7 is in no --module list"), std::string::npos) << log;
  // SPP across modules is refused rather than computed wrongly.
  const fs::path spp = dir / "spp.stim";
  std::ofstream(spp) << "H 0\nSPP X0*Z7\nM 0 7\nDETECTOR rec[-1]\n";
  EXPECT_EQ(run("-np 2 " + std::string(QWEAVE_BINARY) + " sim " + spp.string() +
                " --engine frame --shots 64 --no-output --split modules", &log), 2) << log;
  EXPECT_NE(log.find("more than one module"), std::string::npos) << log;
}
#else
TEST(FrameModules, Skipped) { GTEST_SKIP() << "built without MPI (QWEAVE_MPIEXEC)"; }
#endif

}  // namespace
