// Random circuits of up to 20 qubits, written as OpenQASM 2.0 and as Stim text, parsed and run by
// the engine, against the plain reference simulator (tests/reference_sim.cc). For QASM the
// reference builds every qelib1 gate from its textbook formula here, independently of the gate
// table; for Stim text it uses the gate table's matrices, which gates_test checks against Stim's
// Clifford tableaux and closed forms.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <fmt/format.h>
#include <random>
#include <string>

#include "host/parse.h"
#include "host/dense_engine.h"
#include "tests/reference_sim.h"

namespace {
using namespace qw;
using qw::testing::cd;
using qw::testing::Vec;
using M = std::vector<cd>;
const cd kI(0, 1);

M u3(double t, double p, double l) {
  return {std::cos(t / 2), -std::exp(kI * l) * std::sin(t / 2), std::exp(kI * p) * std::sin(t / 2),
          std::exp(kI * (p + l)) * std::cos(t / 2)};
}
M ctrl(const M& u) {  // qubit order (control, target): index bit 0 = control
  M c(16, 0.0);
  c[0] = c[10] = 1;  // |c=0,t=0> and |c=0,t=1> (index 0 and 2)
  c[1 * 4 + 1] = u[0];
  c[1 * 4 + 3] = u[1];
  c[3 * 4 + 1] = u[2];
  c[3 * 4 + 3] = u[3];
  return c;
}
M rot(char p, double t) {
  const double c = std::cos(t / 2), s = std::sin(t / 2);
  if (p == 'x') return {c, -kI * s, -kI * s, c};
  if (p == 'y') return {c, -s, s, c};
  return {std::exp(-kI * t / 2.0), 0, 0, std::exp(kI * t / 2.0)};
}

Vec to_ref(const std::vector<cplx>& a) {
  Vec v(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) v[i] = {a[i].re, a[i].im};
  return v;
}

const double kTol = sizeof(real) == 8 ? 1e-10 : 1e-4;

TEST(Crosscheck, RandomQasmCircuitsUpTo20Qubits) {
  std::mt19937_64 rng(2024);
  std::uniform_real_distribution<double> angle(-3.2, 3.2);
  for (unsigned n : {2u, 5u, 9u, 14u, 20u}) {
    std::string text = fmt::format("OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg a[{}];\nqreg b[{}];\n", n / 2, n - n / 2);
    auto qname = [&](unsigned q) { return q < n / 2 ? fmt::format("a[{}]", q) : fmt::format("b[{}]", q - n / 2); };
    Vec ref = qw::testing::ref_zero_state(n);
    const double s = M_SQRT1_2;
    for (int k = 0; k < 12 * static_cast<int>(n); ++k) {
      std::vector<unsigned> qs(n);
      for (unsigned i = 0; i < n; ++i) qs[i] = i;
      std::shuffle(qs.begin(), qs.end(), rng);
      const double t = angle(rng), p = angle(rng), l = angle(rng);
      const int kind = static_cast<int>(rng() % (n >= 3 ? 16 : n >= 2 ? 13 : 7));
      std::string line;
      M u;
      std::vector<unsigned> on;
      switch (kind) {
        case 0: line = "h"; u = {s, s, s, -s}; on = {qs[0]}; break;
        case 1: line = "t"; u = {1, 0, 0, std::exp(kI * M_PI / 4.0)}; on = {qs[0]}; break;
        case 2: line = fmt::format("u3({},{},{})", t, p, l); u = u3(t, p, l); on = {qs[0]}; break;
        case 3: line = fmt::format("rx({})", t); u = rot('x', t); on = {qs[0]}; break;
        case 4: line = fmt::format("ry({})", t); u = rot('y', t); on = {qs[0]}; break;
        case 5: line = fmt::format("rz({})", t); u = rot('z', t); on = {qs[0]}; break;
        case 6: line = "sdg"; u = {1, 0, 0, -kI}; on = {qs[0]}; break;
        case 7: line = "cx"; u = ctrl({0, 1, 1, 0}); on = {qs[0], qs[1]}; break;
        case 8: line = fmt::format("cu1({})", l); u = ctrl({1, 0, 0, std::exp(kI * l)}); on = {qs[0], qs[1]}; break;
        case 9: line = fmt::format("cu3({},{},{})", t, p, l); u = ctrl(u3(t, p, l)); on = {qs[0], qs[1]}; break;
        case 10: line = fmt::format("crx({})", t); u = ctrl(rot('x', t)); on = {qs[0], qs[1]}; break;
        case 11: line = "swap"; u = {1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1}; on = {qs[0], qs[1]}; break;
        case 12: {
          line = fmt::format("rzz({})", t);
          const cd a = std::exp(-kI * t / 2.0), b = std::exp(kI * t / 2.0);
          u = {a, 0, 0, 0, 0, b, 0, 0, 0, 0, b, 0, 0, 0, 0, a};
          on = {qs[0], qs[1]};
          break;
        }
        default: {  // ccx / cswap
          const bool swap = kind == 13;
          line = swap ? "cswap" : "ccx";
          u.assign(64, 0.0);
          for (std::size_t c = 0; c < 8; ++c) {
            std::size_t r = c;
            if (swap && (c & 1)) r = 1 | ((c >> 1 & 1) << 2) | ((c >> 2 & 1) << 1);
            if (!swap && (c & 3) == 3) r = c ^ 4;
            u[r * 8 + c] = 1;
          }
          on = {qs[0], qs[1], qs[2]};
          break;
        }
      }
      text += line + " ";
      for (std::size_t j = 0; j < on.size(); ++j) text += (j ? "," : "") + qname(on[j]);
      text += ";\n";
      qw::testing::ref_apply(ref, u, on);
    }
    const Circuit c = parse_qasm(text, "random.qasm");
    SvOptions opt;
    opt.shots = 0;
    opt.keep_state = true;
    const SvResult r = run_sv(c, opt);
    ASSERT_EQ(r.state.size(), ref.size()) << n;
    EXPECT_LT(qw::testing::max_abs_diff(to_ref(r.state), ref), kTol) << n << " qubits";
  }
}

TEST(Crosscheck, RandomStimCircuitsUpTo20Qubits) {
  std::mt19937_64 rng(99);
  std::vector<const GateInfo*> gates;
  for (const auto& g : all_gates()) {
    if (g.kind == GateKind::Unitary && g.group > 0 && g.group <= 2) gates.push_back(&g);
  }
  for (unsigned n : {3u, 8u, 13u, 20u}) {
    std::string text;
    Vec ref = qw::testing::ref_zero_state(n);
    for (unsigned q = 0; q < n; ++q) text += fmt::format("QUBIT_COORDS({}, 0) {}\n", q, q);
    for (int k = 0; k < 12 * static_cast<int>(n); ++k) {
      const GateInfo* g = gates[rng() % gates.size()];
      std::vector<unsigned> qs(n);
      for (unsigned i = 0; i < n; ++i) qs[i] = i;
      std::shuffle(qs.begin(), qs.end(), rng);
      qs.resize(g->group);
      std::vector<double> args;
      for (int a = 0; a < g->min_args; ++a) args.push_back(std::uniform_real_distribution<double>(-3, 3)(rng));
      text += std::string(g->name);
      if (!args.empty()) text += "(" + fmt::format("{}", fmt::join(args, ", ")) + ")";
      for (unsigned q : qs) text += fmt::format(" {}", q);
      text += "\n";
      if (k % 10 == 9) text += "TICK\n";
      qw::testing::ref_apply(ref, gate_matrix(g->id, args), qs);
    }
    const Circuit c = parse_stim(text, "random.stim");
    SvOptions opt;
    opt.shots = 0;
    opt.keep_state = true;
    const SvResult r = run_sv(c, opt);
    EXPECT_LT(qw::testing::max_abs_diff(to_ref(r.state), ref), kTol) << n << " qubits";
  }
}

}  // namespace
