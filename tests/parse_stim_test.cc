// Tests of the Stim-format reader through its public interface (parse_stim, Circuit, str()).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "host/circuit.h"
#include "host/errors.h"
#include "host/gates.h"
#include "host/parse.h"

namespace qw {
namespace {

std::vector<Target> targets_of(const Circuit& c, std::size_t k) {
  const auto ts = c.targets(c.instructions()[k]);
  return {ts.begin(), ts.end()};
}
std::vector<double> args_of(const Circuit& c, std::size_t k) {
  const auto as = c.args(c.instructions()[k]);
  return {as.begin(), as.end()};
}
GateId gate_of(const Circuit& c, std::size_t k) { return c.instructions()[k].gate; }

// The message parse_stim throws for `text`, or "" when it parses.
std::string error_of(const std::string& text) {
  try {
    parse_stim(text, "c.stim");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ParseStim, QubitAndInvertedTargets) {
  const Circuit c = parse_stim("H 0 5\nM 0 !1 2\n");
  ASSERT_EQ(c.instructions().size(), 2u);
  EXPECT_EQ(gate_of(c, 0), GateId::H);
  EXPECT_EQ(targets_of(c, 0), (std::vector<Target>{Target::qubit(0), Target::qubit(5)}));
  EXPECT_EQ(gate_of(c, 1), GateId::M);
  EXPECT_EQ(targets_of(c, 1),
            (std::vector<Target>{Target::qubit(0), Target::qubit(1, true), Target::qubit(2)}));
  EXPECT_EQ(c.num_qubits(), 6u);
  EXPECT_EQ(c.num_measurements(), 3u);
}

TEST(ParseStim, RecAndSweepControls) {
  const Circuit c = parse_stim("M 0 1\nCX rec[-1] 2 sweep[7] 3\nCZ 4 rec[-2]\nXCZ 5 rec[-1]\n");
  EXPECT_EQ(targets_of(c, 1), (std::vector<Target>{Target::rec(1), Target::qubit(2), Target::sweep(7),
                                                   Target::qubit(3)}));
  EXPECT_EQ(targets_of(c, 2), (std::vector<Target>{Target::qubit(4), Target::rec(2)}));
  EXPECT_EQ(targets_of(c, 3), (std::vector<Target>{Target::qubit(5), Target::rec(1)}));
}

TEST(ParseStim, PauliProductsWithCombiners) {
  // '*' with and without spaces, lowercase Paulis, inverted products.
  const Circuit c = parse_stim("MPP X0*Y1 !z2 * Z3 x4\n");
  const std::vector<Target> want{Target::pauli('X', 0), Target::combiner(), Target::pauli('Y', 1),
                                 Target::pauli('Z', 2, true), Target::combiner(), Target::pauli('Z', 3),
                                 Target::pauli('X', 4)};
  EXPECT_EQ(targets_of(c, 0), want);
  EXPECT_EQ(c.num_measurements(), 3u);  // X0*Y1, !Z2*Z3, X4
  EXPECT_EQ(c.str(), "MPP X0*Y1 !Z2*Z3 X4\n");
}

TEST(ParseStim, MpadValues) {
  const Circuit c = parse_stim("MPAD 0 1 1\n");
  EXPECT_EQ(targets_of(c, 0), (std::vector<Target>{Target::qubit(0), Target::qubit(1), Target::qubit(1)}));
  EXPECT_EQ(c.num_measurements(), 3u);
  EXPECT_EQ(c.num_qubits(), 0u);  // values, not qubits
}

TEST(ParseStim, AliasesAndCase) {
  const Circuit c = parse_stim("CNOT 0 1\nZCX 0 1\ncx 0 1\nH_XZ 0\nMZ 0\nSQRT_Z 0\nsqrt_z_dag 0\nmrz 0\n");
  const std::vector<GateId> want{GateId::CX, GateId::CX, GateId::CX, GateId::H,
                                 GateId::M,  GateId::S,  GateId::S_DAG, GateId::MR};
  ASSERT_EQ(c.instructions().size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) EXPECT_EQ(gate_of(c, k), want[k]) << "instruction " << k;
}

TEST(ParseStim, ResetVersusRotation) {
  const Circuit c = parse_stim("RX 0\nRX(0.3) 1\nRY 0\nRY(-0.25) 0\nRZ 0\nRZ(.5) 0\nR 0\n");
  const std::vector<GateId> want{GateId::RX, GateId::ROT_X, GateId::RY, GateId::ROT_Y,
                                 GateId::R,  GateId::ROT_Z, GateId::R};
  ASSERT_EQ(c.instructions().size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) EXPECT_EQ(gate_of(c, k), want[k]) << "instruction " << k;
  EXPECT_EQ(args_of(c, 1), std::vector<double>{0.3});
  EXPECT_EQ(args_of(c, 3), std::vector<double>{-0.25});
  EXPECT_EQ(args_of(c, 5), std::vector<double>{0.5});
  EXPECT_EQ(gate_info(gate_of(c, 0)).kind, GateKind::Collapse);
  EXPECT_EQ(gate_info(gate_of(c, 1)).kind, GateKind::Unitary);
}

TEST(ParseStim, ArgumentNumberForms) {
  const Circuit c = parse_stim("DETECTOR(1e-3, .5, -0.25, +2, 3E2, 0) \n");
  EXPECT_EQ(args_of(c, 0), (std::vector<double>{1e-3, 0.5, -0.25, 2, 300, 0}));
  EXPECT_TRUE(targets_of(c, 0).empty());
}

TEST(ParseStim, NoiseAndAnnotationsStoredAsWritten) {
  const Circuit c = parse_stim(
      "X_ERROR(0.1) 0 1\n"
      "PAULI_CHANNEL_1(0.1, 0.2, 0.3) 0\n"
      "E(0.01) X0 Y1 Z2\n"
      "ELSE_CORRELATED_ERROR(0.02) Z0\n"
      "HERALDED_ERASE(0.05) 3\n"
      "AMPLITUDE_DAMP(0.2) 0\n"
      "QUBIT_COORDS(0, 1) 3\n"
      "SHIFT_COORDS(0, 0, 1)\n"
      "TICK\n"
      "M 0\n"
      "OBSERVABLE_INCLUDE(2) rec[-1] X3\n");
  EXPECT_EQ(gate_of(c, 2), GateId::CORRELATED_ERROR);
  EXPECT_EQ(targets_of(c, 2),
            (std::vector<Target>{Target::pauli('X', 0), Target::pauli('Y', 1), Target::pauli('Z', 2)}));
  EXPECT_EQ(args_of(c, 1), (std::vector<double>{0.1, 0.2, 0.3}));
  EXPECT_EQ(gate_of(c, 8), GateId::TICK);
  EXPECT_EQ(targets_of(c, 10), (std::vector<Target>{Target::rec(1), Target::pauli('X', 3)}));
  EXPECT_EQ(c.num_measurements(), 2u);  // the herald and M
  EXPECT_EQ(c.num_observables(), 3u);
  EXPECT_TRUE(c.has_kind(GateKind::Noise));
}

TEST(ParseStim, CommentsBlankLinesAndSourceLocations) {
  const std::string text = "# header\n\n  H 0  # trailing\n\tCX 0 1\r\n";
  const Circuit c = parse_stim(text, "x.stim");
  ASSERT_EQ(c.instructions().size(), 2u);
  EXPECT_EQ(c.instructions()[0].where.line, 3u);
  EXPECT_EQ(c.instructions()[0].where.column, 3u);
  EXPECT_EQ(c.instructions()[1].where.line, 4u);
  EXPECT_EQ(c.instructions()[1].where.column, 2u);
  EXPECT_EQ(c.source_name, "x.stim");
  EXPECT_EQ(c.source_text, text);
}

TEST(ParseStim, RepeatNestingAndMeasurementCount) {
  const Circuit c = parse_stim(
      "M 0\n"
      "REPEAT 3 {\n"
      "    M 0 1\n"
      "    REPEAT 4 {\n"
      "        MR 2\n"
      "        DETECTOR rec[-1] rec[-2]\n"
      "    }\n"
      "}\n"
      "M 5\n");
  ASSERT_EQ(c.instructions().size(), 3u);
  const Instruction& outer = c.instructions()[1];
  EXPECT_EQ(outer.gate, GateId::REPEAT);
  EXPECT_EQ(outer.repeat_count, 3u);
  const Circuit& body = c.block(outer);
  ASSERT_EQ(body.instructions().size(), 2u);
  EXPECT_EQ(body.instructions()[1].repeat_count, 4u);
  EXPECT_EQ(body.block(body.instructions()[1]).instructions().size(), 2u);
  EXPECT_EQ(c.num_measurements(), 1u + 3u * (2u + 4u * 1u) + 1u);
  EXPECT_EQ(c.num_detectors(), 12u);
}

TEST(ParseStim, RecLookbackInsideRepeatMayReachResultsBeforeTheBlock) {
  const Circuit c = parse_stim("M 0 1\nREPEAT 5 {\n  M 2\n  DETECTOR rec[-1] rec[-3]\n}\n");
  EXPECT_EQ(c.num_detectors(), 5u);
  EXPECT_NE(error_of("M 0\nREPEAT 5 {\n  M 2\n  DETECTOR rec[-3]\n}\n"), "");
}

TEST(ParseStim, RepeatNestedToTheLimitParses) {
  std::string text;
  for (int k = 0; k < 64; ++k) text += "REPEAT 2 {\n";
  text += "M 0\n";
  for (int k = 0; k < 64; ++k) text += "}\n";
  const Circuit c = parse_stim(text);
  EXPECT_EQ(c.num_measurements(), 0u);  // 2^64 wraps; the structure is what matters here
  const Circuit* level = &c;
  int depth = 0;
  while (!level->instructions().empty() && level->instructions()[0].gate == GateId::REPEAT) {
    level = &level->block(level->instructions()[0]);
    ++depth;
  }
  EXPECT_EQ(depth, 64);
}

TEST(ParseStim, InstructionTagsAreAcceptedAndDropped) {
  const Circuit c = parse_stim("X_ERROR[drift](0.1) 0\nTICK[100ns]\n");
  EXPECT_EQ(c.str(), "X_ERROR(0.1) 0\nTICK\n");
}

const char* const kRichCircuit =
    "QUBIT_COORDS(0, 0) 0\n"
    "QUBIT_COORDS(1, 0) 1\n"
    "R 0 1 2 3\n"
    "RX 4\n"
    "H 0\n"
    "CX 0 1 2 3\n"
    "T 0\n"
    "T_DAG 1\n"
    "RX(0.125) 2\n"
    "RZ(-1.5) 3\n"
    "U3(0.1, 0.2, 0.3) 0\n"
    "P(0.7) 1\n"
    "RZZ(0.4) 0 1\n"
    "CU(1, 2, 3, 4) 0 1\n"
    "CCX 0 1 2\n"
    "C4X 0 1 2 3 4\n"
    "DEPOLARIZE2(0.001) 0 1\n"
    "PAULI_CHANNEL_2(0.01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.02) 2 3\n"
    "I_ERROR 0\n"
    "IDLE(2.5e-06) 1\n"
    "PHASE_DAMP(0.3) 2\n"
    "TICK\n"
    "M(0.01) 0 !1\n"
    "MPP X0*Y1*Z2 !Z3\n"
    "MXX 0 1\n"
    "MPAD 1\n"
    "SPP_DAG !X0*Z1\n"
    "REPEAT 10 {\n"
    "    MR 2\n"
    "    CX rec[-1] 3\n"
    "    CY sweep[2] 1\n"
    "    REPEAT 2 {\n"
    "        HERALDED_PAULI_CHANNEL_1(0.1, 0.1, 0.1, 0.1) 0\n"
    "        DETECTOR(1, 2, 3) rec[-1] rec[-2]\n"
    "    }\n"
    "    SHIFT_COORDS(0, 0, 1)\n"
    "}\n"
    "E(0.1) X0 Z1\n"
    "ELSE_CORRELATED_ERROR(0.2) Y2\n"
    "OBSERVABLE_INCLUDE(1) rec[-1] Z0\n";

TEST(ParseStim, RichCircuitRoundTripsThroughStr) {
  const Circuit c = parse_stim(kRichCircuit);
  EXPECT_EQ(c.str(), kRichCircuit);  // written in canonical form, so str() reproduces it
  const Circuit again = parse_stim(c.str());
  EXPECT_EQ(again, c);
  EXPECT_EQ(again.str(), c.str());
  EXPECT_EQ(c.num_measurements(), 2u + 2u + 1u + 1u + 10u * (1u + 2u * 1u));
}

TEST(ParseStim, NonCanonicalSpellingRoundTripsAfterOneWrite) {
  const Circuit c = parse_stim(
      "cnot 0 1\nmz !0\nrz 1\nrz(1e-3) 2\nMPP x0 * y1\nH_XZ 3\nX_ERROR(.25) 4\nREPEAT 2{\n  h 0\n  }\n");
  EXPECT_EQ(c.str(),
            "CX 0 1\nM !0\nR 1\nRZ(0.001) 2\nMPP X0*Y1\nH 3\nX_ERROR(0.25) 4\nREPEAT 2 {\n    H 0\n}\n");
  EXPECT_EQ(parse_stim(c.str()), c);
}

TEST(ParseStim, ArgumentsSurviveRoundTripBitExactly) {
  const Circuit c = parse_stim("RX(0.1) 0\nRY(3.141592653589793) 0\nDETECTOR(1e+20, -0, 5e-324) \n");
  const Circuit again = parse_stim(c.str());
  EXPECT_EQ(again, c);
  EXPECT_EQ(args_of(again, 1), std::vector<double>{3.141592653589793});
}

// ---- errors: exact "file:line:col: message" -----------------------------------------------

struct ErrorCase {
  const char* text;
  const char* message;
};

void PrintTo(const ErrorCase& ec, std::ostream* os) { *os << ::testing::PrintToString(std::string(ec.text)); }

class ParseStimError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseStimError, ThrowsInputErrorWithLocation) {
  const ErrorCase& ec = GetParam();
  EXPECT_THROW(parse_stim(ec.text, "c.stim"), InputError);
  EXPECT_EQ(error_of(ec.text), ec.message);
}

INSTANTIATE_TEST_SUITE_P(
    Messages, ParseStimError,
    ::testing::Values(
        ErrorCase{"H 0\nCX 0 1 2\n", "c.stim:2:8: CX needs an even number of targets, got 3"},
        ErrorCase{"CCX 0 1 2 3\n", "c.stim:1:11: CCX needs a multiple of 3 targets, got 4"},
        ErrorCase{"FROB 0\n", "c.stim:1:1: unknown instruction 'FROB'"},
        ErrorCase{"X_ERROR 0\n", "c.stim:1:1: X_ERROR takes 1 argument, got 0"},
        ErrorCase{"H(0.1) 0\n", "c.stim:1:2: H takes no arguments, got 1"},
        ErrorCase{"M(0.1, 0.2) 0\n", "c.stim:1:2: M takes 0 to 1 arguments, got 2"},
        ErrorCase{"RX(1, 2) 0\n", "c.stim:1:3: RX takes 1 argument, got 2"},
        ErrorCase{"M 0\nH rec[-1]\n", "c.stim:2:3: H does not take rec[-k] targets, got 'rec[-1]'"},
        ErrorCase{"M 0\nCX 1 rec[-1]\n", "c.stim:2:6: CX takes rec[-1] only as the control (first of a pair)"},
        ErrorCase{"M 0\nXCZ rec[-1] 1\n", "c.stim:2:5: XCZ takes rec[-1] only as the control (second of a pair)"},
        ErrorCase{"M 0 1\nCZ rec[-1] rec[-2]\n",
                  "c.stim:2:12: CZ needs a qubit in each pair; both rec[-1] and rec[-2] are classical bits"},
        ErrorCase{"M 0\nDETECTOR rec[-2]\n",
                  "c.stim:2:10: rec[-2] reaches before the start of the measurement record (1 result so far)"},
        ErrorCase{"M 0\nREPEAT 3 {\n  DETECTOR rec[-1] rec[-2]\n}\n",
                  "c.stim:3:20: rec[-2] reaches before the start of the measurement record (1 result so far)"},
        ErrorCase{"M 0\nDETECTOR rec[-0]\n",
                  "c.stim:2:10: rec[-0] is not a measurement result; use rec[-k] with k >= 1"},
        ErrorCase{"CX 0 0\n", "c.stim:1:6: CX acts on qubit 0 twice in one application"},
        ErrorCase{"DEPOLARIZE2(0.1) 3 1 2 2\n", "c.stim:1:24: DEPOLARIZE2 acts on qubit 2 twice in one application"},
        ErrorCase{"H 1x\n", "c.stim:1:3: invalid target '1x'"},
        ErrorCase{"H -1\n", "c.stim:1:3: invalid target '-1'"},
        ErrorCase{"H 16777216\n", "c.stim:1:3: qubit '16777216' is too large (at most 16777215)"},
        ErrorCase{"X_ERROR(1.5) 0\n", "c.stim:1:9: X_ERROR probability must be in [0, 1], got 1.5"},
        ErrorCase{"Z_ERROR(-0.1) 0\n", "c.stim:1:9: Z_ERROR probability must be in [0, 1], got -0.1"},
        ErrorCase{"PAULI_CHANNEL_1(0.5, 0.4, 0.2) 0\n",
                  "c.stim:1:17: PAULI_CHANNEL_1 probabilities must sum to at most 1, got 1.1"},
        ErrorCase{"M(2) 0\n", "c.stim:1:3: M result flip probability must be in [0, 1], got 2"},
        ErrorCase{"X_ERROR(inf) 0\n", "c.stim:1:9: expected a finite number, got 'inf'"},
        ErrorCase{"X_ERROR(nan) 0\n", "c.stim:1:9: expected a finite number, got 'nan'"},
        ErrorCase{"X_ERROR(0.1.2) 0\n", "c.stim:1:9: expected a finite number, got '0.1.2'"},
        ErrorCase{"X_ERROR(1e999) 0\n", "c.stim:1:9: number out of range: '1e999'"},
        ErrorCase{"X_ERROR(0.1\n", "c.stim:1:8: missing ')' after the arguments"},
        ErrorCase{"X_ERROR(0.1 0\n", "c.stim:1:13: expected ',' or ')' in the arguments, got '0'"},
        ErrorCase{"X_ERROR(0.1,) 0\n", "c.stim:1:13: expected a number, got ')'"},
        ErrorCase{"TICK 0\n", "c.stim:1:6: TICK takes no targets"},
        ErrorCase{"SHIFT_COORDS(1) 2\n", "c.stim:1:17: SHIFT_COORDS takes no targets"},
        ErrorCase{"H !0\n", "c.stim:1:3: H does not take inverted targets, got '!0'"},
        ErrorCase{"H X0\n", "c.stim:1:3: H takes qubit targets, not Pauli targets like 'X0'"},
        ErrorCase{"MPP 0\n", "c.stim:1:5: MPP takes Pauli targets like X0, got '0'"},
        ErrorCase{"MPP X0**Y1\n", "c.stim:1:7: '*' must join two Pauli targets, as in X0*Z1"},
        ErrorCase{"MPP X0 *\n", "c.stim:1:8: '*' must join two Pauli targets, as in X0*Z1"},
        ErrorCase{"E(0.1) X0*Z1\n", "c.stim:1:10: E does not take '*' combiners"},
        ErrorCase{"DETECTOR 0\n", "c.stim:1:10: DETECTOR takes rec[-k] targets, got '0'"},
        ErrorCase{"DETECTOR sweep[0]\n", "c.stim:1:10: DETECTOR does not take sweep[k] targets, got 'sweep[0]'"},
        ErrorCase{"OBSERVABLE_INCLUDE(0.5) X0\n",
                  "c.stim:1:20: OBSERVABLE_INCLUDE index must be an integer in [0, 16777215], got 0.5"},
        ErrorCase{"MPAD 2\n", "c.stim:1:6: MPAD targets are the values 0 or 1, got '2'"},
        ErrorCase{"REPEAT 0 {\n  H 0\n}\n", "c.stim:1:8: REPEAT 0 is not allowed (the block would never run)"},
        ErrorCase{"REPEAT 3\nH 0\n}\n", "c.stim:1:9: REPEAT needs '{' at the end of its line"},
        ErrorCase{"REPEAT {\n}\n", "c.stim:1:8: REPEAT needs a repetition count, as in 'REPEAT 10 {'"},
        ErrorCase{"REPEAT 2 {\n  H 0\n", "c.stim:1:1: REPEAT block is never closed: expected '}'"},
        ErrorCase{"H 0\n}\n", "c.stim:2:1: '}' without a matching 'REPEAT ... {'"},
        ErrorCase{"REPEAT 2 {\n  H 0\n} H 1\n", "c.stim:3:3: unexpected text after '}': 'H 1'"},
        ErrorCase{"REPEAT 2 { H 0\n}\n", "c.stim:1:12: unexpected text after '{': 'H 0'"},
        ErrorCase{"3 0\n", "c.stim:1:1: expected an instruction name, got '3 0'"},
        ErrorCase{"H\x01 0\n", "c.stim:1:2: unexpected character '\\x01' after the instruction name 'H'"}));

TEST(ParseStim, RepeatNestedTooDeeplyIsAnError) {
  std::string text;
  for (int k = 0; k < 65; ++k) text += "REPEAT 2 {\n";
  EXPECT_EQ(error_of(text), "c.stim:65:1: REPEAT blocks nested too deeply (at most 64 levels)");
}

TEST(ParseStim, MppMayRepeatAQubitInOneProduct) {
  const Circuit c = parse_stim("MPP X0*Z0\n");
  EXPECT_EQ(c.num_measurements(), 1u);
}

TEST(ParseStim, HostileInputsThrowInputErrorAndNeverCrash) {
  // A few shapes a fuzzer finds first: truncated tokens, stray brackets, bytes outside ASCII.
  const std::vector<std::string> inputs{
      "(",     "H(",        "H(1",      "rec[-1]", "M rec[",  "CX rec[-",   "CX sweep[", "MPP *",
      "MPP !", "H !",       "REPEAT",   "REPEAT 99999999999999999999999 {", "}}}",  "H[",  "X_ERROR(--1) 0",
      std::string("H \0 0", 5), "\xff\xfe", "MPP X", "E(0.1) !X0", "CX rec[-1] 0"};
  for (const std::string& in : inputs) {
    EXPECT_THROW(parse_stim(in, "f"), InputError) << "input: " << in;
  }
}

// docs/circuits-stim.md lists every gate of the table; this keeps its rows true to host/gates.cc.
TEST(ParseStimDocs, GateTableMatchesGatesCc) {
  const auto doc = std::filesystem::path(__FILE__).parent_path().parent_path() / "docs" / "circuits-stim.md";
  std::ifstream in(doc);
  if (!in) GTEST_SKIP() << "no " << doc << " next to the test source";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const char* const kinds[] = {"unitary", "collapse", "noise", "annotation", "block"};
  for (const GateInfo& g : all_gates()) {
    std::string aliases;
    const auto names = gate_aliases(g.id);
    for (std::size_t k = 1; k < names.size(); ++k) {
      aliases += (k > 1 ? ", `" : "`") + std::string(names[k]) + "`";
    }
    const std::string args =
        g.max_args < 0 ? std::to_string(g.min_args) + "+"
        : g.min_args == g.max_args ? std::to_string(g.min_args)
                                   : std::to_string(g.min_args) + "\u2013" + std::to_string(g.max_args);
    std::string row = "| `" + std::string(g.name) + "` | " + aliases + " | " +
                      kinds[static_cast<int>(g.kind)] + " | " +
                      (g.group == 0 ? std::string("\u2014") : std::to_string(g.group)) + " | " + args + " |";
    EXPECT_NE(text.find(row), std::string::npos) << "docs/circuits-stim.md lacks the row " << row;
  }
}

}  // namespace
}  // namespace qw
