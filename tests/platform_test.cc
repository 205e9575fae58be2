// Platform descriptions (models/platform.h): TOML presets and validation, the idle-noise formulas,
// and the pass that inserts a platform's noise into a circuit.
#include "models/platform.h"

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "host/errors.h"
#include "host/parse.h"

namespace {

using qw::models::Platform;

// ---- presets and TOML validation ------------------------------------------------------------

TEST(PlatformPresets, AllLoadAndArePhysical) {
  for (const char* name : {"nv_centre", "trapped_ion", "superconducting", "neutral_atom"}) {
    SCOPED_TRACE(name);
    const Platform p = qw::models::load_platform(name);
    EXPECT_EQ(p.name, name);
    EXPECT_FALSE(p.source.empty());
    EXPECT_GT(p.t1_s, 0);
    EXPECT_LE(p.t2_s, 2 * p.t1_s);
    for (double d : {p.gate1_duration_s, p.gate2_duration_s, p.measure_duration_s,
                     p.reset_duration_s}) {
      EXPECT_GT(d, 0);
    }
    for (double e : {p.gate1_error, p.gate2_error, p.measure_error, p.reset_error}) {
      EXPECT_GT(e, 0);
      EXPECT_LT(e, 0.1);
    }
    EXPECT_LT(p.gate1_error, p.gate2_error);
  }
}

TEST(PlatformPresets, PublishedValuesReadBack) {
  const Platform sc = qw::models::load_platform("superconducting");
  EXPECT_DOUBLE_EQ(sc.t1_s, 68e-6);
  EXPECT_DOUBLE_EQ(sc.gate2_error, 3.3e-3);
  const Platform ion = qw::models::load_platform("trapped_ion");
  EXPECT_TRUE(std::isinf(ion.t1_s));
}

TEST(PlatformPresets, UnknownPresetListsTheKnownOnes) {
  try {
    qw::models::load_platform("graphene");
    FAIL() << "expected InputError";
  } catch (const qw::InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown platform 'graphene'"), std::string::npos) << what;
    EXPECT_NE(what.find("neutral_atom, nv_centre, superconducting, trapped_ion"), std::string::npos)
        << what;
  }
}

const std::vector<std::string> kValidLines = {
    "name = \"test\"",            // line 1
    "source = \"unit test\"",     // line 2
    "t1_s = 1e-3",                // line 3
    "t2_s = 1.5e-3",              // line 4
    "gate1_duration_s = 20e-9",   // line 5
    "gate2_duration_s = 40e-9",   // line 6
    "measure_duration_s = 1",     // line 7 (an integer is a number too)
    "reset_duration_s = 0.5e-6",  // line 8
    "gate1_error = 1e-4",         // line 9
    "gate2_error = 1e-3",         // line 10
    "measure_error = 1e-2",       // line 11
    "reset_error = 0",            // line 12
};

std::string toml_with(int line, const std::string& replacement) {
  std::string text;
  for (int i = 0; i < static_cast<int>(kValidLines.size()); ++i) {
    text += (i + 1 == line ? replacement : kValidLines[static_cast<std::size_t>(i)]) + "\n";
  }
  return text;
}

std::string error_of(const std::string& text) {
  try {
    qw::models::parse_platform(text, "bad.toml");
  } catch (const qw::InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PlatformToml, ValidFileParses) {
  const Platform p = qw::models::parse_platform(toml_with(0, ""), "ok.toml");
  EXPECT_EQ(p.name, "test");
  EXPECT_EQ(p.source, "unit test");
  EXPECT_DOUBLE_EQ(p.t1_s, 1e-3);
  EXPECT_DOUBLE_EQ(p.t2_s, 1.5e-3);
  EXPECT_DOUBLE_EQ(p.measure_duration_s, 1.0);
  EXPECT_DOUBLE_EQ(p.measure_error, 1e-2);
  EXPECT_EQ(p.reset_error, 0.0);
}

TEST(PlatformToml, FromAFileWithItsPath) {
  const auto dir = std::filesystem::path(::testing::TempDir());
  const auto good = (dir / "qweave_platform_good.toml").string();
  const auto bad = (dir / "qweave_platform_bad.toml").string();
  std::ofstream(good) << toml_with(0, "");
  std::ofstream(bad) << toml_with(10, "gate2_error = 2");
  EXPECT_DOUBLE_EQ(qw::models::load_platform(good).gate2_error, 1e-3);
  try {
    qw::models::load_platform(bad);
    FAIL() << "expected InputError";
  } catch (const qw::InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              bad + ":10:15: gate2_error = 2 must be a probability in [0, 1]");
  }
  EXPECT_THROW(qw::models::load_platform((dir / "no_such_platform.toml").string()),
               qw::InputError);
  std::filesystem::remove(good);
  std::filesystem::remove(bad);
}

TEST(PlatformToml, UnknownKeyNamedWithItsPlace) {
  const std::string what = error_of(toml_with(4, "t3_s = 1e-3"));
  EXPECT_EQ(what.rfind("bad.toml:4:1: unknown key 't3_s' (platform keys: name, source, t1_s,", 0),
            0u)
      << what;
}

TEST(PlatformToml, UnknownTableIsAnUnknownKey) {
  EXPECT_EQ(error_of(toml_with(0, "") + "[extra]\nx = 1\n").rfind("bad.toml:13:", 0), 0u);
}

TEST(PlatformToml, WrongTypeNamedWithItsPlace) {
  EXPECT_EQ(error_of(toml_with(3, "t1_s = \"long\"")),
            "bad.toml:3:8: t1_s must be a number, got a string");
  EXPECT_EQ(error_of(toml_with(1, "name = 3")),
            "bad.toml:1:8: name must be a string, got an integer");
  EXPECT_EQ(error_of(toml_with(9, "gate1_error = true")),
            "bad.toml:9:15: gate1_error must be a number, got a boolean");
}

TEST(PlatformToml, T2BeyondTwiceT1Rejected) {
  EXPECT_EQ(error_of(toml_with(4, "t2_s = 3e-3")),
            "bad.toml:4:8: t2_s = 0.003 exceeds 2*t1_s = 0.002 (T2 <= 2 T1 for any qubit)");
  // Exactly 2 T1 (no pure dephasing) is allowed.
  EXPECT_DOUBLE_EQ(qw::models::parse_platform(toml_with(4, "t2_s = 2e-3"), "x.toml").t2_s, 2e-3);
}

TEST(PlatformToml, ProbabilityOutOfRangeRejected) {
  EXPECT_EQ(error_of(toml_with(11, "measure_error = 1.5")),
            "bad.toml:11:17: measure_error = 1.5 must be a probability in [0, 1]");
  EXPECT_EQ(error_of(toml_with(12, "reset_error = -0.1")),
            "bad.toml:12:15: reset_error = -0.1 must be a probability in [0, 1]");
}

TEST(PlatformToml, NegativeDurationAndBadTimesRejected) {
  EXPECT_EQ(error_of(toml_with(6, "gate2_duration_s = -4e-8")),
            "bad.toml:6:20: gate2_duration_s = -4e-08 is negative; durations are in seconds, >= 0");
  EXPECT_EQ(error_of(toml_with(3, "t1_s = 0")).rfind("bad.toml:3:8: t1_s = 0 must be > 0", 0), 0u);
  EXPECT_EQ(error_of(toml_with(5, "gate1_duration_s = nan")).rfind("bad.toml:5:20:", 0), 0u);
}

TEST(PlatformToml, MissingKeysAllNamed) {
  std::string text;
  for (std::size_t i = 0; i < kValidLines.size(); ++i) {
    if (i != 2 && i != 8) text += kValidLines[i] + "\n";  // drop t1_s and gate1_error
  }
  EXPECT_EQ(error_of(text), "bad.toml: missing required platform keys: t1_s, gate1_error");
}

TEST(PlatformToml, SyntaxErrorHasAPlace) {
  EXPECT_EQ(error_of(toml_with(7, "measure_duration_s = = 1")).rfind("bad.toml:7:", 0), 0u);
}

TEST(PlatformToml, InfiniteCoherenceAllowed) {
  const Platform p = qw::models::parse_platform(toml_with(3, "t1_s = inf"), "x.toml");
  EXPECT_TRUE(std::isinf(p.t1_s));
  EXPECT_EQ(error_of(toml_with(5, "gate1_duration_s = inf")),
            "bad.toml:5:20: gate1_duration_s = inf must be finite");
}

// ---- idle channels -------------------------------------------------------------------------

using Mat2 = std::array<std::array<double, 2>, 2>;  // all matrices here are real

Mat2 mul(const Mat2& a, const Mat2& b) {
  Mat2 c{};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) c[i][j] += a[i][k] * b[k][j];
  return c;
}
Mat2 transpose(const Mat2& a) { return {{{a[0][0], a[1][0]}, {a[0][1], a[1][1]}}}; }

// rho -> sum_k K rho K^T (real Kraus operators).
Mat2 apply_channel(const std::vector<Mat2>& kraus, const Mat2& rho) {
  Mat2 out{};
  for (const auto& k : kraus) {
    const Mat2 term = mul(mul(k, rho), transpose(k));
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) out[i][j] += term[i][j];
  }
  return out;
}

TEST(PlatformIdle, ZeroTimeIsNoNoise) {
  EXPECT_EQ(qw::models::idle_amplitude_damping(0, 1e-4), 0.0);
  EXPECT_EQ(qw::models::idle_phase_damping(0, 1e-4, 1.5e-4), 0.0);
}

TEST(PlatformIdle, AmplitudeThenPhaseDampingGiveT1AndT2) {
  const double inf = std::numeric_limits<double>::infinity();
  struct Case { double t, t1, t2; };
  for (const Case& c : {Case{1e-6, 68e-6, 89e-6}, Case{50e-6, 68e-6, 89e-6}, Case{0.3, 1.0, 0.2},
                        Case{2.0, 1.0, 2.0}, Case{0.5, inf, 1.0}, Case{1.0, inf, inf}}) {
    SCOPED_TRACE(fmt::format("t={} T1={} T2={}", c.t, c.t1, c.t2));
    const double g = qw::models::idle_amplitude_damping(c.t, c.t1);
    const double l = qw::models::idle_phase_damping(c.t, c.t1, c.t2);
    ASSERT_GE(g, 0);
    ASSERT_LE(g, 1);
    ASSERT_GE(l, 0);
    ASSERT_LE(l, 1);
    const std::vector<Mat2> ad = {{{{1, 0}, {0, std::sqrt(1 - g)}}}, {{{0, std::sqrt(g)}, {0, 0}}}};
    const std::vector<Mat2> pd = {{{{1, 0}, {0, std::sqrt(1 - l)}}}, {{{0, 0}, {0, std::sqrt(l)}}}};
    const Mat2 plus = {{{0.5, 0.5}, {0.5, 0.5}}};
    const Mat2 rho = apply_channel(pd, apply_channel(ad, plus));
    EXPECT_NEAR(rho[0][0] + rho[1][1], 1.0, 1e-15);
    EXPECT_NEAR(rho[1][1], 0.5 * std::exp(-c.t / c.t1), 1e-15);  // T1: population of |1>
    EXPECT_NEAR(std::abs(rho[0][1]), 0.5 * std::exp(-c.t / c.t2), 1e-15);  // T2: coherence
    EXPECT_NEAR(std::abs(rho[1][0]), 0.5 * std::exp(-c.t / c.t2), 1e-15);
  }
}

TEST(PlatformIdle, NoPureDephasingAtTwiceT1) {
  EXPECT_EQ(qw::models::idle_phase_damping(3.0, 1.0, 2.0), 0.0);
}

TEST(PlatformIdle, ShortIdlesStayAccurate) {
  // gamma ~ t/T1 for t << T1, without cancellation in 1 - exp(-x).
  EXPECT_NEAR(qw::models::idle_amplitude_damping(1e-12, 1.0) / 1e-12, 1.0, 1e-9);
}

TEST(PlatformIdle, UnphysicalArgumentsThrow) {
  EXPECT_THROW(qw::models::idle_amplitude_damping(-1, 1), std::invalid_argument);
  EXPECT_THROW(qw::models::idle_phase_damping(1, 1, 3), std::invalid_argument);
  EXPECT_THROW(qw::models::idle_phase_damping(1, 0, 1), std::invalid_argument);
}

// ---- noise insertion -------------------------------------------------------------------------

// Durations are binary fractions so that idle times are exact and the expected text is unambiguous.
Platform test_platform() {
  Platform p;
  p.name = "test";
  p.t1_s = 100;
  p.t2_s = 150;
  p.gate1_duration_s = 0.25;
  p.gate2_duration_s = 1.0;
  p.measure_duration_s = 2.0;
  p.reset_duration_s = 0.5;
  p.gate1_error = 0.001;
  p.gate2_error = 0.01;
  p.measure_error = 0.02;
  p.reset_error = 0.005;
  return p;
}

// The idle channels for t seconds on `qubits`, as add_platform_noise writes them.
std::string idle(double t, const std::string& qubits, const std::string& pad = "") {
  const Platform p = test_platform();
  return fmt::format("{}AMPLITUDE_DAMP({}) {}\n{}PHASE_DAMP({}) {}\n", pad,
                     qw::models::idle_amplitude_damping(t, p.t1_s), qubits, pad,
                     qw::models::idle_phase_damping(t, p.t1_s, p.t2_s), qubits);
}

std::string noisy(const std::string& stim) {
  return qw::models::add_platform_noise(qw::parse_stim(stim), test_platform()).str();
}

TEST(PlatformNoise, GateMeasureResetAndIdleNoiseInALayeredCircuit) {
  const std::string in =
      "H 0\n"
      "CX 1 2\n"
      "TICK\n"
      "M 0 1\n"
      "R 2\n"
      "TICK\n";
  const std::string expected =
      "H 0\n"
      "DEPOLARIZE1(0.001) 0\n"
      "CX 1 2\n"
      "DEPOLARIZE2(0.01) 1 2\n" +
      idle(0.75, "0") +  // H takes 0.25 of the layer's 1.0
      "TICK\n"
      "M(0.02) 0 1\n"
      "R 2\n"
      "X_ERROR(0.005) 2\n" +
      idle(1.5, "2") +  // reset 0.5 of the measurement's 2.0
      "TICK\n";
  EXPECT_EQ(noisy(in), expected);
  // The output is a valid circuit.
  EXPECT_EQ(qw::parse_stim(expected).str(), expected);
}

TEST(PlatformNoise, UntouchedQubitsIdleForTheWholeLayer) {
  EXPECT_EQ(noisy("H 0\nTICK\nCX 0 2\nTICK\n"),
            "H 0\nDEPOLARIZE1(0.001) 0\n" + idle(0.25, "1 2") +
                "TICK\nCX 0 2\nDEPOLARIZE2(0.01) 0 2\n" + idle(1.0, "1") + "TICK\n");
}

TEST(PlatformNoise, RepeatBodyTransformedAndKept) {
  const std::string in =
      "R 0 1\n"
      "TICK\n"
      "REPEAT 3 {\n"
      "    CX 0 1\n"
      "    TICK\n"
      "    M(0.01) 1\n"
      "    DETECTOR rec[-1]\n"
      "    TICK\n"
      "}\n";
  const double p1 = 0.01, p2 = 0.02;
  const double combined = p1 + p2 - 2 * p1 * p2;
  EXPECT_NEAR(combined, 0.0296, 1e-15);
  const std::string expected =
      "R 0 1\n"
      "X_ERROR(0.005) 0 1\n"
      "TICK\n"
      "REPEAT 3 {\n"
      "    CX 0 1\n"
      "    DEPOLARIZE2(0.01) 0 1\n"
      "    TICK\n" +
      fmt::format("    M({}) 1\n", combined) +
      "    DETECTOR rec[-1]\n" + idle(2.0, "0", "    ") +
      "    TICK\n"
      "}\n";
  EXPECT_EQ(noisy(in), expected);
}

TEST(PlatformNoise, ExistingNoiseAndAnnotationsKept) {
  const std::string in =
      "QUBIT_COORDS(0, 0) 0\n"
      "X_ERROR(0.1) 0\n"
      "AMPLITUDE_DAMP(0.2) 1\n"
      "H 0\n"
      "DEPOLARIZE1(0.3) 0\n"
      "TICK\n";
  EXPECT_EQ(noisy(in),
            "QUBIT_COORDS(0, 0) 0\n"
            "X_ERROR(0.1) 0\n"
            "AMPLITUDE_DAMP(0.2) 1\n"
            "H 0\n"
            "DEPOLARIZE1(0.001) 0\n"
            "DEPOLARIZE1(0.3) 0\n" +
                idle(0.25, "1") + "TICK\n");
}

TEST(PlatformNoise, NoiselessPlatformChangesNothing) {
  Platform p = test_platform();
  p.gate1_error = p.gate2_error = p.measure_error = p.reset_error = 0;
  p.t1_s = p.t2_s = std::numeric_limits<double>::infinity();
  const auto c = qw::parse_stim(
      "R 0 1 2\nTICK\nH 0\nCX 1 2\nTICK\nREPEAT 2 {\n    MPP X0*Z1\n    M(0.1) 2\n"
      "    DETECTOR rec[-1]\n    TICK\n}\nMR 0\n");
  EXPECT_EQ(qw::models::add_platform_noise(c, p).str(), c.str());
}

TEST(PlatformNoise, QubitsWaitForEachOtherWithoutTicks) {
  // One layer, scheduled as soon as possible: qubit 1 waits for H on qubit 0 before the CX.
  EXPECT_EQ(noisy("H 0\nCX 0 1\nM 0 1\n"),
            "H 0\nDEPOLARIZE1(0.001) 0\n" + idle(0.25, "1") +
                "CX 0 1\nDEPOLARIZE2(0.01) 0 1\nM(0.02) 0 1\n");
}

TEST(PlatformNoise, BroadcastSplitWhereAQubitRepeats) {
  EXPECT_EQ(noisy("CX 0 1 1 2\n"),
            "CX 0 1\nDEPOLARIZE2(0.01) 0 1\n" + idle(1.0, "2") +
                "CX 1 2\nDEPOLARIZE2(0.01) 1 2\n" + idle(1.0, "0"));
}

TEST(PlatformNoise, ThreeQubitGateChargedAsAChainOfPairs) {
  // CCX on 3 qubits: DEPOLARIZE2 on (0,1) and (1,2), duration 2 x gate2.
  EXPECT_EQ(noisy("CCX 0 1 2\nH 3\nTICK\n"),
            "CCX 0 1 2\nDEPOLARIZE2(0.01) 0 1 1 2\nH 3\nDEPOLARIZE1(0.001) 3\n" +
                idle(1.75, "3") + "TICK\n");
}

TEST(PlatformNoise, FeedbackWaitsForTheMeasurement) {
  EXPECT_EQ(noisy("M 0\nCX rec[-1] 1\n"),
            "M(0.02) 0\n" + idle(2.0, "1") + "CX rec[-1] 1\nDEPOLARIZE1(0.001) 1\n" +
                idle(0.25, "0"));
}

TEST(PlatformNoise, ResetFlipsInTheResetBasis) {
  EXPECT_EQ(noisy("MRX 0\nRY 1\n"),
            "MRX(0.02) 0\nZ_ERROR(0.005) 0\nRY 1\nX_ERROR(0.005) 1\n" + idle(2.0, "1"));
}

TEST(PlatformNoise, WaitsAndIdleInstructionsBecomeIdleChannels) {
  // I is a wait of one single-qubit gate; IDLE(t) is replaced by the channels for t.
  EXPECT_EQ(noisy("I 0\nIDLE(0.5) 1\nTICK\n"), "I 0\n" + idle(0.25, "0") + idle(0.5, "1") +
                                                   idle(0.25, "0") + "TICK\n");
}

TEST(PlatformNoise, MeasurementArgumentsCombine) {
  // Two independent flips with p1 and p2 flip the result with p1 + p2 - 2 p1 p2.
  Platform p = test_platform();
  p.measure_error = 0.5;
  EXPECT_EQ(qw::models::add_platform_noise(qw::parse_stim("M(0.25) 0\n"), p).str(), "M(0.5) 0\n");
  p.measure_error = 0.1;
  EXPECT_EQ(qw::models::add_platform_noise(qw::parse_stim("MZZ(0.2) 0 1\n"), p).str(),
            fmt::format("MZZ({}) 0 1\n", 0.2 + 0.1 - 2 * 0.2 * 0.1));
}

TEST(PlatformNoise, UnphysicalPlatformBuiltInCodeRejected) {
  Platform p = test_platform();
  p.t2_s = 3 * p.t1_s;
  EXPECT_THROW(qw::models::add_platform_noise(qw::parse_stim("H 0\n"), p), std::invalid_argument);
}

}  // namespace
