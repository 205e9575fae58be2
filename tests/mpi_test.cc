// qweave under mpirun: 1, 2 and 4 ranks split the shots and write one file with parallel HDF5;
// the samples must be identical (each shot keeps its RNG stream), the file complete, `ranks` set.
#include <gtest/gtest.h>

#include <hdf5.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace {
namespace fs = std::filesystem;

#if defined(QWEAVE_HAVE_MPI) && defined(QWEAVE_MPIEXEC)
int run(const std::string& args, std::string* out = nullptr) {
  // As root (CI), OpenMPI needs --allow-run-as-root; --oversubscribe lets 4 ranks share 2 cores.
  const std::string cmd = std::string(QWEAVE_MPIEXEC) + (geteuid() == 0 ? " --allow-run-as-root" : "") +
                          " --oversubscribe " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  std::string text;
  while (std::size_t k = fread(buf.data(), 1, buf.size(), p)) text.append(buf.data(), k);
  const int st = pclose(p);
  if (out) *out = text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

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
