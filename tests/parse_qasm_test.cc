#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <string>
#include <vector>

#include "host/circuit.h"
#include "host/errors.h"
#include "host/gates.h"
#include "host/parse.h"

namespace qw {
namespace {

using cd = std::complex<double>;
using Matrix = std::vector<cd>;  // row-major, dim x dim

constexpr char kHeader[] = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\n";

Circuit parse_with_header(const std::string& body) { return parse_qasm(kHeader + body, "t.qasm"); }

// The error message parse_qasm gives for `text` ("" if it parses).
std::string error_of(const std::string& text) {
  try {
    parse_qasm(text, "circuit.qasm");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::uint32_t> qubits_of(const Circuit& c, const Instruction& op) {
  std::vector<std::uint32_t> out;
  for (const Target& t : c.targets(op)) {
    EXPECT_TRUE(t.is_qubit());
    out.push_back(t.value);
  }
  return out;
}

std::vector<double> args_of(const Circuit& c, const Instruction& op) {
  const auto a = c.args(op);
  return {a.begin(), a.end()};
}

// Dense unitary of a circuit of unitary gates on n qubits, built independently of the engines:
// each gate's gate_matrix is applied to every column (index bit q = qubit q).
Matrix unitary_of(const Circuit& c, unsigned n) {
  const std::size_t dim = std::size_t{1} << n;
  Matrix u(dim * dim, 0.0);
  for (std::size_t i = 0; i < dim; ++i) u[i * dim + i] = 1.0;
  for (const Instruction& op : c.instructions()) {
    const GateInfo& info = gate_info(op.gate);
    EXPECT_EQ(info.kind, GateKind::Unitary) << info.name;
    const unsigned g = info.group;
    const std::size_t gd = std::size_t{1} << g;
    const Matrix m = gate_matrix(op.gate, c.args(op));
    const auto ts = c.targets(op);
    for (std::size_t k = 0; k + g <= ts.size(); k += g) {
      Matrix next(dim * dim, 0.0);
      for (std::size_t col = 0; col < dim; ++col) {
        for (std::size_t x = 0; x < dim; ++x) {
          const cd v = u[x * dim + col];
          if (v == 0.0) continue;
          std::size_t sub = 0, rest = x;
          for (unsigned j = 0; j < g; ++j) {
            const unsigned q = ts[k + j].value;
            sub |= ((x >> q) & 1) << j;
            rest &= ~(std::size_t{1} << q);
          }
          for (std::size_t r = 0; r < gd; ++r) {
            const cd f = m[r * gd + sub];
            if (f == 0.0) continue;
            std::size_t y = rest;
            for (unsigned j = 0; j < g; ++j) y |= ((r >> j) & 1) << ts[k + j].value;
            next[y * dim + col] += f * v;
          }
        }
      }
      u = std::move(next);
    }
  }
  return u;
}

// |a - e^{iα} b| small for some global phase α.
::testing::AssertionResult equal_up_to_phase(const Matrix& a, const Matrix& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes differ";
  std::size_t k = 0;
  for (std::size_t i = 0; i < b.size(); ++i)
    if (std::abs(b[i]) > std::abs(b[k])) k = i;
  const cd phase = a[k] / b[k];
  if (std::abs(std::abs(phase) - 1) > 1e-9)
    return ::testing::AssertionFailure() << "magnitudes differ at " << k;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::abs(a[i] - phase * b[i]) > 1e-9) {
      return ::testing::AssertionFailure() << "entry " << i << ": " << a[i] << " vs " << phase * b[i];
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult equal_exactly(const Matrix& a, const Matrix& b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::abs(a[i] - b[i]) > 1e-9)
      return ::testing::AssertionFailure() << "entry " << i << ": " << a[i] << " vs " << b[i];
  }
  return ::testing::AssertionSuccess();
}

// Qiskit's qelib1.inc (qiskit/qasm/libs/qelib1.inc), every gate built from U and CX. Parsed as user
// gates (no include), it is a reference for the native mapping that shares nothing with it.
constexpr char kQelib1Reference[] = R"(
gate u3(theta,phi,lambda) q { U(theta,phi,lambda) q; }
gate u2(phi,lambda) q { U(pi/2,phi,lambda) q; }
gate u1(lambda) q { U(0,0,lambda) q; }
gate cx c,t { CX c,t; }
gate id a { U(0,0,0) a; }
gate u0(gamma) q { U(0,0,0) q; }
gate u(theta,phi,lambda) q { U(theta,phi,lambda) q; }
gate p(lambda) q { U(0,0,lambda) q; }
gate x a { u3(pi,0,pi) a; }
gate y a { u3(pi,pi/2,pi/2) a; }
gate z a { u1(pi) a; }
gate h a { u2(0,pi) a; }
gate s a { u1(pi/2) a; }
gate sdg a { u1(-pi/2) a; }
gate t a { u1(pi/4) a; }
gate tdg a { u1(-pi/4) a; }
gate rx(theta) a { u3(theta, -pi/2,pi/2) a; }
gate ry(theta) a { u3(theta,0,0) a; }
gate rz(phi) a { u1(phi) a; }
gate sx a { sdg a; h a; sdg a; }
gate sxdg a { s a; h a; s a; }
gate cz a,b { h b; cx a,b; h b; }
gate cy a,b { sdg b; cx a,b; s b; }
gate swap a,b { cx a,b; cx b,a; cx a,b; }
gate ch a,b { h b; sdg b; cx a,b; h b; t b; cx a,b; t b; h b; s b; x b; s a; }
gate ccx a,b,c
{
  h c; cx b,c; tdg c; cx a,c; t c; cx b,c; tdg c; cx a,c; t b; t c; h c; cx a,b; t a; tdg b; cx a,b;
}
gate cswap a,b,c { cx c,b; ccx a,b,c; cx c,b; }
gate crx(lambda) a,b { u1(pi/2) b; cx a,b; u3(-lambda/2,0,0) b; cx a,b; u3(lambda/2,-pi/2,0) b; }
gate cry(lambda) a,b { ry(lambda/2) b; cx a,b; ry(-lambda/2) b; cx a,b; }
gate crz(lambda) a,b { rz(lambda/2) b; cx a,b; rz(-lambda/2) b; cx a,b; }
gate cu1(lambda) a,b { u1(lambda/2) a; cx a,b; u1(-lambda/2) b; cx a,b; u1(lambda/2) b; }
gate cp(lambda) a,b { p(lambda/2) a; cx a,b; p(-lambda/2) b; cx a,b; p(lambda/2) b; }
gate cu3(theta,phi,lambda) c, t
{
  u1((lambda+phi)/2) c; u1((lambda-phi)/2) t; cx c,t;
  u3(-theta/2,0,-(phi+lambda)/2) t; cx c,t; u3(theta/2,phi,0) t;
}
gate csx a,b { h b; cu1(pi/2) a,b; h b; }
gate cu(theta,phi,lambda,gamma) c, t
{ p(gamma) c; p((lambda+phi)/2) c; p((lambda-phi)/2) t; cx c,t;
  u(-theta/2,0,-(phi+lambda)/2) t; cx c,t; u(theta/2,phi,0) t; }
gate rxx(theta) a,b { u3(pi/2, theta, 0) a; h b; cx a,b; u1(-theta) b; cx a,b; h b; u2(-pi, pi-theta) a; }
gate rzz(theta) a,b { cx a,b; u1(theta) b; cx a,b; }
gate rccx a,b,c
{ u2(0,pi) c; u1(pi/4) c; cx b, c; u1(-pi/4) c; cx a, c; u1(pi/4) c; cx b, c; u1(-pi/4) c; u2(0,pi) c; }
gate rc3x a,b,c,d
{
  u2(0,pi) d; u1(pi/4) d; cx c,d; u1(-pi/4) d; u2(0,pi) d; cx a,d; u1(pi/4) d; cx b,d; u1(-pi/4) d;
  cx a,d; u1(pi/4) d; cx b,d; u1(-pi/4) d; u2(0,pi) d; u1(pi/4) d; cx c,d; u1(-pi/4) d; u2(0,pi) d;
}
gate c3x a,b,c,d
{
  h d; p(pi/8) a; p(pi/8) b; p(pi/8) c; p(pi/8) d; cx a, b; p(-pi/8) b; cx a, b; cx b, c; p(-pi/8) c;
  cx a, c; p(pi/8) c; cx b, c; p(-pi/8) c; cx a, c; cx c, d; p(-pi/8) d; cx b, d; p(pi/8) d; cx c, d;
  p(-pi/8) d; cx a, d; p(pi/8) d; cx c, d; p(-pi/8) d; cx b, d; p(pi/8) d; cx c, d; p(-pi/8) d;
  cx a, d; h d;
}
gate c3sqrtx a,b,c,d
{
  h d; cu1(pi/8) a,d; h d; cx a,b; h d; cu1(-pi/8) b,d; h d; cx a,b; h d; cu1(pi/8) b,d; h d;
  cx b,c; h d; cu1(-pi/8) c,d; h d; cx a,c; h d; cu1(pi/8) c,d; h d; cx b,c; h d; cu1(-pi/8) c,d;
  h d; cx a,c; h d; cu1(pi/8) c,d; h d;
}
gate c4x a,b,c,d,e
{
  h e; cu1(pi/2) d,e; h e; c3x a,b,c,d; h e; cu1(-pi/2) d,e; h e; c3x a,b,c,d; c3sqrtx a,b,c,e;
}
)";

struct Qelib1Gate {
  const char* name;
  int params;
  int qubits;
};
// Every gate of Qiskit's qelib1.inc.
constexpr Qelib1Gate kQelib1Gates[] = {
    {"u3", 3, 1},  {"u2", 2, 1},   {"u1", 1, 1},    {"cx", 0, 2},  {"id", 0, 1},      {"u0", 1, 1},
    {"u", 3, 1},   {"p", 1, 1},    {"x", 0, 1},     {"y", 0, 1},   {"z", 0, 1},       {"h", 0, 1},
    {"s", 0, 1},   {"sdg", 0, 1},  {"t", 0, 1},     {"tdg", 0, 1}, {"rx", 1, 1},      {"ry", 1, 1},
    {"rz", 1, 1},  {"sx", 0, 1},   {"sxdg", 0, 1},  {"cz", 0, 2},  {"cy", 0, 2},      {"swap", 0, 2},
    {"ch", 0, 2},  {"ccx", 0, 3},  {"cswap", 0, 3}, {"crx", 1, 2}, {"cry", 1, 2},     {"crz", 1, 2},
    {"cu1", 1, 2}, {"cp", 1, 2},   {"cu3", 3, 2},   {"csx", 0, 2}, {"cu", 4, 2},      {"rxx", 1, 2},
    {"rzz", 1, 2}, {"rccx", 0, 3}, {"rc3x", 0, 4},  {"c3x", 0, 4}, {"c3sqrtx", 0, 4}, {"c4x", 0, 5},
};

std::string call_text(const Qelib1Gate& g) {
  static const char* kParams[] = {"0.3", "-0.7", "1.1", "0.4"};
  std::string s = g.name;
  if (g.params) {
    s += "(";
    for (int i = 0; i < g.params; ++i) s += std::string(i ? "," : "") + kParams[i];
    s += ")";
  }
  // Reversed qubit order, so that a swapped control and target shows up.
  for (int i = 0; i < g.qubits; ++i)
    s += std::string(i ? ", q[" : " q[") + std::to_string(g.qubits - 1 - i) + "]";
  return s + ";\n";
}

TEST(ParseQasm, EveryQelib1GateMatchesItsDefinition) {
  for (const Qelib1Gate& g : kQelib1Gates) {
    SCOPED_TRACE(g.name);
    const std::string regs = "qreg q[" + std::to_string(g.qubits) + "];\n";
    const Circuit native = parse_with_header(regs + call_text(g));
    const Circuit reference =
        parse_qasm(std::string("OPENQASM 2.0;\n") + kQelib1Reference + regs + call_text(g));
    ASSERT_FALSE(native.instructions().empty());
    EXPECT_TRUE(equal_up_to_phase(unitary_of(native, g.qubits), unitary_of(reference, g.qubits)));
  }
}

TEST(ParseQasm, Qelib1GatesMapToTheGateTable) {
  struct Case {
    const char* text;
    GateId id;
    std::vector<double> args;
    std::vector<std::uint32_t> qubits;
  };
  const double pi = M_PI;
  const std::vector<Case> cases = {
      {"u3(0.1,0.2,0.3) q[1];", GateId::U3, {0.1, 0.2, 0.3}, {1}},
      {"u(0.1,0.2,0.3) q[1];", GateId::U3, {0.1, 0.2, 0.3}, {1}},
      {"U(0.1,0.2,0.3) q[1];", GateId::U3, {0.1, 0.2, 0.3}, {1}},
      {"u2(0.2,0.3) q[0];", GateId::U3, {pi / 2, 0.2, 0.3}, {0}},
      {"u1(0.3) q[0];", GateId::PHASE, {0.3}, {0}},
      {"p(0.3) q[0];", GateId::PHASE, {0.3}, {0}},
      {"u0(5) q[0];", GateId::I, {}, {0}},
      {"id q[2];", GateId::I, {}, {2}},
      {"x q[0];", GateId::X, {}, {0}},
      {"y q[0];", GateId::Y, {}, {0}},
      {"z q[0];", GateId::Z, {}, {0}},
      {"h q[0];", GateId::H, {}, {0}},
      {"s q[0];", GateId::S, {}, {0}},
      {"sdg q[0];", GateId::S_DAG, {}, {0}},
      {"t q[0];", GateId::T, {}, {0}},
      {"tdg q[0];", GateId::T_DAG, {}, {0}},
      {"sx q[0];", GateId::SQRT_X, {}, {0}},
      {"sxdg q[0];", GateId::SQRT_X_DAG, {}, {0}},
      {"rx(0.5) q[0];", GateId::ROT_X, {0.5}, {0}},
      {"ry(0.5) q[0];", GateId::ROT_Y, {0.5}, {0}},
      {"rz(0.5) q[0];", GateId::ROT_Z, {0.5}, {0}},
      {"cx q[2],q[0];", GateId::CX, {}, {2, 0}},
      {"CX q[2],q[0];", GateId::CX, {}, {2, 0}},
      {"cy q[0],q[1];", GateId::CY, {}, {0, 1}},
      {"cz q[0],q[1];", GateId::CZ, {}, {0, 1}},
      {"ch q[0],q[1];", GateId::CH, {}, {0, 1}},
      {"swap q[0],q[1];", GateId::SWAP, {}, {0, 1}},
      {"ccx q[0],q[1],q[2];", GateId::CCX, {}, {0, 1, 2}},
      {"cswap q[0],q[1],q[2];", GateId::CSWAP, {}, {0, 1, 2}},
      {"crx(0.5) q[0],q[1];", GateId::CRX, {0.5}, {0, 1}},
      {"cry(0.5) q[0],q[1];", GateId::CRY, {0.5}, {0, 1}},
      {"crz(0.5) q[0],q[1];", GateId::CRZ, {0.5}, {0, 1}},
      {"cu1(0.5) q[0],q[1];", GateId::CPHASE, {0.5}, {0, 1}},
      {"cp(0.5) q[0],q[1];", GateId::CPHASE, {0.5}, {0, 1}},
      {"cu3(0.1,0.2,0.3) q[0],q[1];", GateId::CU, {0.1, 0.2, 0.3, 0}, {0, 1}},
      {"cu(0.1,0.2,0.3,0.4) q[0],q[1];", GateId::CU, {0.1, 0.2, 0.3, 0.4}, {0, 1}},
      {"csx q[0],q[1];", GateId::CSX, {}, {0, 1}},
      {"rxx(0.5) q[0],q[1];", GateId::ROT_XX, {0.5}, {0, 1}},
      {"rzz(0.5) q[0],q[1];", GateId::ROT_ZZ, {0.5}, {0, 1}},
      {"c3x q[0],q[1],q[2],q[3];", GateId::C3X, {}, {0, 1, 2, 3}},
      {"c4x q[0],q[1],q[2],q[3],q[4];", GateId::C4X, {}, {0, 1, 2, 3, 4}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const Circuit circuit = parse_with_header(std::string("qreg q[5];\n") + c.text);
    ASSERT_EQ(circuit.instructions().size(), 1u);
    const Instruction& op = circuit.instructions()[0];
    EXPECT_EQ(op.gate, c.id);
    const auto args = args_of(circuit, op);
    ASSERT_EQ(args.size(), c.args.size());
    for (std::size_t i = 0; i < args.size(); ++i) EXPECT_DOUBLE_EQ(args[i], c.args[i]);
    EXPECT_EQ(qubits_of(circuit, op), c.qubits);
    EXPECT_EQ(op.where.line, 4u);
    EXPECT_EQ(op.where.column, 1u);
  }
}

TEST(ParseQasm, RccxIsTheMargolusGate) {
  const Circuit c = parse_with_header("qreg q[3];\nrccx q[0],q[1],q[2];\n");
  for (const Instruction& op : c.instructions()) EXPECT_NE(op.gate, GateId::CCX);
  // Qiskit's RCCXGate matrix (a = bit 0, b = bit 1, target = bit 2): Toffoli with phases -i, i on
  // the flipped pair and -1 on |a=1, b=0, c=1>.
  Matrix expected(64, 0.0);
  for (int i : {0, 1, 2, 4, 6}) expected[i * 8 + i] = 1.0;
  expected[5 * 8 + 5] = -1.0;
  expected[3 * 8 + 7] = cd(0, -1);
  expected[7 * 8 + 3] = cd(0, 1);
  EXPECT_TRUE(equal_exactly(unitary_of(c, 3), expected));
}

TEST(ParseQasm, Rc3xHasQiskitsRelativePhases) {
  const Circuit c = parse_with_header("qreg q[4];\nrc3x q[0],q[1],q[2],q[3];\n");
  Matrix expected(256, 0.0);
  for (int i : {0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14}) expected[i * 16 + i] = 1.0;
  expected[3 * 16 + 3] = cd(0, 1);
  expected[11 * 16 + 11] = cd(0, -1);
  expected[7 * 16 + 15] = 1.0;
  expected[15 * 16 + 7] = -1.0;
  EXPECT_TRUE(equal_exactly(unitary_of(c, 4), expected));
}

TEST(ParseQasm, C3sqrtxIsControlledSx) {
  const Circuit c = parse_with_header("qreg q[4];\nc3sqrtx q[0],q[1],q[2],q[3];\n");
  Matrix expected(256, 0.0);
  for (int i = 0; i < 16; ++i) expected[i * 16 + i] = 1.0;
  // Qiskit's SX = [[1+i, 1-i], [1-i, 1+i]] / 2 on the target when a = b = c = 1.
  const cd a(0.5, 0.5), b(0.5, -0.5);
  expected[7 * 16 + 7] = a;
  expected[7 * 16 + 15] = b;
  expected[15 * 16 + 7] = b;
  expected[15 * 16 + 15] = a;
  EXPECT_TRUE(equal_up_to_phase(unitary_of(c, 4), expected));
}

TEST(ParseQasm, ExpressionsFollowTheSpecsPrecedence) {
  const Circuit c = parse_with_header(
      "qreg q[1];\n"
      "u3(pi/2, -pi^2/4, sqrt(2)*ln(exp(1))) q[0];\n"
      "u3(-2^2, 2^3^2, 2^-1) q[0];\n"
      "u3(1-2-3, 8/4/2, 1+2*3) q[0];\n"
      "u3(1e-3, .5, 3.) q[0];\n"
      "u3(sin(pi/2), cos(0), tan(pi/4)) q[0];\n"
      "u3((1+2)*3, -(4), 2.5E+1) q[0];\n");
  const std::vector<std::vector<double>> expected = {
      {M_PI / 2, -M_PI * M_PI / 4, std::sqrt(2.0)},
      {-4, 512, 0.5},
      {-4, 1, 7},
      {1e-3, 0.5, 3},
      {1, 1, 1},
      {9, -4, 25},
  };
  ASSERT_EQ(c.instructions().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto args = args_of(c, c.instructions()[i]);
    ASSERT_EQ(args.size(), 3u);
    for (int k = 0; k < 3; ++k)
      EXPECT_NEAR(args[k], expected[i][k], 1e-12) << "statement " << i << " arg " << k;
  }
}

TEST(ParseQasm, UserGatesExpandWithParametersAndNesting) {
  const Circuit c = parse_with_header(
      "qreg q[2];\n"
      "gate inner(a) x { rz(2*a) x; }\n"
      "gate outer(a, b) x, y {\n"
      "  inner(a + b) y;\n"
      "  cx x, y;\n"
      "  U(a, b, -a) x;\n"
      "  barrier x, y;\n"
      "}\n"
      "  outer(0.25, pi) q[1], q[0];\n");
  const auto ops = c.instructions();
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].gate, GateId::ROT_Z);
  EXPECT_NEAR(args_of(c, ops[0])[0], 2 * (0.25 + M_PI), 1e-12);
  EXPECT_EQ(qubits_of(c, ops[0]), (std::vector<std::uint32_t>{0}));
  EXPECT_EQ(ops[1].gate, GateId::CX);
  EXPECT_EQ(qubits_of(c, ops[1]), (std::vector<std::uint32_t>{1, 0}));
  EXPECT_EQ(ops[2].gate, GateId::U3);
  EXPECT_EQ(args_of(c, ops[2]), (std::vector<double>{0.25, M_PI, -0.25}));
  for (const Instruction& op : ops) {
    EXPECT_EQ(op.where.line, 11u);
    EXPECT_EQ(op.where.column, 3u);
  }
}

TEST(ParseQasm, UserGatesWorkWithoutQelib1) {
  const Circuit c = parse_qasm(
      "OPENQASM 2.0;\n"
      "qreg q[2];\n"
      "gate h a { U(pi/2, 0, pi) a; }\n"
      "gate cx c, t { CX c, t; }\n"
      "h q[0]; cx q[0], q[1];\n");
  ASSERT_EQ(c.instructions().size(), 2u);
  EXPECT_EQ(c.instructions()[0].gate, GateId::U3);
  EXPECT_EQ(c.instructions()[1].gate, GateId::CX);
}

TEST(ParseQasm, RegistersAreNumberedInDeclarationOrder) {
  const Circuit c = parse_with_header(
      "qreg a[2];\ncreg m[3];\nqreg b[3];\nqreg c[1];\n"
      "x a[1]; x b[0]; x b[2]; x c[0];\n");
  std::vector<std::uint32_t> qs;
  for (const Instruction& op : c.instructions()) qs.push_back(qubits_of(c, op)[0]);
  EXPECT_EQ(qs, (std::vector<std::uint32_t>{1, 2, 4, 5}));
  EXPECT_EQ(c.num_qubits(), 6u);
}

TEST(ParseQasm, RegistersBroadcast) {
  const Circuit c = parse_with_header(
      "qreg q[3];\nqreg r[3];\n"
      "h q;\n"
      "cx q, r;\n"
      "cx q[0], r;\n"
      "cz r, q[1];\n"
      "gate g a, b { cx a, b; }\n"
      "g q, r;\n");
  const auto ops = c.instructions();
  ASSERT_EQ(ops.size(), 7u);
  EXPECT_EQ(ops[0].gate, GateId::H);
  EXPECT_EQ(qubits_of(c, ops[0]), (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(qubits_of(c, ops[1]), (std::vector<std::uint32_t>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(qubits_of(c, ops[2]), (std::vector<std::uint32_t>{0, 3, 0, 4, 0, 5}));
  EXPECT_EQ(ops[3].gate, GateId::CZ);
  EXPECT_EQ(qubits_of(c, ops[3]), (std::vector<std::uint32_t>{3, 1, 4, 1, 5, 1}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ops[4 + i].gate, GateId::CX);
    EXPECT_EQ(qubits_of(c, ops[4 + i]), (std::vector<std::uint32_t>{std::uint32_t(i), std::uint32_t(3 + i)}));
  }
}

TEST(ParseQasm, MeasureResetAndBarrier) {
  const Circuit c = parse_with_header(
      "qreg q[2];\nqreg r[1];\ncreg c[2];\ncreg d[1];\n"
      "reset q;\n"
      "reset r[0];\n"
      "barrier q, r[0];\n"
      "measure q -> c;\n"
      "measure r[0] -> d[0];\n"
      "measure q[1] -> c[0];\n");
  const auto ops = c.instructions();
  ASSERT_EQ(ops.size(), 6u);
  EXPECT_EQ(ops[0].gate, GateId::R);
  EXPECT_EQ(qubits_of(c, ops[0]), (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(ops[1].gate, GateId::R);
  EXPECT_EQ(qubits_of(c, ops[1]), (std::vector<std::uint32_t>{2}));
  EXPECT_EQ(ops[2].gate, GateId::TICK);
  EXPECT_EQ(c.targets(ops[2]).size(), 0u);
  EXPECT_EQ(ops[3].gate, GateId::M);
  EXPECT_EQ(qubits_of(c, ops[3]), (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(qubits_of(c, ops[4]), (std::vector<std::uint32_t>{2}));
  EXPECT_EQ(qubits_of(c, ops[5]), (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(c.num_measurements(), 4u);
  EXPECT_EQ(ops[3].where.line, 10u);
}

TEST(ParseQasm, KeepsSourceNameAndTextAndSkipsComments) {
  const std::string text =
      "// a Bell pair\r\nOPENQASM 2.0; // header\r\ninclude \"qelib1.inc\";\r\n"
      "qreg q[2]; creg c[2];\r\nh q[0]; // superpose\r\ncx q[0],q[1];\r\nmeasure q -> c;";
  const Circuit c = parse_qasm(text, "bell.qasm");
  EXPECT_EQ(c.source_name, "bell.qasm");
  EXPECT_EQ(c.source_text, text);
  ASSERT_EQ(c.instructions().size(), 3u);
  EXPECT_EQ(c.instructions()[0].where.line, 5u);
  EXPECT_EQ(c.instructions()[2].where.line, 7u);
  EXPECT_EQ(c.str(), "H 0\nCX 0 1\nM 0 1\n");
}

TEST(ParseQasm, IncludingQelib1TwiceIsHarmless) {
  const Circuit c = parse_with_header("include \"qelib1.inc\";\nqreg q[1];\nh q[0];\n");
  EXPECT_EQ(c.instructions().size(), 1u);
}

TEST(ParseQasm, OpaqueDeclarationsParseButCannotBeUsed) {
  EXPECT_NO_THROW(parse_with_header("opaque magic(a) x, y;\nqreg q[2];\nh q;\n"));
  EXPECT_EQ(error_of(std::string(kHeader) + "opaque magic(a) x, y;\nqreg q[2];\nmagic(1) q[0], q[1];\n"),
            "circuit.qasm:5:1: gate 'magic' is opaque (declared at line 3) and cannot be simulated");
}

// Each case: the file (after the two header lines unless it starts with OPENQASM) and the message.
struct ErrorCase {
  std::string text;
  std::string message;
};

TEST(ParseQasm, ErrorsNameFileLineColumnAndCause) {
  const std::string h = kHeader;
  const std::vector<ErrorCase> cases = {
      {"", "circuit.qasm:1:1: expected 'OPENQASM 2.0;' as the first statement, got end of input"},
      {"qreg q[1];", "circuit.qasm:1:1: expected 'OPENQASM 2.0;' as the first statement, got 'qreg'"},
      {"OPENQASM 3.0;", "circuit.qasm:1:10: unsupported OpenQASM version '3.0'; only 2.0 is supported"},
      {"OPENQASM 2.0;\ninclude \"stdgates.inc\";",
       "circuit.qasm:2:9: cannot include \"stdgates.inc\": only \"qelib1.inc\" is supported (paste other "
       "gate "
       "definitions into the file)"},
      {h + "qreg q[2];\nfoo q[0];", "circuit.qasm:4:1: unknown gate 'foo'"},
      {"OPENQASM 2.0;\nqreg q[2];\nh q[0];",
       "circuit.qasm:3:1: unknown gate 'h' (add 'include \"qelib1.inc\";' to use the standard gates)"},
      {h + "qreg q[3];\ncx q[0], q[1], q[2];", "circuit.qasm:4:1: cx takes 2 qubit arguments, got 3"},
      {h + "qreg q[3];\n  rx(1, 2) q[0];", "circuit.qasm:4:3: rx takes 1 parameter, got 2"},
      {h + "qreg q[3];\nh(0.5) q[0];", "circuit.qasm:4:1: h takes 0 parameters, got 1"},
      {h + "qreg q[3];\nh r[0];", "circuit.qasm:4:3: undefined quantum register 'r'"},
      {h + "qreg q[3];\nh q[5];", "circuit.qasm:4:5: index 5 is out of range for qreg q[3]"},
      {h + "qreg q[3];\nqreg q[2];", "circuit.qasm:4:6: register 'q' is already declared at line 3"},
      {h + "qreg q[3];\ncreg q[2];", "circuit.qasm:4:6: register 'q' is already declared at line 3"},
      {h + "gate g a { x a; }\ngate g b { y b; }", "circuit.qasm:4:6: gate 'g' is already defined at line 3"},
      {h + "gate h a { x a; }", "circuit.qasm:3:6: gate 'h' is already defined by qelib1.inc"},
      {"OPENQASM 2.0;\ngate rzz(t) a, b { CX a, b; }\ninclude \"qelib1.inc\";",
       "circuit.qasm:3:9: qelib1.inc defines gate 'rzz', which is already defined at line 2"},
      {h + "qreg q[1];\nrx(1.2.3) q[0];", "circuit.qasm:4:4: bad number '1.2.3'"},
      {h + "qreg q[1];\nrx(1e) q[0];", "circuit.qasm:4:4: bad number '1e'"},
      {h + "qreg q[1];\nrx(1e999) q[0];", "circuit.qasm:4:4: number '1e999' is out of range"},
      {h + "qreg q[2];\nh q[0]\nh q[1];",
       "circuit.qasm:5:1: expected ';' at the end of the statement, got 'h'"},
      {h + "qreg q[2];\nh q[0]",
       "circuit.qasm:4:7: expected ';' at the end of the statement, got end of input"},
      {h + "gate g a {\n  x a;\n", "circuit.qasm:3:10: body of gate 'g' is not closed: missing '}'"},
      {h + "qreg q[2];\ncx q[1], q[1];", "circuit.qasm:4:1: cx uses qubit q[1] twice"},
      {h + "qreg q[2];\ncx q[0], q;", "circuit.qasm:4:1: cx uses qubit q[0] twice"},
      {h + "gate g a, b { cx a, a; }", "circuit.qasm:3:21: cx uses qubit 'a' twice"},
      {h + "qreg q[2];\ncreg c[2];\nmeasure q[0] -> c[2];",
       "circuit.qasm:5:19: index 2 is out of range for creg c[2]"},
      {h + "qreg q[2];\ncreg c[1];\nmeasure q -> c;",
       "circuit.qasm:5:1: measure: qreg q has 2 qubits but creg c has 1 bit"},
      {h + "qreg q[2];\ncreg c[2];\nmeasure q -> d;", "circuit.qasm:5:14: undefined classical register 'd'"},
      {h + "qreg q[1];\nrx(pi/(1-1)) q[0];", "circuit.qasm:4:6: division by zero"},
      {h + "qreg q[1];\nrx(ln(0)) q[0];",
       "circuit.qasm:4:4: parameter 1 of rx is not a finite number (it evaluates to -inf)"},
      {h + "qreg q[1];\ngate g(a) x { rx(1/a) x; }\ng(0) q[0];",
       "circuit.qasm:4:19: division by zero (in gate 'g' called at line 5)"},
      {h + "qreg q[2];\ncreg c[2];\nif(c==1) x q[0];", "circuit.qasm:5:1: if() is not supported yet"},
      {h + "qreg q[2];\nqreg r[3];\ncx q, r;",
       "circuit.qasm:5:1: cx: registers q and r have different sizes (2 and 3)"},
      {h + "qreg q[1];\nrx(theta) q[0];",
       "circuit.qasm:4:4: unknown identifier 'theta' in expression (only gate definitions have parameters)"},
      {h + "gate g(a) x { rx(b) x; }", "circuit.qasm:3:18: unknown parameter 'b'"},
      {h + "gate g a { x b; }", "circuit.qasm:3:14: 'b' is not a qubit argument of gate 'g'"},
      {h + "gate g a { g a; }", "circuit.qasm:3:12: gate 'g' calls itself; recursive gates are not allowed"},
      {h + "gate g a { measure a -> c[0]; }",
       "circuit.qasm:3:12: 'measure' is not allowed inside the body of gate 'g'"},
      {h + "qreg q[0];", "circuit.qasm:3:8: register 'q' must have at least 1 qubit"},
      {h + "qreg q[1];\nh q[0]; @", "circuit.qasm:4:9: unexpected character '@'"},
      {h + "include \"qelib1.inc", "circuit.qasm:3:9: unterminated string"},
      {h + "qreg q[1];\ncreg c[1];\nh c[0];",
       "circuit.qasm:5:3: 'c' is a classical register, not a quantum one"},
      {h + "qreg q[2];\ncreg c[2];\nmeasure q -> c[0];",
       "circuit.qasm:5:1: cannot measure the whole register q into one bit c[0]"},
      {"OPENQASM 2.0;\nOPENQASM 2.0;",
       "circuit.qasm:2:1: 'OPENQASM' may only appear once, as the first statement"},
      {h + "qreg q[1];\nU(1,2) q[0];", "circuit.qasm:4:1: U takes 3 parameters, got 2"},
      {h + "gate U a { x a; }", "circuit.qasm:3:6: 'U' is a built-in gate and cannot be redefined"},
      {h + "gate g(sin) a { x a; }",
       "circuit.qasm:3:8: 'sin' is a reserved word and cannot name a parameter"},
      {h + "gate measure a { x a; }",
       "circuit.qasm:3:6: 'measure' is a reserved word and cannot name a gate"},
      {h + "qreg q[1];\ngate g(a) x { rx(ln(a)) x; }\ng(0) q[0];",
       "circuit.qasm:4:18: parameter 1 of rx is not a finite number (it evaluates to -inf) (in gate 'g' "
       "called at line 5)"},
      {h + "qreg q[1];\nrccx q[0], q[0], q[0];", "circuit.qasm:4:1: rccx uses qubit q[0] twice"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(error_of(c.text), c.message);
  }
}

TEST(ParseQasm, HostileInputsFailCleanly) {
  const std::string h = kHeader;
  // Deep expression nesting.
  std::string deep =
      h + "qreg q[1];\nrx(" + std::string(100000, '(') + "1" + std::string(100000, ')') + ") q[0];";
  EXPECT_NE(error_of(deep).find("nested too deeply"), std::string::npos);
  std::string minus = h + "qreg q[1];\nrx(" + std::string(100000, '-') + "1) q[0];";
  EXPECT_NE(error_of(minus).find("nested too deeply"), std::string::npos);
  std::string power = h + "qreg q[1];\nrx(1";
  for (int i = 0; i < 100000; ++i) power += "^1";
  EXPECT_NE(error_of(power + ") q[0];").find("nested too deeply"), std::string::npos);
  std::string sum = h + "qreg q[1];\nrx(1";
  for (int i = 0; i < 100000; ++i) sum += "+1";
  EXPECT_NE(error_of(sum + ") q[0];").find("nested too deeply"), std::string::npos);

  // A long chain of gates each calling the previous one.
  std::string chain = h + "qreg q[1];\ngate g0 a { x a; }\n";
  for (int i = 1; i <= 100; ++i)
    chain += "gate g" + std::to_string(i) + " a { g" + std::to_string(i - 1) + " a; }\n";
  EXPECT_NE(error_of(chain + "g100 q[0];").find("nest more than 64 levels"), std::string::npos);

  // Exponential expansion: each level calls the previous one eight times.
  std::string blowup = h + "qreg q[1];\ngate e0 a { }\n";
  for (int i = 1; i <= 12; ++i) {
    blowup += "gate e" + std::to_string(i) + " a {";
    for (int k = 0; k < 8; ++k) blowup += " e" + std::to_string(i - 1) + " a;";
    blowup += " }\n";
  }
  EXPECT_NE(error_of(blowup + "e12 q[0];").find("circuit too large"), std::string::npos);

  // Huge registers.
  EXPECT_NE(error_of(h + "qreg q[99999999999];").find("too large"), std::string::npos);
  EXPECT_NE(error_of(h + "qreg q[999999999999999999999999];").find("too large"), std::string::npos);

  // Truncations of a valid program never crash.
  const std::string good = h +
                           "qreg q[3]; creg c[3];\ngate g(a,b) x,y { rx(a*b) x; cx x,y; }\n"
                           "g(pi/2, -1e-3) q[0], q[1]; h q; measure q -> c; barrier q; reset q[2];\n";
  for (std::size_t n = 0; n < good.size(); ++n) {
    try {
      parse_qasm(good.substr(0, n));
    } catch (const InputError&) {
    }
  }
  EXPECT_NO_THROW(parse_qasm(good));
}

}  // namespace
}  // namespace qw
