// Gate matrices against independent definitions: Stim's Clifford tableaux (how each gate maps
// X and Z, from Stim's gate reference) and closed-form definitions of the non-Clifford gates.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <map>
#include <string>
#include <vector>

#include "host/gates.h"

namespace {
using cd = std::complex<double>;
using Mat = std::vector<cd>;
const cd I1(0, 1);

Mat mul(const Mat& a, const Mat& b, std::size_t d) {
  Mat c(d * d, 0.0);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t k = 0; k < d; ++k)
      for (std::size_t j = 0; j < d; ++j) c[i * d + j] += a[i * d + k] * b[k * d + j];
  return c;
}
Mat dagger(const Mat& a, std::size_t d) {
  Mat c(d * d);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j) c[j * d + i] = std::conj(a[i * d + j]);
  return c;
}
Mat kron(const Mat& hi, const Mat& lo, std::size_t dh, std::size_t dl) {  // index = lo + dl*hi
  const std::size_t d = dh * dl;
  Mat c(d * d);
  for (std::size_t a = 0; a < dh; ++a)
    for (std::size_t b = 0; b < dh; ++b)
      for (std::size_t x = 0; x < dl; ++x)
        for (std::size_t y = 0; y < dl; ++y) c[(a * dl + x) * d + (b * dl + y)] = hi[a * dh + b] * lo[x * dl + y];
  return c;
}
double dist(const Mat& a, const Mat& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}
double dist_up_to_phase(const Mat& a, const Mat& b) {
  cd ov = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ov += std::conj(b[i]) * a[i];
  const cd ph = ov / std::abs(ov);
  Mat c(b);
  for (auto& x : c) x *= ph;
  return dist(a, c);
}
const Mat kI = {1, 0, 0, 1}, kX = {0, 1, 1, 0}, kY = {0, -I1, I1, 0}, kZ = {1, 0, 0, -1};
Mat pauli(char c) { return c == 'X' ? kX : c == 'Y' ? kY : c == 'Z' ? kZ : kI; }
// "+XZ": qubit 0 = X, qubit 1 = Z.
Mat pauli_string(const std::string& s) {
  const double sign = s[0] == '-' ? -1 : 1;
  Mat m = pauli(s[1]);
  std::size_t d = 2;
  for (std::size_t k = 2; k < s.size(); ++k) {
    m = kron(pauli(s[k]), m, 2, d);
    d *= 2;
  }
  for (auto& x : m) x *= sign;
  return m;
}
qw::GateId id_of(const std::string& name) {
  const qw::GateInfo* g = qw::find_gate(name);
  EXPECT_NE(g, nullptr) << name;
  return g->id;
}

TEST(Gates, CliffordsMapPaulisAsInStimsTableaux) {
  const std::map<std::string, std::vector<std::string>> one = {
      {"C_XYZ", {"+Y", "+X"}},
      {"C_ZYX", {"+Z", "+Y"}},
      {"C_NXYZ", {"-Y", "-X"}},
      {"C_XNYZ", {"-Y", "+X"}},
      {"C_XYNZ", {"+Y", "-X"}},
      {"C_NZYX", {"-Z", "-Y"}},
      {"C_ZNYX", {"+Z", "-Y"}},
      {"C_ZYNX", {"-Z", "+Y"}},
      {"H", {"+Z", "+X"}},
      {"H_XY", {"+Y", "-Z"}},
      {"H_YZ", {"-X", "+Y"}},
      {"H_NXY", {"-Y", "-Z"}},
      {"H_NXZ", {"-Z", "-X"}},
      {"H_NYZ", {"-X", "-Y"}},
      {"S", {"+Y", "+Z"}},
      {"S_DAG", {"-Y", "+Z"}},
      {"SQRT_X", {"+X", "-Y"}},
      {"SQRT_X_DAG", {"+X", "+Y"}},
      {"SQRT_Y", {"-Z", "+X"}},
      {"SQRT_Y_DAG", {"+Z", "-X"}},
      {"X", {"+X", "-Z"}},
      {"Y", {"-X", "-Z"}},
      {"Z", {"-X", "+Z"}},
      {"I", {"+X", "+Z"}},
  };
  for (const auto& [name, images] : one) {
    const Mat u = qw::gate_matrix(id_of(name), {});
    EXPECT_LT(dist(mul(mul(u, kX, 2), dagger(u, 2), 2), pauli_string(images[0])), 1e-12) << name << " X";
    EXPECT_LT(dist(mul(mul(u, kZ, 2), dagger(u, 2), 2), pauli_string(images[1])), 1e-12) << name << " Z";
  }
  const std::map<std::string, std::vector<std::string>> two = {
      {"CX", {"+XX", "+Z_", "+_X", "+ZZ"}},
      {"CY", {"+XY", "+Z_", "+ZX", "+ZZ"}},
      {"CZ", {"+XZ", "+Z_", "+ZX", "+_Z"}},
      {"CXSWAP", {"+XX", "+_Z", "+X_", "+ZZ"}},
      {"CZSWAP", {"+ZX", "+_Z", "+XZ", "+Z_"}},
      {"ISWAP", {"+ZY", "+_Z", "+YZ", "+Z_"}},
      {"ISWAP_DAG", {"-ZY", "+_Z", "-YZ", "+Z_"}},
      {"SQRT_XX", {"+X_", "-YX", "+_X", "-XY"}},
      {"SQRT_XX_DAG", {"+X_", "+YX", "+_X", "+XY"}},
      {"SQRT_YY", {"-ZY", "+XY", "-YZ", "+YX"}},
      {"SQRT_YY_DAG", {"+ZY", "-XY", "+YZ", "-YX"}},
      {"SQRT_ZZ", {"+YZ", "+Z_", "+ZY", "+_Z"}},
      {"SQRT_ZZ_DAG", {"-YZ", "+Z_", "-ZY", "+_Z"}},
      {"SWAP", {"+_X", "+_Z", "+X_", "+Z_"}},
      {"SWAPCX", {"+_X", "+ZZ", "+XX", "+Z_"}},
      {"XCX", {"+X_", "+ZX", "+_X", "+XZ"}},
      {"XCY", {"+X_", "+ZY", "+XX", "+XZ"}},
      {"XCZ", {"+X_", "+ZZ", "+XX", "+_Z"}},
      {"YCX", {"+XX", "+ZX", "+_X", "+YZ"}},
      {"YCY", {"+XY", "+ZY", "+YX", "+YZ"}},
      {"YCZ", {"+XZ", "+ZZ", "+YX", "+_Z"}},
      {"II", {"+X_", "+Z_", "+_X", "+_Z"}},
  };
  for (const auto& [name, images] : two) {
    const Mat u = qw::gate_matrix(id_of(name), {});
    const std::string inputs[4] = {"+X_", "+Z_", "+_X", "+_Z"};
    for (int k = 0; k < 4; ++k) {
      const Mat got = mul(mul(u, pauli_string(inputs[k]), 4), dagger(u, 4), 4);
      EXPECT_LT(dist(got, pauli_string(images[static_cast<std::size_t>(k)])), 1e-12) << name << " " << inputs[k];
    }
  }
}

TEST(Gates, EveryUnitaryGateIsUnitary) {
  for (const auto& g : qw::all_gates()) {
    if (g.kind != qw::GateKind::Unitary || g.group == 0) continue;
    std::vector<double> args(static_cast<std::size_t>(g.min_args), 0.37);
    const Mat u = qw::gate_matrix(g.id, args);
    const std::size_t d = std::size_t{1} << g.group;
    Mat id(d * d, 0.0);
    for (std::size_t i = 0; i < d; ++i) id[i * d + i] = 1;
    EXPECT_LT(dist(mul(u, dagger(u, d), d), id), 1e-12) << g.name;
  }
}

Mat rot(const Mat& p, double theta) {  // exp(-i theta P / 2) for a Pauli P
  Mat m(p.size());
  const std::size_t d = p.size() == 4 ? 2 : 4;
  for (std::size_t i = 0; i < p.size(); ++i) m[i] = -I1 * std::sin(theta / 2) * p[i];
  for (std::size_t i = 0; i < d; ++i) m[i * d + i] += std::cos(theta / 2);
  return m;
}
Mat controlled(const Mat& u) {  // control = qubit 0 (low bit), target = qubit 1
  Mat c(16, 0.0);
  for (int a = 0; a < 2; ++a) {
    c[(2 * a) * 4 + 2 * a] = 1;  // control 0: identity on the target
    for (int b = 0; b < 2; ++b) c[(2 * a + 1) * 4 + (2 * b + 1)] = u[static_cast<std::size_t>(a * 2 + b)];
  }
  return c;
}

TEST(Gates, NonCliffordGatesMatchTheirDefinitions) {
  const double t = 0.731, p = -1.234, l = 2.345, g = 0.4;
  using qw::GateId;
  auto m = [](GateId id, std::vector<double> a = {}) { return qw::gate_matrix(id, a); };
  const cd e4 = std::exp(I1 * M_PI / 4.0);
  EXPECT_LT(dist(m(GateId::T), {1, 0, 0, e4}), 1e-15);
  EXPECT_LT(dist(m(GateId::T_DAG), {1, 0, 0, std::conj(e4)}), 1e-15);
  EXPECT_LT(dist(m(GateId::ROT_X, {t}), rot(kX, t)), 1e-15);
  EXPECT_LT(dist(m(GateId::ROT_Y, {t}), rot(kY, t)), 1e-15);
  EXPECT_LT(dist(m(GateId::ROT_Z, {t}), rot(kZ, t)), 1e-15);
  EXPECT_LT(dist(m(GateId::PHASE, {l}), {1, 0, 0, std::exp(I1 * l)}), 1e-15);
  // U3 = Rz(phi) Ry(theta) Rz(lambda) up to the global phase e^{i(phi+lambda)/2} (OpenQASM 2).
  const Mat u3 = mul(mul(rot(kZ, p), rot(kY, t), 2), rot(kZ, l), 2);
  Mat u3p(u3);
  for (auto& x : u3p) x *= std::exp(I1 * (p + l) / 2.0);
  EXPECT_LT(dist(m(GateId::U3, {t, p, l}), u3p), 1e-14);
  const Mat xx = kron(kX, kX, 2, 2), yy = kron(kY, kY, 2, 2), zz = kron(kZ, kZ, 2, 2);
  EXPECT_LT(dist(m(GateId::ROT_XX, {t}), rot(xx, t)), 1e-15);
  EXPECT_LT(dist(m(GateId::ROT_YY, {t}), rot(yy, t)), 1e-15);
  EXPECT_LT(dist(m(GateId::ROT_ZZ, {t}), rot(zz, t)), 1e-15);
  const double s = M_SQRT1_2;
  EXPECT_LT(dist(m(GateId::CH), controlled({s, s, s, -s})), 1e-15);
  EXPECT_LT(dist(m(GateId::CSX), controlled({(1.0 + I1) / 2.0, (1.0 - I1) / 2.0, (1.0 - I1) / 2.0, (1.0 + I1) / 2.0})), 1e-15);
  EXPECT_LT(dist(m(GateId::CPHASE, {l}), controlled({1, 0, 0, std::exp(I1 * l)})), 1e-15);
  EXPECT_LT(dist(m(GateId::CRX, {t}), controlled(rot(kX, t))), 1e-15);
  EXPECT_LT(dist(m(GateId::CRY, {t}), controlled(rot(kY, t))), 1e-15);
  EXPECT_LT(dist(m(GateId::CRZ, {t}), controlled(rot(kZ, t))), 1e-15);
  Mat cu = u3p;
  for (auto& x : cu) x *= std::exp(I1 * g);
  EXPECT_LT(dist(m(GateId::CU, {t, p, l, g}), controlled(cu)), 1e-14);
  // Multi-controlled gates: permutation / phase on the all-controls-set subspace only.
  auto check_mcx = [&](GateId id, unsigned controls, bool z) {
    const Mat u = m(id);
    const std::size_t d = std::size_t{1} << (controls + 1), all = (std::size_t{1} << controls) - 1;
    for (std::size_t c = 0; c < d; ++c)
      for (std::size_t r = 0; r < d; ++r) {
        cd want = r == c ? 1.0 : 0.0;
        if ((c & all) == all) {
          if (z) want = r == c ? ((c >> controls) ? -1.0 : 1.0) : 0.0;
          else want = r == (c ^ (all + 1)) ? 1.0 : 0.0;
        }
        EXPECT_EQ(u[r * d + c], want) << qw::gate_info(id).name << " " << r << "," << c;
      }
  };
  check_mcx(GateId::CCX, 2, false);
  check_mcx(GateId::C3X, 3, false);
  check_mcx(GateId::C4X, 4, false);
  check_mcx(GateId::CCZ, 2, true);
  const Mat cswap = m(GateId::CSWAP);
  for (std::size_t c = 0; c < 8; ++c) {
    const std::size_t want = (c & 1) ? (c & 1) | ((c >> 1 & 1) << 2) | ((c >> 2 & 1) << 1) : c;
    EXPECT_EQ(cswap[want * 8 + c], cd(1.0)) << c;
  }
}

TEST(Gates, NamesAliasesAndAmbiguousResets) {
  EXPECT_EQ(qw::find_gate("cnot")->id, qw::GateId::CX);
  EXPECT_EQ(qw::find_gate("ZCX")->id, qw::GateId::CX);
  EXPECT_EQ(qw::find_gate("H_XZ")->id, qw::GateId::H);
  EXPECT_EQ(qw::find_gate("MZ")->id, qw::GateId::M);
  EXPECT_EQ(qw::find_gate("RX", 0)->id, qw::GateId::RX);
  EXPECT_EQ(qw::find_gate("RX", 1)->id, qw::GateId::ROT_X);
  EXPECT_EQ(qw::find_gate("RZ", 0)->id, qw::GateId::R);
  EXPECT_EQ(qw::find_gate("RZ", 1)->id, qw::GateId::ROT_Z);
  EXPECT_EQ(qw::find_gate("NOT_A_GATE"), nullptr);
  for (const auto& g : qw::all_gates()) EXPECT_EQ(&qw::gate_info(g.id), &g);
}

}  // namespace
