// docs/hdf5.md must document everything the writer produces: this writes a result file with every
// part ResultFile can write, walks its attribute, dataset and compound member names, and checks that
// each one appears in the document in backticks.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "host/result_file.h"

#ifndef QWEAVE_SOURCE_DIR
#define QWEAVE_SOURCE_DIR "/work/main"
#endif

namespace qw {
namespace {

namespace fs = std::filesystem;

std::string read_doc() {
  const fs::path doc = fs::path(QWEAVE_SOURCE_DIR) / "docs" / "hdf5.md";
  std::ifstream in(doc);
  EXPECT_TRUE(in.good()) << "cannot read " << doc;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Names {
  std::set<std::string> attributes;  // root and dataset attribute names
  std::set<std::string> datasets;    // full paths; /summary/<x> recorded as /summary/<name>
  std::set<std::string> members;     // compound member names
};

herr_t add_attribute(hid_t, const char* name, const H5A_info_t*, void* out) {
  static_cast<Names*>(out)->attributes.insert(name);
  return 0;
}

herr_t add_object(hid_t group, const char* name, const H5L_info_t*, void* out) {
  auto* names = static_cast<Names*>(out);
  hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
  if (obj < 0) return -1;
  if (H5Iget_type(obj) == H5I_DATASET) {
    std::string path = std::string("/") + name;
    if (path.rfind("/summary/", 0) == 0) path = "/summary/<name>";
    names->datasets.insert(path);
    hsize_t index = 0;
    H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &index, add_attribute, names);
    hid_t type = H5Dget_type(obj);
    if (H5Tget_class(type) == H5T_COMPOUND) {
      for (int m = 0; m < H5Tget_nmembers(type); ++m) {
        char* member = H5Tget_member_name(type, static_cast<unsigned>(m));
        names->members.insert(member);
        H5free_memory(member);
      }
    }
    H5Tclose(type);
  }
  H5Oclose(obj);
  return 0;
}

TEST(Hdf5SchemaDoc, DocumentsEveryNameTheWriterProduces) {
  const fs::path path = fs::temp_directory_path() /
                        ("qweave_schema_doc_test_" +
                         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) +
                         ".h5");
  {
    RunAttributes attrs;
    attrs.engine = "sv";
    attrs.backend = "cpu";
    attrs.precision = "double";
    attrs.circuit = "H 0\n";
    ResultFile rf(path.string(), attrs);
    const std::vector<cplx> amps(4, cplx{0.5, 0});
    rf.write_amplitudes(amps.data(), amps.size());
    const std::vector<std::uint8_t> bits(2, 0);
    for (const char* table : {"/measurements", "/detectors", "/observables"}) {
      rf.write_bits(table, bits.data(), 2, 5);
    }
    rf.write_summary("logical_error_rate", 0.01, "per round", "example");
    rf.close();
  }

  Names names;
  hid_t file = H5Fopen(path.string().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  hsize_t index = 0;
  H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, &index, add_attribute, &names);
  H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, add_object, &names);
  H5Fclose(file);
  fs::remove(path);

  // Sanity: the walk saw what was written.
  EXPECT_TRUE(names.attributes.count("format"));
  EXPECT_TRUE(names.attributes.count("complete"));
  EXPECT_TRUE(names.attributes.count("bits"));
  EXPECT_TRUE(names.datasets.count("/state/amplitudes"));
  EXPECT_TRUE(names.datasets.count("/summary/<name>"));

  const std::string doc = read_doc();
  const auto documented = [&](const std::string& name) {
    return doc.find("`" + name + "`") != std::string::npos;
  };
  for (const std::string& name : names.attributes) {
    EXPECT_TRUE(documented(name)) << "docs/hdf5.md does not document attribute `" << name << "`";
  }
  for (const std::string& name : names.datasets) {
    EXPECT_TRUE(documented(name)) << "docs/hdf5.md does not document dataset `" << name << "`";
  }
  for (const std::string& name : names.members) {
    EXPECT_TRUE(documented(name)) << "docs/hdf5.md does not document compound member `" << name
                                  << "`";
  }
  EXPECT_TRUE(documented("qweave/1")) << "docs/hdf5.md does not name the format `qweave/1`";
  EXPECT_NE(doc.find("validation/read_result.py"), std::string::npos);
}

}  // namespace
}  // namespace qw
