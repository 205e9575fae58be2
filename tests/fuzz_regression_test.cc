// Replays the inputs kept from fuzzing the circuit readers (fuzz/, docs/fuzzing.md): crashers found
// by libFuzzer, minimised, plus small inputs from the fuzz corpus. Each must parse or be rejected with
// qw::InputError whose message starts with "SOURCE:"; any other exception (or a crash, under a
// sanitizer build) is a regression.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "host/circuit.h"
#include "host/errors.h"
#include "host/parse.h"

namespace qw {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> regression_files(const std::string& dialect) {
  const fs::path dir = fs::path(QWEAVE_TEST_DATA_DIR) / "fuzz_regressions" / dialect;
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

template <class Parse>
void replay(const std::string& dialect, Parse parse) {
  const std::vector<fs::path> files = regression_files(dialect);
  ASSERT_FALSE(files.empty()) << "no inputs in tests/data/fuzz_regressions/" << dialect;
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.string());
    const std::string text = read_bytes(path);
    const std::string source = path.filename().string();
    try {
      parse(text, source);
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.starts_with(source + ":")) << "message does not start with '" << source << ":': " << what;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw something other than qw::InputError: " << e.what();
    } catch (...) {
      ADD_FAILURE() << "threw a non-std exception";
    }
  }
}

TEST(FuzzRegressions, StimInputsParseOrRaiseInputError) {
  replay("stim", [](const std::string& text, const std::string& source) { parse_stim(text, source); });
}

TEST(FuzzRegressions, QasmInputsParseOrRaiseInputError) {
  replay("qasm", [](const std::string& text, const std::string& source) { parse_qasm(text, source); });
}

}  // namespace
}  // namespace qw
