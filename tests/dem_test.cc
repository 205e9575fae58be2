// qweave dem: detector error models (host/dem.h, docs/dem.md).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "host/dem.h"
#include "host/errors.h"
#include "host/parse.h"

namespace {
using namespace qw;

std::string dem_of(const std::string& text) {
  return detector_error_model(parse_stim(text, "t.stim")).str();
}

std::string error_of(const std::string& text) {
  try {
    detector_error_model(parse_stim(text, "t.stim"));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// Repetition code: data 0 2 4, ancillas 1 3 (D0 = Z0Z2, D1 = Z2Z4), then the data measured.
constexpr const char* kRepHead = R"(
R 0 1 2 3 4
)";
constexpr const char* kRepTail = R"(
CX 0 1 2 3
CX 2 1 4 3
MR 1 3
DETECTOR rec[-2]
DETECTOR rec[-1]
M 0 2 4
DETECTOR rec[-3] rec[-2] rec[-5]
DETECTOR rec[-2] rec[-1] rec[-4]
OBSERVABLE_INCLUDE(0) rec[-1]
)";

TEST(Dem, RepetitionCodeDataErrorsGiveDetectorPairs) {
  // Before the syndrome round: X0 -> D0; X2 -> D0 D1; X4 -> D1 and the observable.
  EXPECT_EQ(dem_of(std::string(kRepHead) + "X_ERROR(0.125) 0 2 4\n" + kRepTail),
            "error(0.125) D0\n"
            "error(0.125) D0 D1\n"
            "error(0.125) D1 L0\n"
            "detector D2\n"
            "detector D3\n");
  // After it (between the syndrome round and the final readout): the final detectors fire.
  const std::string after = std::string(kRepHead) +
                            "CX 0 1 2 3\nCX 2 1 4 3\nMR 1 3\nDETECTOR rec[-2]\nDETECTOR rec[-1]\n"
                            "X_ERROR(0.125) 2\n"
                            "M 0 2 4\nDETECTOR rec[-3] rec[-2] rec[-5]\nDETECTOR rec[-2] rec[-1] rec[-4]\n"
                            "OBSERVABLE_INCLUDE(0) rec[-1]\n";
  EXPECT_EQ(dem_of(after), "error(0.125) D2 D3\ndetector D0\ndetector D1\nlogical_observable L0\n");
  // Z errors on data before Z measurements are invisible: no error lines at all.
  EXPECT_EQ(dem_of(std::string(kRepHead) + "Z_ERROR(0.125) 0 2 4\n" + kRepTail),
            "detector D0\ndetector D1\ndetector D2\ndetector D3\nlogical_observable L0\n");
}

TEST(Dem, IdenticalSymptomsMerge) {
  const auto dem = detector_error_model(parse_stim(
      std::string(kRepHead) + "X_ERROR(0.1) 0\nX_ERROR(0.2) 0\n" + kRepTail, "t.stim"));
  ASSERT_EQ(dem.errors.size(), 1u);
  EXPECT_NEAR(dem.errors[0].probability, 0.1 * 0.8 + 0.2 * 0.9, 1e-15);
  EXPECT_EQ(dem.errors[0].detectors, (std::vector<std::uint64_t>{0}));
  EXPECT_TRUE(dem.errors[0].observables.empty());
  // Different operators, same symptoms: X0 and Y0 before a Z measurement.
  const auto d2 = detector_error_model(parse_stim("X_ERROR(0.1) 0\nY_ERROR(0.3) 0\nM 0\nDETECTOR rec[-1]\n"));
  ASSERT_EQ(d2.errors.size(), 1u);
  EXPECT_NEAR(d2.errors[0].probability, 0.1 * 0.7 + 0.3 * 0.9, 1e-15);
}

TEST(Dem, Depolarize1SplitsIntoXYZ) {
  // Bell pair; D0 = X0X1, D1 = Z0Z1. X0 -> D1, Z0 -> D0, Y0 -> D0 D1.
  const auto dem = detector_error_model(parse_stim(
      "R 0 1\nH 0\nCX 0 1\nDEPOLARIZE1(0.3) 0\nMPP X0*X1 Z0*Z1\nDETECTOR rec[-2]\nDETECTOR rec[-1]\n"));
  ASSERT_EQ(dem.errors.size(), 3u);
  const double q = 0.5 - 0.5 * std::sqrt(1 - 4 * 0.3 / 3);  // independent per-Pauli probability (Stim)
  EXPECT_EQ(dem.errors[0].detectors, (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(dem.errors[1].detectors, (std::vector<std::uint64_t>{0, 1}));
  EXPECT_EQ(dem.errors[2].detectors, (std::vector<std::uint64_t>{1}));
  for (const auto& e : dem.errors) EXPECT_NEAR(e.probability, q, 1e-15);
  // Three independent channels of probability q reproduce DEPOLARIZE1(0.3): the identity comes from
  // none or all three of them (XYZ ~ I), so P(no error) = (1-q)^3 + q^3 = 0.7.
  EXPECT_NEAR((1 - q) * (1 - q) * (1 - q) + q * q * q, 0.7, 1e-12);
}

TEST(Dem, NoisyMeasurementFlipsItsRecord) {
  EXPECT_EQ(dem_of("M(0.01) 0\nDETECTOR rec[-1]\nM 0\nDETECTOR rec[-1] rec[-2]\nOBSERVABLE_INCLUDE(1) rec[-1]\n"),
            "error(0.01) D0 D1\nlogical_observable L0\nlogical_observable L1\n");
  // MR(p): the flip is in the result only, the reset clears the state.
  EXPECT_EQ(dem_of("MR(0.25) 0\nDETECTOR rec[-1]\nM 0\nDETECTOR rec[-1]\n"), "error(0.25) D0\ndetector D1\n");
}

TEST(Dem, CoordinatesWithShiftCoords) {
  const std::string text =
      "X_ERROR(0.25) 0\nM 0\nDETECTOR(1, 2, 0) rec[-1]\nSHIFT_COORDS(0, 0, 1)\n"
      "REPEAT 2 {\n M 0\n DETECTOR(1, 2, 0) rec[-1] rec[-2]\n SHIFT_COORDS(0.5, 0, 1)\n}\n"
      "DETECTOR(3) rec[-1]\nM 0\nDETECTOR rec[-1] rec[-2]\n";
  // Every result reads the flipped qubit: D0 (m0) and D3 (m2) fire, D1, D2 and D4 compare equal ones.
  EXPECT_EQ(dem_of(text),
            "error(0.25) D0 D3\n"
            "detector(1, 2, 0) D0\n"
            "detector(1, 2, 1) D1\n"
            "detector(1.5, 2, 2) D2\n"
            "detector(4) D3\n"
            "detector D4\n");
}

TEST(Dem, RepeatEqualsUnrolled) {
  const std::string body = "CX 0 1 2 3\nCX 2 1 4 3\nDEPOLARIZE2(0.02) 0 1 2 3\nMR(0.01) 1 3\n"
                           "DETECTOR rec[-2] rec[-4]\nDETECTOR rec[-1] rec[-3]\nX_ERROR(0.03) 0 2 4\n";
  const std::string head = "R 0 1 2 3 4\nCX 0 1 2 3\nCX 2 1 4 3\nMR 1 3\nDETECTOR rec[-2]\nDETECTOR rec[-1]\n"
                           "DEPOLARIZE1(0.05) 0 2 4\n";
  const std::string tail = "M 0 2 4\nDETECTOR rec[-3] rec[-2] rec[-5]\nDETECTOR rec[-2] rec[-1] rec[-4]\n"
                           "OBSERVABLE_INCLUDE(0) rec[-1]\n";
  std::string unrolled = head;
  for (int i = 0; i < 3; ++i) unrolled += body;
  const std::string looped = head + "REPEAT 3 {\n" + body + "}\n" + tail;
  EXPECT_EQ(dem_of(looped), dem_of(unrolled + tail));
  EXPECT_NE(dem_of(looped).find("error("), std::string::npos);
}

TEST(Dem, FeedbackAndSppFollowTheCircuit) {
  // CX rec[-1] 1 copies a flip of the first result onto qubit 1.
  EXPECT_EQ(dem_of("X_ERROR(0.125) 0\nM 0\nCX rec[-1] 1\nM 1\nDETECTOR rec[-1]\n"), "error(0.125) D0\n");
  // SPP Z0 is S up to phase: X before it is Y after it (invisible to MY), Z stays Z (flips MY).
  EXPECT_EQ(dem_of("RX 0\nX_ERROR(0.1) 0\nZ_ERROR(0.2) 0\nSPP Z0\nMY 0\nDETECTOR rec[-1]\n"),
            "error(0.2) D0\n");
  EXPECT_EQ(dem_of("RX 0\nX_ERROR(0.1) 0\nZ_ERROR(0.2) 0\nS 0\nMY 0\nDETECTOR rec[-1]\n"), "error(0.2) D0\n");
}

TEST(Dem, Errors) {
  EXPECT_NE(error_of("R 0\nT 0\nM 0\nDETECTOR rec[-1]\n").find("t.stim:2:"), std::string::npos);
  EXPECT_NE(error_of("R 0\nT 0\nM 0\nDETECTOR rec[-1]\n").find("not a Clifford"), std::string::npos);
  EXPECT_NE(error_of("AMPLITUDE_DAMP(0.1) 0\nM 0\n").find("not a Pauli channel"), std::string::npos);
  EXPECT_NE(error_of("HERALDED_ERASE(0.1) 0\nM 0\n").find("t.stim:1:"), std::string::npos);
  EXPECT_NE(error_of("E(0.1) X0\nELSE_CORRELATED_ERROR(0.2) Z0\nM 0\n").find("t.stim:2:"), std::string::npos);
  EXPECT_NE(error_of("M 0\nDETECTOR rec[-2]\n").find("t.stim:2:"), std::string::npos);  // parser's check
  // Non-deterministic detectors: MX of |0>, with and without an explicit reset.
  EXPECT_NE(error_of("R 0\nMX 0\nDETECTOR rec[-1]\n").find("t.stim:1:"), std::string::npos);
  EXPECT_NE(error_of("R 0\nMX 0\nDETECTOR rec[-1]\n").find("non-deterministic"), std::string::npos);
  EXPECT_NE(error_of("MX 0\nDETECTOR rec[-1]\n").find("non-deterministic"), std::string::npos);
  EXPECT_NE(error_of("M 0\nMX 0\nM 0\nDETECTOR rec[-1] rec[-3]\n").find("t.stim:2:"), std::string::npos);
  // A random result nobody reads is fine.
  EXPECT_EQ(error_of("MX 0\nM 0\n"), "");
}

}  // namespace
