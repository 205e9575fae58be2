// The HDF5 result file (host/result_file.h), read back with the HDF5 C API, independently of the
// writer's own helpers.
#include "host/result_file.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "host/errors.h"

namespace qw {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    dir_ = fs::temp_directory_path() /
           ("qweave_result_file_test_" + std::to_string(stamp) + "_" + std::to_string(counter++));
    fs::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

 private:
  fs::path dir_;
};

RunAttributes example_attributes() {
  RunAttributes a;
  a.engine = "sv";
  a.backend = "cpu";
  a.precision = "double";
  a.ranks = 4;
  a.seed = 0xFEDCBA9876543210ull;
  a.shots = 5;
  a.qubits = 3;
  a.config = "[run]\nshots = 5\n";
  a.circuit = "H 0\nCX 0 1\nCX 1 2\nM 0 1 2";
  return a;
}

// --- raw HDF5 readers ---

std::string read_string_attr(hid_t obj, const char* name) {
  hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
  EXPECT_GE(attr, 0) << name;
  hid_t type = H5Aget_type(attr);
  EXPECT_EQ(H5Tget_class(type), H5T_STRING) << name;
  std::string value;
  if (H5Tis_variable_str(type) > 0) {
    hid_t mem = H5Tcopy(H5T_C_S1);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5T_CSET_UTF8);
    char* data = nullptr;
    EXPECT_GE(H5Aread(attr, mem, &data), 0);
    value = data ? data : "";
    hid_t space = H5Aget_space(attr);
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, &data);
    H5Sclose(space);
    H5Tclose(mem);
  } else {
    std::vector<char> buf(H5Tget_size(type) + 1, '\0');
    EXPECT_GE(H5Aread(attr, type, buf.data()), 0);
    value = buf.data();
  }
  H5Tclose(type);
  H5Aclose(attr);
  return value;
}

template <typename T>
T read_scalar_attr(hid_t obj, const char* name, hid_t mem_type, H5T_class_t cls,
                   H5T_sign_t sign, size_t size) {
  hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
  EXPECT_GE(attr, 0) << name;
  hid_t type = H5Aget_type(attr);
  EXPECT_EQ(H5Tget_class(type), cls) << name;
  EXPECT_EQ(H5Tget_size(type), size) << name;
  if (cls == H5T_INTEGER) {
    EXPECT_EQ(H5Tget_sign(type), sign) << name;
  }
  T value{};
  EXPECT_GE(H5Aread(attr, mem_type, &value), 0) << name;
  H5Tclose(type);
  H5Aclose(attr);
  return value;
}

std::uint8_t read_complete(const std::string& path) {
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(file, 0);
  auto value = read_scalar_attr<std::uint8_t>(file, "complete", H5T_NATIVE_UINT8, H5T_INTEGER,
                                              H5T_SGN_NONE, 1);
  H5Fclose(file);
  return value;
}

std::vector<hsize_t> dataset_dims(hid_t dset) {
  hid_t space = H5Dget_space(dset);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  H5Sclose(space);
  return dims;
}

struct Pair {
  double r;
  double i;
};

void write_example(const std::string& path, const std::vector<cplx>& amps,
                   const std::vector<std::uint8_t>& meas, bool close) {
  ResultFile rf(path, example_attributes());
  rf.write_amplitudes(amps.data(), amps.size());
  rf.write_bits("/measurements", meas.data(), 5, 3);
  rf.write_bits("/detectors", nullptr, 0, 7);
  rf.write_bits("/links/ab/heralds", nullptr, 4, 0);
  rf.write_summary("logical_error_rate", 0.0125, "per round", "logical errors per QEC round");
  if (close) rf.close();
}

std::vector<cplx> example_amplitudes() {
  std::vector<cplx> amps(8);
  for (int k = 0; k < 8; ++k) amps[k] = {static_cast<real>(0.125 * k), static_cast<real>(-0.5 + k)};
  return amps;
}

TEST(ResultFile, WritesAttributesDatasetsAndSummary) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const std::vector<cplx> amps = example_amplitudes();
  const std::vector<std::uint8_t> meas = {0b000, 0b111, 0b101, 0b010, 0b001};
  write_example(path, amps, meas, /*close=*/true);

  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  EXPECT_EQ(read_string_attr(file, "format"), "qweave/1");
  EXPECT_FALSE(read_string_attr(file, "version").empty());
  EXPECT_EQ(read_string_attr(file, "engine"), "sv");
  EXPECT_EQ(read_string_attr(file, "backend"), "cpu");
  EXPECT_EQ(read_string_attr(file, "precision"), "double");
  EXPECT_EQ(read_string_attr(file, "config"), "[run]\nshots = 5\n");
  EXPECT_EQ(read_string_attr(file, "circuit"), "H 0\nCX 0 1\nCX 1 2\nM 0 1 2");
  EXPECT_EQ((read_scalar_attr<std::int32_t>(file, "ranks", H5T_NATIVE_INT32, H5T_INTEGER,
                                            H5T_SGN_2, 4)),
            4);
  EXPECT_EQ((read_scalar_attr<std::uint64_t>(file, "seed", H5T_NATIVE_UINT64, H5T_INTEGER,
                                             H5T_SGN_NONE, 8)),
            0xFEDCBA9876543210ull);
  EXPECT_EQ((read_scalar_attr<std::uint64_t>(file, "shots", H5T_NATIVE_UINT64, H5T_INTEGER,
                                             H5T_SGN_NONE, 8)),
            5u);
  EXPECT_EQ((read_scalar_attr<std::uint32_t>(file, "qubits", H5T_NATIVE_UINT32, H5T_INTEGER,
                                             H5T_SGN_NONE, 4)),
            3u);
  EXPECT_EQ((read_scalar_attr<std::uint8_t>(file, "complete", H5T_NATIVE_UINT8, H5T_INTEGER,
                                            H5T_SGN_NONE, 1)),
            1u);

  // /state/amplitudes: compound {r: float64, i: float64}.
  {
    hid_t dset = H5Dopen2(file, "/state/amplitudes", H5P_DEFAULT);
    ASSERT_GE(dset, 0);
    EXPECT_EQ(dataset_dims(dset), std::vector<hsize_t>{8});
    hid_t type = H5Dget_type(dset);
    ASSERT_EQ(H5Tget_class(type), H5T_COMPOUND);
    ASSERT_EQ(H5Tget_nmembers(type), 2);
    for (unsigned m = 0; m < 2; ++m) {
      char* name = H5Tget_member_name(type, m);
      EXPECT_STREQ(name, m == 0 ? "r" : "i");
      H5free_memory(name);
      hid_t member = H5Tget_member_type(type, m);
      EXPECT_EQ(H5Tget_class(member), H5T_FLOAT);
      EXPECT_EQ(H5Tget_size(member), 8u);
      H5Tclose(member);
    }
    H5Tclose(type);
    // Read with our own memory type, members in the opposite order, to check they go by name.
    struct Swapped {
      double i;
      double r;
    };
    hid_t mem = H5Tcreate(H5T_COMPOUND, sizeof(Swapped));
    H5Tinsert(mem, "i", HOFFSET(Swapped, i), H5T_NATIVE_DOUBLE);
    H5Tinsert(mem, "r", HOFFSET(Swapped, r), H5T_NATIVE_DOUBLE);
    std::vector<Swapped> back(8);
    ASSERT_GE(H5Dread(dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, back.data()), 0);
    for (int k = 0; k < 8; ++k) {
      EXPECT_EQ(back[k].r, 0.125 * k);
      EXPECT_EQ(back[k].i, -0.5 + k);
    }
    H5Tclose(mem);
    H5Dclose(dset);
  }

  // /measurements: uint8 [shots, ceil(bits/8)] with attribute bits.
  {
    hid_t dset = H5Dopen2(file, "/measurements", H5P_DEFAULT);
    ASSERT_GE(dset, 0);
    EXPECT_EQ(dataset_dims(dset), (std::vector<hsize_t>{5, 1}));
    hid_t type = H5Dget_type(dset);
    EXPECT_EQ(H5Tget_class(type), H5T_INTEGER);
    EXPECT_EQ(H5Tget_size(type), 1u);
    EXPECT_EQ(H5Tget_sign(type), H5T_SGN_NONE);
    H5Tclose(type);
    std::vector<std::uint8_t> back(5);
    ASSERT_GE(H5Dread(dset, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, back.data()), 0);
    EXPECT_EQ(back, meas);
    EXPECT_EQ((read_scalar_attr<std::uint64_t>(dset, "bits", H5T_NATIVE_UINT64, H5T_INTEGER,
                                               H5T_SGN_NONE, 8)),
              3u);
    H5Dclose(dset);
  }
  // Empty bit tables keep their shape: no shots, and shots with no bits (in a new group).
  {
    hid_t dset = H5Dopen2(file, "/detectors", H5P_DEFAULT);
    ASSERT_GE(dset, 0);
    EXPECT_EQ(dataset_dims(dset), (std::vector<hsize_t>{0, 1}));
    EXPECT_EQ((read_scalar_attr<std::uint64_t>(dset, "bits", H5T_NATIVE_UINT64, H5T_INTEGER,
                                               H5T_SGN_NONE, 8)),
              7u);
    H5Dclose(dset);
    dset = H5Dopen2(file, "/links/ab/heralds", H5P_DEFAULT);
    ASSERT_GE(dset, 0);
    EXPECT_EQ(dataset_dims(dset), (std::vector<hsize_t>{4, 0}));
    H5Dclose(dset);
  }

  // /summary/<name>: float64 scalar with units and description.
  {
    hid_t dset = H5Dopen2(file, "/summary/logical_error_rate", H5P_DEFAULT);
    ASSERT_GE(dset, 0);
    EXPECT_TRUE(dataset_dims(dset).empty());
    hid_t type = H5Dget_type(dset);
    EXPECT_EQ(H5Tget_class(type), H5T_FLOAT);
    EXPECT_EQ(H5Tget_size(type), 8u);
    H5Tclose(type);
    double value = 0;
    ASSERT_GE(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), 0);
    EXPECT_EQ(value, 0.0125);
    EXPECT_EQ(read_string_attr(dset, "units"), "per round");
    EXPECT_EQ(read_string_attr(dset, "description"), "logical errors per QEC round");
    H5Dclose(dset);
  }
  H5Fclose(file);
}

TEST(ResultFile, LargeStateIsWrittenInSlabs) {
  // More than one conversion slab (2^20) and not a multiple of the chunk size.
  TempDir dir;
  const std::string path = dir.file("big.h5");
  const std::uint64_t n = (std::uint64_t{1} << 21) + 12345;
  std::vector<cplx> amps(n);
  for (std::uint64_t k = 0; k < n; ++k) {
    amps[k] = {static_cast<real>(k), static_cast<real>(-static_cast<double>(k) / 2)};
  }
  {
    RunAttributes a = example_attributes();
    ResultFile rf(path, a);
    rf.write_amplitudes(amps.data(), n);
    rf.close();
  }
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t dset = H5Dopen2(file, "/state/amplitudes", H5P_DEFAULT);
  ASSERT_GE(dset, 0);
  EXPECT_EQ(dataset_dims(dset), std::vector<hsize_t>{n});
  hid_t mem = H5Tcreate(H5T_COMPOUND, sizeof(Pair));
  H5Tinsert(mem, "r", HOFFSET(Pair, r), H5T_NATIVE_DOUBLE);
  H5Tinsert(mem, "i", HOFFSET(Pair, i), H5T_NATIVE_DOUBLE);
  std::vector<Pair> back(n);
  ASSERT_GE(H5Dread(dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, back.data()), 0);
  std::uint64_t mismatches = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    if (back[k].r != static_cast<double>(amps[k].re) || back[k].i != static_cast<double>(amps[k].im)) {
      ++mismatches;
    }
  }
  EXPECT_EQ(mismatches, 0u);
  H5Tclose(mem);
  H5Dclose(dset);
  H5Fclose(file);
}

TEST(ResultFile, CompleteOnlyAfterClose) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const std::vector<cplx> amps = example_amplitudes();
  const std::vector<std::uint8_t> meas(5, 0);
  write_example(path, amps, meas, /*close=*/false);  // destroyed without close(): a failed run
  EXPECT_EQ(read_complete(path), 0u);
  write_example(path, amps, meas, /*close=*/true);  // truncates and rewrites
  EXPECT_EQ(read_complete(path), 1u);
}

TEST(ResultFile, EmptyStateAndRepeatedClose) {
  TempDir dir;
  const std::string path = dir.file("empty.h5");
  ResultFile rf(path, RunAttributes{});
  rf.write_amplitudes(nullptr, 0);
  rf.close();
  rf.close();  // a second close is harmless
  EXPECT_EQ(read_complete(path), 1u);
  EXPECT_THROW(rf.write_summary("x", 1.0, "", ""), std::runtime_error);
}

TEST(ResultFile, CreateFailureNamesThePath) {
  TempDir dir;
  const std::string path = dir.file("no_such_dir/run.h5");
  try {
    ResultFile rf(path, example_attributes());
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot create"), std::string::npos) << e.what();
  }
}

TEST(ResultFile, DuplicateDatasetFailsWithMessage) {
  TempDir dir;
  const std::string path = dir.file("dup.h5");
  ResultFile rf(path, example_attributes());
  rf.write_summary("x", 1.0, "", "");
  try {
    rf.write_summary("x", 2.0, "", "");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("/summary/x"), std::string::npos) << what;
  }
}

TEST(DescribeResultFile, ListsAttributesDatasetsAndSummary) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const std::vector<cplx> amps = example_amplitudes();
  const std::vector<std::uint8_t> meas(5, 1);
  write_example(path, amps, meas, /*close=*/true);
  // Column alignment is for people: compare with runs of spaces collapsed to two.
  const auto squeeze = [](const std::string& s) {
    std::string out;
    for (std::size_t k = 0; k < s.size(); ++k) {
      if (s[k] == ' ' && k + 1 < s.size() && s[k + 1] == ' ') {
        out += "  ";
        while (k + 1 < s.size() && s[k + 1] == ' ') ++k;
      } else {
        out += s[k];
      }
    }
    return out;
  };
  const std::string text = squeeze(describe_result_file(path));
  for (const std::string& expected : {
           std::string("  format     qweave/1\n"),
           std::string("  engine     sv\n"),
           std::string("  backend    cpu\n"),
           std::string("  precision  double\n"),
           std::string("  ranks      4\n"),
           std::string("  seed       18364758544493064720\n"),
           std::string("  shots      5\n"),
           std::string("  qubits     3\n"),
           std::string("  complete   yes\n"),
           std::string("  circuit    4 lines\n"),
           std::string("  config     2 lines\n"),
           std::string("  /state/amplitudes  complex128 {r, i} [8]\n"),
           std::string("  /measurements  uint8 [5, 1]  bits = 3\n"),
           std::string("  /detectors  uint8 [0, 1]  bits = 7\n"),
           std::string("  /links/ab/heralds  uint8 [4, 0]  bits = 0\n"),
           std::string("  /summary/logical_error_rate  float64 scalar\n"),
           std::string("summary:\n  logical_error_rate = 0.0125 per round  (logical errors per QEC round)\n"),
       }) {
    EXPECT_NE(text.find(squeeze(expected)), std::string::npos) << "missing: " << expected << "\nin:\n" << text;
  }
  EXPECT_EQ(text.find("CX 0 1"), std::string::npos) << "the circuit text itself is not printed";
}

TEST(DescribeResultFile, ReportsIncompleteRun) {
  TempDir dir;
  const std::string path = dir.file("crashed.h5");
  { ResultFile rf(path, example_attributes()); }
  const std::string text = describe_result_file(path);
  EXPECT_NE(text.find("  complete   NO — the run did not finish cleanly\n"), std::string::npos)
      << text;
}

void expect_input_error(const std::string& path, const std::string& message) {
  try {
    describe_result_file(path);
    FAIL() << "expected InputError for " << path;
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": " + message);
  }
}

TEST(DescribeResultFile, RejectsMissingAndForeignFiles) {
  TempDir dir;
  expect_input_error(dir.file("missing.h5"), "cannot open: no such file");

  const std::string text_file = dir.file("notes.h5");
  std::ofstream(text_file) << "this is not HDF5\n";
  expect_input_error(text_file, "cannot open: not an HDF5 file");

  // A valid HDF5 file without the format attribute.
  const std::string foreign = dir.file("foreign.h5");
  hid_t file = H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  H5Fclose(file);
  expect_input_error(foreign, "not a qweave result file (no format attribute)");
}

}  // namespace
}  // namespace qw

namespace {
TEST(ResultFileArrays, Float64AndUint64ArraysWithUnits) {
  const std::string path = (std::filesystem::temp_directory_path() / "qweave_arrays_test.h5").string();
  {
    qw::RunAttributes attrs;
    attrs.engine = "link";
    qw::ResultFile f(path, attrs);
    const double t[6] = {1, 2, 3, 4, 5, 6};
    const std::uint64_t n[3] = {7, 8, 9};
    f.write_array("/links/ab/bell_diagonal", t, {3, 2}, "1", "test");
    f.write_array("/links/ab/attempts", n, {3}, "", "attempts");
    f.close();
  }
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t d = H5Dopen2(file, "/links/ab/bell_diagonal", H5P_DEFAULT);
  const hid_t s = H5Dget_space(d);
  hsize_t dims[2] = {};
  ASSERT_EQ(H5Sget_simple_extent_ndims(s), 2);
  H5Sget_simple_extent_dims(s, dims, nullptr);
  EXPECT_EQ(dims[0], 3u);
  EXPECT_EQ(dims[1], 2u);
  double back[6] = {};
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, back);
  EXPECT_EQ(back[5], 6.0);
  const hid_t a = H5Dopen2(file, "/links/ab/attempts", H5P_DEFAULT);
  std::uint64_t nb[3] = {};
  H5Dread(a, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, nb);
  EXPECT_EQ(nb[2], 9u);
  EXPECT_TRUE(H5Aexists(a, "units") > 0);
  H5Dclose(a);
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(file);
  std::filesystem::remove(path);
}
}  // namespace
