// libFuzzer harness for the Stim-format reader (docs/fuzzing.md). Properties checked on every input:
//  * parse_stim returns or throws qw::InputError; any other exception aborts;
//  * the error message starts with the source name and ':' (every message says where);
//  * on success, the circuit's text parses back to an equal circuit (Circuit::str round trip).
// Crashes, hangs, leaks and UB are caught by libFuzzer, ASan and UBSan.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "host/circuit.h"
#include "host/errors.h"
#include "host/parse.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_stim: %s\n%s\n", what, detail.c_str());
  std::abort();
}

const std::string kSource = "fuzz.stim";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  qw::Circuit c;
  try {
    c = qw::parse_stim(text, kSource);
  } catch (const qw::InputError& e) {
    if (!std::string_view(e.what()).starts_with(kSource + ":")) fail("InputError without location", e.what());
    return 0;
  } catch (const std::exception& e) {
    fail("parse_stim threw something other than qw::InputError", e.what());
  } catch (...) {
    fail("parse_stim threw a non-std exception", "");
  }

  const std::string written = c.str();
  qw::Circuit again;
  try {
    again = qw::parse_stim(written, "roundtrip.stim");
  } catch (const std::exception& e) {
    fail("Circuit::str() output does not parse", written + "\n--- error: " + e.what());
  }
  if (!(again == c)) fail("Circuit::str() output parses to a different circuit", written);
  return 0;
}
