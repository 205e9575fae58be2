// --format-out 01 / b8 (Stim's shot formats) for the frame engine: the same bits as the HDF5 file's
// /detectors and /observables, appended per shot or split off with --obs-out; refused elsewhere.
#include <gtest/gtest.h>

#include "tests/command.h"

#include <hdf5.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace {
namespace fs = std::filesystem;

int run(const std::string& args, std::string* out = nullptr) {
  return qw::testing::run_command(std::string(QWEAVE_BINARY) + " " + args, out);
}

struct Bits {
  std::vector<std::uint8_t> rows;
  hsize_t shots = 0, bytes = 0;
  bool at(hsize_t s, hsize_t b) const { return (rows[s * bytes + b / 8] >> (b % 8)) & 1u; }
};
Bits dataset(const std::string& path, const char* name) {
  Bits v;
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  const hid_t s = H5Dget_space(d);
  hsize_t dims[2] = {};
  H5Sget_simple_extent_dims(s, dims, nullptr);
  v.shots = dims[0];
  v.bytes = dims[1];
  v.rows.resize(dims[0] * dims[1]);
  H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.rows.data());
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(FrameFormats, B8And01CarryTheHdf5Bits) {
  const fs::path dir = fs::temp_directory_path() / ("qweave_formats_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string circuit = std::string(QWEAVE_SOURCE_DIR) + "/examples/repetition_code.stim";
  const std::string common = "sim " + circuit + " --engine frame --shots 777 --seed 4 -q ";
  std::string log;
  ASSERT_EQ(run(common + "-o " + (dir / "r.h5").string(), &log), 0) << log;
  ASSERT_EQ(run(common + "--format-out b8 -o " + (dir / "r.b8").string(), &log), 0) << log;
  ASSERT_EQ(run(common + "--format-out 01 -o " + (dir / "d.01").string() + " --obs-out " + (dir / "o.01").string(),
                &log), 0) << log;
  const Bits det = dataset((dir / "r.h5").string(), "/detectors");
  const Bits obs = dataset((dir / "r.h5").string(), "/observables");
  ASSERT_EQ(det.shots, 777u);
  // Bits per shot from the 01 files' line lengths (the HDF5 rows are padded to whole bytes).
  const std::string d01 = slurp(dir / "d.01"), o01 = slurp(dir / "o.01");
  const std::size_t D = d01.find('\n'), O = o01.find('\n');
  ASSERT_NE(D, std::string::npos);
  ASSERT_GT(D, 0u);
  ASSERT_EQ(O, 1u);  // the example has one observable
  ASSERT_EQ(d01.size(), 777 * (D + 1));
  ASSERT_EQ(o01.size(), 777 * (O + 1));
  const std::string b8 = slurp(dir / "r.b8");
  const std::size_t per_shot = (D + O + 7) / 8;
  ASSERT_EQ(b8.size(), 777 * per_shot);
  std::size_t ones = 0;
  for (hsize_t s = 0; s < 777; ++s) {
    for (std::size_t k = 0; k < D + O; ++k) {
      const bool want = k < D ? det.at(s, k) : obs.at(s, k - D);
      ones += want;
      const bool in_b8 = (static_cast<unsigned char>(b8[s * per_shot + k / 8]) >> (k % 8)) & 1u;
      const bool in_01 = k < D ? d01[s * (D + 1) + k] == '1' : o01[s * (O + 1) + (k - D)] == '1';
      ASSERT_EQ(in_b8, want) << "shot " << s << " bit " << k;
      ASSERT_EQ(in_01, want) << "shot " << s << " bit " << k;
    }
  }
  EXPECT_GT(ones, 0u);  // a noisy circuit: the comparison saw ones
  EXPECT_FALSE(fs::exists(dir / "r.b8.partial"));
  fs::remove_all(dir);
}

TEST(FrameFormats, RefusedOutsideTheFrameEngine) {
  std::string log;
  const std::string ghz = std::string(QWEAVE_SOURCE_DIR) + "/examples/ghz.stim";
  EXPECT_EQ(run("sim " + ghz + " --format-out b8 --no-output", &log), 2) << log;
  EXPECT_NE(log.find("applies to --engine frame"), std::string::npos) << log;
  EXPECT_EQ(run("sim " + ghz + " --engine frame --obs-out x.01 --no-output", &log), 2) << log;
  EXPECT_NE(log.find("--obs-out applies"), std::string::npos) << log;
}

}  // namespace
