#include "host/gates.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace qw {
namespace {

using K = GateKind;
constexpr std::uint32_t kMeasure = kProducesResults | kNoisyResultArg | kAllowsInvert;

struct AliasEntry {
  std::string_view name;
  GateId id;
};

// Canonical entries, in GateId order.
constexpr GateInfo kGates[] = {
    {"I", GateId::I, K::Unitary, 1, 0, 0, 0},
    {"X", GateId::X, K::Unitary, 1, 0, 0, 0},
    {"Y", GateId::Y, K::Unitary, 1, 0, 0, 0},
    {"Z", GateId::Z, K::Unitary, 1, 0, 0, 0},
    {"C_XYZ", GateId::C_XYZ, K::Unitary, 1, 0, 0, 0},
    {"C_ZYX", GateId::C_ZYX, K::Unitary, 1, 0, 0, 0},
    {"C_NXYZ", GateId::C_NXYZ, K::Unitary, 1, 0, 0, 0},
    {"C_XNYZ", GateId::C_XNYZ, K::Unitary, 1, 0, 0, 0},
    {"C_XYNZ", GateId::C_XYNZ, K::Unitary, 1, 0, 0, 0},
    {"C_NZYX", GateId::C_NZYX, K::Unitary, 1, 0, 0, 0},
    {"C_ZNYX", GateId::C_ZNYX, K::Unitary, 1, 0, 0, 0},
    {"C_ZYNX", GateId::C_ZYNX, K::Unitary, 1, 0, 0, 0},
    {"H", GateId::H, K::Unitary, 1, 0, 0, 0},
    {"H_XY", GateId::H_XY, K::Unitary, 1, 0, 0, 0},
    {"H_YZ", GateId::H_YZ, K::Unitary, 1, 0, 0, 0},
    {"H_NXY", GateId::H_NXY, K::Unitary, 1, 0, 0, 0},
    {"H_NXZ", GateId::H_NXZ, K::Unitary, 1, 0, 0, 0},
    {"H_NYZ", GateId::H_NYZ, K::Unitary, 1, 0, 0, 0},
    {"S", GateId::S, K::Unitary, 1, 0, 0, 0},
    {"S_DAG", GateId::S_DAG, K::Unitary, 1, 0, 0, 0},
    {"SQRT_X", GateId::SQRT_X, K::Unitary, 1, 0, 0, 0},
    {"SQRT_X_DAG", GateId::SQRT_X_DAG, K::Unitary, 1, 0, 0, 0},
    {"SQRT_Y", GateId::SQRT_Y, K::Unitary, 1, 0, 0, 0},
    {"SQRT_Y_DAG", GateId::SQRT_Y_DAG, K::Unitary, 1, 0, 0, 0},
    {"CX", GateId::CX, K::Unitary, 2, 0, 0, kAllowsRecControl},
    {"CY", GateId::CY, K::Unitary, 2, 0, 0, kAllowsRecControl},
    {"CZ", GateId::CZ, K::Unitary, 2, 0, 0, kAllowsRecControl},
    {"CXSWAP", GateId::CXSWAP, K::Unitary, 2, 0, 0, 0},
    {"CZSWAP", GateId::CZSWAP, K::Unitary, 2, 0, 0, 0},
    {"ISWAP", GateId::ISWAP, K::Unitary, 2, 0, 0, 0},
    {"ISWAP_DAG", GateId::ISWAP_DAG, K::Unitary, 2, 0, 0, 0},
    {"SQRT_XX", GateId::SQRT_XX, K::Unitary, 2, 0, 0, 0},
    {"SQRT_XX_DAG", GateId::SQRT_XX_DAG, K::Unitary, 2, 0, 0, 0},
    {"SQRT_YY", GateId::SQRT_YY, K::Unitary, 2, 0, 0, 0},
    {"SQRT_YY_DAG", GateId::SQRT_YY_DAG, K::Unitary, 2, 0, 0, 0},
    {"SQRT_ZZ", GateId::SQRT_ZZ, K::Unitary, 2, 0, 0, 0},
    {"SQRT_ZZ_DAG", GateId::SQRT_ZZ_DAG, K::Unitary, 2, 0, 0, 0},
    {"SWAP", GateId::SWAP, K::Unitary, 2, 0, 0, 0},
    {"SWAPCX", GateId::SWAPCX, K::Unitary, 2, 0, 0, 0},
    {"XCX", GateId::XCX, K::Unitary, 2, 0, 0, 0},
    {"XCY", GateId::XCY, K::Unitary, 2, 0, 0, 0},
    {"XCZ", GateId::XCZ, K::Unitary, 2, 0, 0, kAllowsRecControl},
    {"YCX", GateId::YCX, K::Unitary, 2, 0, 0, 0},
    {"YCY", GateId::YCY, K::Unitary, 2, 0, 0, 0},
    {"YCZ", GateId::YCZ, K::Unitary, 2, 0, 0, kAllowsRecControl},
    {"II", GateId::II, K::Unitary, 2, 0, 0, 0},
    {"SPP", GateId::SPP, K::Unitary, 0, 0, 0, kTargetsPauliProducts | kAllowsInvert},
    {"SPP_DAG", GateId::SPP_DAG, K::Unitary, 0, 0, 0, kTargetsPauliProducts | kAllowsInvert},
    {"T", GateId::T, K::Unitary, 1, 0, 0, kNonClifford},
    {"T_DAG", GateId::T_DAG, K::Unitary, 1, 0, 0, kNonClifford},
    {"RX", GateId::ROT_X, K::Unitary, 1, 1, 1, kNonClifford},
    {"RY", GateId::ROT_Y, K::Unitary, 1, 1, 1, kNonClifford},
    {"RZ", GateId::ROT_Z, K::Unitary, 1, 1, 1, kNonClifford},
    {"U3", GateId::U3, K::Unitary, 1, 3, 3, kNonClifford},
    {"P", GateId::PHASE, K::Unitary, 1, 1, 1, kNonClifford},
    {"RXX", GateId::ROT_XX, K::Unitary, 2, 1, 1, kNonClifford},
    {"RYY", GateId::ROT_YY, K::Unitary, 2, 1, 1, kNonClifford},
    {"RZZ", GateId::ROT_ZZ, K::Unitary, 2, 1, 1, kNonClifford},
    {"CH", GateId::CH, K::Unitary, 2, 0, 0, kNonClifford},
    {"CSX", GateId::CSX, K::Unitary, 2, 0, 0, kNonClifford},
    {"CP", GateId::CPHASE, K::Unitary, 2, 1, 1, kNonClifford},
    {"CRX", GateId::CRX, K::Unitary, 2, 1, 1, kNonClifford},
    {"CRY", GateId::CRY, K::Unitary, 2, 1, 1, kNonClifford},
    {"CRZ", GateId::CRZ, K::Unitary, 2, 1, 1, kNonClifford},
    {"CU", GateId::CU, K::Unitary, 2, 4, 4, kNonClifford},
    {"CCX", GateId::CCX, K::Unitary, 3, 0, 0, kNonClifford},
    {"CCZ", GateId::CCZ, K::Unitary, 3, 0, 0, kNonClifford},
    {"CSWAP", GateId::CSWAP, K::Unitary, 3, 0, 0, kNonClifford},
    {"C3X", GateId::C3X, K::Unitary, 4, 0, 0, kNonClifford},
    {"C4X", GateId::C4X, K::Unitary, 5, 0, 0, kNonClifford},
    {"M", GateId::M, K::Collapse, 1, 0, 1, kMeasure},
    {"MX", GateId::MX, K::Collapse, 1, 0, 1, kMeasure},
    {"MY", GateId::MY, K::Collapse, 1, 0, 1, kMeasure},
    {"MR", GateId::MR, K::Collapse, 1, 0, 1, kMeasure},
    {"MRX", GateId::MRX, K::Collapse, 1, 0, 1, kMeasure},
    {"MRY", GateId::MRY, K::Collapse, 1, 0, 1, kMeasure},
    {"R", GateId::R, K::Collapse, 1, 0, 0, 0},
    {"RX", GateId::RX, K::Collapse, 1, 0, 0, 0},
    {"RY", GateId::RY, K::Collapse, 1, 0, 0, 0},
    {"MPP", GateId::MPP, K::Collapse, 0, 0, 1, kMeasure | kTargetsPauliProducts},
    {"MXX", GateId::MXX, K::Collapse, 2, 0, 1, kMeasure},
    {"MYY", GateId::MYY, K::Collapse, 2, 0, 1, kMeasure},
    {"MZZ", GateId::MZZ, K::Collapse, 2, 0, 1, kMeasure},
    {"MPAD", GateId::MPAD, K::Collapse, 1, 0, 1, kProducesResults | kNoisyResultArg | kValueTargets},
    {"X_ERROR", GateId::X_ERROR, K::Noise, 1, 1, 1, 0},
    {"Y_ERROR", GateId::Y_ERROR, K::Noise, 1, 1, 1, 0},
    {"Z_ERROR", GateId::Z_ERROR, K::Noise, 1, 1, 1, 0},
    {"DEPOLARIZE1", GateId::DEPOLARIZE1, K::Noise, 1, 1, 1, 0},
    {"DEPOLARIZE2", GateId::DEPOLARIZE2, K::Noise, 2, 1, 1, 0},
    {"PAULI_CHANNEL_1", GateId::PAULI_CHANNEL_1, K::Noise, 1, 3, 3, 0},
    {"PAULI_CHANNEL_2", GateId::PAULI_CHANNEL_2, K::Noise, 2, 15, 15, 0},
    {"E", GateId::CORRELATED_ERROR, K::Noise, 0, 1, 1, kTargetsPauliProducts},
    {"ELSE_CORRELATED_ERROR", GateId::ELSE_CORRELATED_ERROR, K::Noise, 0, 1, 1,
     kTargetsPauliProducts},
    {"HERALDED_ERASE", GateId::HERALDED_ERASE, K::Noise, 1, 1, 1, kProducesResults},
    {"HERALDED_PAULI_CHANNEL_1", GateId::HERALDED_PAULI_CHANNEL_1, K::Noise, 1, 4, 4,
     kProducesResults},
    {"I_ERROR", GateId::I_ERROR, K::Noise, 1, 0, -1, 0},
    {"II_ERROR", GateId::II_ERROR, K::Noise, 2, 0, -1, 0},
    {"AMPLITUDE_DAMP", GateId::AMPLITUDE_DAMP, K::Noise, 1, 1, 1, 0},
    {"PHASE_DAMP", GateId::PHASE_DAMP, K::Noise, 1, 1, 1, 0},
    {"IDLE", GateId::IDLE, K::Noise, 1, 1, 1, 0},
    {"KRAUS1", GateId::KRAUS1, K::Noise, 1, 8, -1, 0},
    {"KRAUS2", GateId::KRAUS2, K::Noise, 2, 32, -1, 0},
    // Noise, not Collapse: it writes no result and a density matrix runs it exactly (reset channels,
    // then an exact Pauli channel), so the terminal-measurement analysis may treat it like noise.
    {"BELL_PAIR", GateId::BELL_PAIR, K::Noise, 2, 1, 4, 0},
    // LINK(name) a b: its one argument is the name's index in the circuit's link_names.
    {"LINK", GateId::LINK, K::Noise, 2, 1, 1, 0},
    {"DETECTOR", GateId::DETECTOR, K::Annotation, 0, 0, -1, kRecTargets},
    {"OBSERVABLE_INCLUDE", GateId::OBSERVABLE_INCLUDE, K::Annotation, 0, 1, 1,
     kRecTargets | kTargetsPauliProducts},
    {"QUBIT_COORDS", GateId::QUBIT_COORDS, K::Annotation, 1, 0, -1, 0},
    {"SHIFT_COORDS", GateId::SHIFT_COORDS, K::Annotation, 0, 0, -1, kNoTargets},
    {"TICK", GateId::TICK, K::Annotation, 0, 0, 0, kNoTargets},
    {"REPEAT", GateId::REPEAT, K::Block, 0, 0, 0, 0},
};
static_assert(std::size(kGates) == static_cast<std::size_t>(GateId::COUNT_));

constexpr AliasEntry kAliases[] = {
    {"H_XZ", GateId::H},          {"SQRT_Z", GateId::S},   {"SQRT_Z_DAG", GateId::S_DAG},
    {"CNOT", GateId::CX},         {"ZCX", GateId::CX},     {"ZCY", GateId::CY},
    {"ZCZ", GateId::CZ},          {"SWAPCZ", GateId::CZSWAP}, {"MZ", GateId::M},
    {"MRZ", GateId::MR},          {"CORRELATED_ERROR", GateId::CORRELATED_ERROR},
    {"U", GateId::U3},            {"U1", GateId::PHASE},   {"PHASE", GateId::PHASE},
    {"CPHASE", GateId::CPHASE},   {"TOFFOLI", GateId::CCX}, {"FREDKIN", GateId::CSWAP},
    {"SX", GateId::SQRT_X},       {"SX_DAG", GateId::SQRT_X_DAG},
};

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

// Stim's unitaries in its canonical global phase (stim.Tableau.to_unitary_matrix, little endian),
// s = 1/sqrt(2), h = 1/2. Row-major; index bit 0 = first target.
constexpr double s = 0.70710678118654752440;
constexpr double h = 0.5;
struct StimMatrix {
  GateId id;
  double m[16][2];
};
constexpr StimMatrix kStimMatrices[] = {
      {GateId::C_XYZ, {{s, 0}, {0, -s}, {s, 0}, {0, s}}},
      {GateId::C_ZYX, {{s, 0}, {s, 0}, {0, s}, {0, -s}}},
      {GateId::C_NXYZ, {{s, 0}, {0, -s}, {-s, 0}, {0, -s}}},
      {GateId::C_XNYZ, {{s, 0}, {0, s}, {s, 0}, {0, -s}}},
      {GateId::C_XYNZ, {{s, 0}, {0, s}, {-s, 0}, {0, s}}},
      {GateId::C_NZYX, {{s, 0}, {-s, 0}, {0, -s}, {0, -s}}},
      {GateId::C_ZNYX, {{s, 0}, {s, 0}, {0, -s}, {0, s}}},
      {GateId::C_ZYNX, {{s, 0}, {-s, 0}, {0, s}, {0, s}}},
      {GateId::H, {{s, 0}, {s, 0}, {s, 0}, {-s, 0}}},
      {GateId::H_XY, {{0, 0}, {1, 0}, {0, 1}, {0, 0}}},
      {GateId::H_YZ, {{s, 0}, {0, -s}, {0, s}, {-s, 0}}},
      {GateId::H_NXY, {{0, 0}, {1, 0}, {0, -1}, {0, 0}}},
      {GateId::H_NXZ, {{s, 0}, {-s, 0}, {-s, 0}, {-s, 0}}},
      {GateId::H_NYZ, {{s, 0}, {0, s}, {0, -s}, {-s, 0}}},
      {GateId::SQRT_X, {{s, 0}, {0, -s}, {0, -s}, {s, 0}}},
      {GateId::SQRT_X_DAG, {{s, 0}, {0, s}, {0, s}, {s, 0}}},
      {GateId::SQRT_Y, {{s, 0}, {-s, 0}, {s, 0}, {s, 0}}},
      {GateId::SQRT_Y_DAG, {{s, 0}, {s, 0}, {-s, 0}, {s, 0}}},
      {GateId::CXSWAP, {{1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {1, 0}, {0, 0}, {1, 0}, {0, 0}, {0, 0}}},
      {GateId::CZSWAP, {{1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {1, 0}, {0, 0}, {0, 0}, {1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {-1, 0}}},
      {GateId::ISWAP, {{1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 1}, {0, 0}, {0, 0}, {0, 1}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {1, 0}}},
      {GateId::ISWAP_DAG, {{1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, -1}, {0, 0}, {0, 0}, {0, -1}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {1, 0}}},
      {GateId::SQRT_XX, {{s, 0}, {0, 0}, {0, 0}, {0, -s}, {0, 0}, {s, 0}, {0, -s}, {0, 0}, {0, 0}, {0, -s}, {s, 0}, {0, 0}, {0, -s}, {0, 0}, {0, 0}, {s, 0}}},
      {GateId::SQRT_XX_DAG, {{s, 0}, {0, 0}, {0, 0}, {0, s}, {0, 0}, {s, 0}, {0, s}, {0, 0}, {0, 0}, {0, s}, {s, 0}, {0, 0}, {0, s}, {0, 0}, {0, 0}, {s, 0}}},
      {GateId::SQRT_YY, {{s, 0}, {0, 0}, {0, 0}, {0, s}, {0, 0}, {s, 0}, {0, -s}, {0, 0}, {0, 0}, {0, -s}, {s, 0}, {0, 0}, {0, s}, {0, 0}, {0, 0}, {s, 0}}},
      {GateId::SQRT_YY_DAG, {{s, 0}, {0, 0}, {0, 0}, {0, -s}, {0, 0}, {s, 0}, {0, s}, {0, 0}, {0, 0}, {0, s}, {s, 0}, {0, 0}, {0, -s}, {0, 0}, {0, 0}, {s, 0}}},
      {GateId::SWAPCX, {{1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {1, 0}, {0, 0}, {1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {1, 0}, {0, 0}}},
      {GateId::XCX, {{h, 0}, {h, 0}, {h, 0}, {-h, 0}, {h, 0}, {h, 0}, {-h, 0}, {h, 0}, {h, 0}, {-h, 0}, {h, 0}, {h, 0}, {-h, 0}, {h, 0}, {h, 0}, {h, 0}}},
      {GateId::XCY, {{h, 0}, {h, 0}, {0, -h}, {0, h}, {h, 0}, {h, 0}, {0, h}, {0, -h}, {0, h}, {0, -h}, {h, 0}, {h, 0}, {0, -h}, {0, h}, {h, 0}, {h, 0}}},
      {GateId::XCZ, {{1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {1, 0}, {0, 0}, {0, 0}, {1, 0}, {0, 0}}},
      {GateId::YCX, {{h, 0}, {0, -h}, {h, 0}, {0, h}, {0, h}, {h, 0}, {0, -h}, {h, 0}, {h, 0}, {0, h}, {h, 0}, {0, -h}, {0, -h}, {h, 0}, {0, h}, {h, 0}}},
      {GateId::YCY, {{h, 0}, {0, -h}, {0, -h}, {h, 0}, {0, h}, {h, 0}, {-h, 0}, {0, -h}, {0, h}, {-h, 0}, {h, 0}, {0, -h}, {h, 0}, {0, h}, {0, h}, {h, 0}}},
      {GateId::YCZ, {{1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {1, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, -1}, {0, 0}, {0, 0}, {0, 1}, {0, 0}}},
};

const StimMatrix* stim_matrix(GateId id) {
  for (const auto& e : kStimMatrices) if (e.id == id) return &e;
  return nullptr;
}

cplx64 c(double re, double im = 0) { return cplx64{re, im}; }
cplx64 expi(double phi) { return c(std::cos(phi), std::sin(phi)); }

Mat2d u3(double theta, double phi, double lambda) {
  const double co = std::cos(theta / 2), si = std::sin(theta / 2);
  Mat2d m;
  m.m[0] = c(co);
  m.m[1] = (-si) * expi(lambda);
  m.m[2] = si * expi(phi);
  m.m[3] = co * expi(phi + lambda);
  return m;
}

}  // namespace

std::span<const GateInfo> all_gates() { return kGates; }

const GateInfo& gate_info(GateId id) { return kGates[static_cast<std::size_t>(id)]; }

const GateInfo* find_gate(std::string_view name, int arg_count) {
  const std::string u = upper(name);
  // Stim's resets R/RZ, RX, RY take no arguments; with one argument the name is a rotation.
  if (arg_count >= 1) {
    if (u == "RX") return &gate_info(GateId::ROT_X);
    if (u == "RY") return &gate_info(GateId::ROT_Y);
    if (u == "RZ") return &gate_info(GateId::ROT_Z);
  } else {
    if (u == "RX") return &gate_info(GateId::RX);
    if (u == "RY") return &gate_info(GateId::RY);
    if (u == "RZ") return &gate_info(GateId::R);
  }
  for (const auto& g : kGates) {
    if (g.name == u) return &g;
  }
  for (const auto& a : kAliases) {
    if (a.name == u) return &gate_info(a.id);
  }
  return nullptr;
}

std::vector<std::string_view> gate_aliases(GateId id) {
  std::vector<std::string_view> out{gate_info(id).name};
  for (const auto& a : kAliases) if (a.id == id) out.push_back(a.name);
  if (id == GateId::R) out.push_back("RZ");
  return out;
}

GateAction gate_action(GateId id, std::span<const double> args) {
  using F = GateAction::Form;
  GateAction a;
  auto arg = [&](std::size_t i) {
    if (i >= args.size()) throw std::logic_error("gate_action: missing argument");
    return args[i];
  };
  auto pauli = [&](unsigned controls, std::uint8_t p) {
    a.form = F::Pauli;
    a.controls = controls;
    a.pauli[0] = p;
  };
  auto diag1 = [&](unsigned controls, cplx64 d0, cplx64 d1) {
    a.form = F::Diagonal1;
    a.controls = controls;
    a.diag[0] = d0;
    a.diag[1] = d1;
  };
  auto mat1 = [&](unsigned controls, const Mat2d& m) {
    a.form = F::Matrix1;
    a.controls = controls;
    a.m2 = m;
  };
  switch (id) {
    case GateId::I:
    case GateId::II: a.form = F::Identity; return a;
    case GateId::X: pauli(0, 1); return a;
    case GateId::Y: pauli(0, 2); return a;
    case GateId::Z: pauli(0, 3); return a;
    case GateId::CX: pauli(1, 1); return a;
    case GateId::CY: pauli(1, 2); return a;
    case GateId::CZ: pauli(1, 3); return a;
    case GateId::CCX: pauli(2, 1); return a;
    case GateId::CCZ: pauli(2, 3); return a;
    case GateId::C3X: pauli(3, 1); return a;
    case GateId::C4X: pauli(4, 1); return a;
    case GateId::S: diag1(0, c(1), c(0, 1)); return a;
    case GateId::S_DAG: diag1(0, c(1), c(0, -1)); return a;
    case GateId::T: diag1(0, c(1), c(s, s)); return a;
    case GateId::T_DAG: diag1(0, c(1), c(s, -s)); return a;
    case GateId::ROT_Z: diag1(0, expi(-arg(0) / 2), expi(arg(0) / 2)); return a;
    case GateId::PHASE: diag1(0, c(1), expi(arg(0))); return a;
    case GateId::CPHASE: diag1(1, c(1), expi(arg(0))); return a;
    case GateId::CRZ: diag1(1, expi(-arg(0) / 2), expi(arg(0) / 2)); return a;
    case GateId::SQRT_ZZ:
    case GateId::SQRT_ZZ_DAG:
    case GateId::ROT_ZZ: {
      const double theta = id == GateId::ROT_ZZ ? arg(0) : (id == GateId::SQRT_ZZ ? M_PI / 2 : -M_PI / 2);
      a.form = F::Diagonal2;
      // Stim's SQRT_ZZ = diag(1, i, i, 1) = e^{i pi/4} exp(-i pi/4 ZZ); RZZ(θ) = exp(-iθ ZZ/2).
      const bool stim_phase = id != GateId::ROT_ZZ;
      const double shift = stim_phase ? theta / 2 : 0;
      a.diag[0] = a.diag[3] = expi(-theta / 2 + shift);
      a.diag[1] = a.diag[2] = expi(theta / 2 + shift);
      return a;
    }
    case GateId::SWAP: a.form = F::Swap; return a;
    case GateId::CSWAP: a.form = F::Swap; a.controls = 1; return a;
    case GateId::ROT_X: {
      const double co = std::cos(arg(0) / 2), si = std::sin(arg(0) / 2);
      mat1(0, Mat2d{{c(co), c(0, -si), c(0, -si), c(co)}});
      return a;
    }
    case GateId::ROT_Y: {
      const double co = std::cos(arg(0) / 2), si = std::sin(arg(0) / 2);
      mat1(0, Mat2d{{c(co), c(-si), c(si), c(co)}});
      return a;
    }
    case GateId::U3: mat1(0, u3(arg(0), arg(1), arg(2))); return a;
    case GateId::CH: mat1(1, Mat2d{{c(s), c(s), c(s), c(-s)}}); return a;
    // Qiskit's SX = [[1+i, 1-i], [1-i, 1+i]]/2, controlled.
    case GateId::CSX: mat1(1, Mat2d{{c(h, h), c(h, -h), c(h, -h), c(h, h)}}); return a;
    case GateId::CRX: {
      const double co = std::cos(arg(0) / 2), si = std::sin(arg(0) / 2);
      mat1(1, Mat2d{{c(co), c(0, -si), c(0, -si), c(co)}});
      return a;
    }
    case GateId::CRY: {
      const double co = std::cos(arg(0) / 2), si = std::sin(arg(0) / 2);
      mat1(1, Mat2d{{c(co), c(-si), c(si), c(co)}});
      return a;
    }
    case GateId::CU: {  // OpenQASM 3 / Qiskit cu(θ, φ, λ, γ): controlled e^{iγ} U3(θ, φ, λ)
      Mat2d m = u3(arg(0), arg(1), arg(2));
      for (auto& e : m.m) e = expi(arg(3)) * e;
      mat1(1, m);
      return a;
    }
    case GateId::ROT_XX:
    case GateId::ROT_YY: {
      const double co = std::cos(arg(0) / 2), si = std::sin(arg(0) / 2);
      a.form = F::Matrix2;
      for (auto& e : a.m4.m) e = c(0);
      for (int k = 0; k < 4; ++k) a.m4.m[5 * k] = c(co);
      // exp(-iθ PP/2) = cos(θ/2) I - i sin(θ/2) PP; XX|b> = |b^3>, YY has -1 on 0<->3.
      const double outer = id == GateId::ROT_XX ? -si : si;
      a.m4.m[3] = a.m4.m[12] = c(0, outer);
      a.m4.m[6] = a.m4.m[9] = c(0, -si);
      return a;
    }
    default: break;
  }
  const GateInfo& info = gate_info(id);
  if (info.kind != GateKind::Unitary || info.group == 0) {
    throw std::logic_error("gate_action: " + std::string(info.name) + " is not a fixed-arity unitary");
  }
  const StimMatrix* sm = stim_matrix(id);
  if (!sm) throw std::logic_error("gate_action: no matrix for " + std::string(info.name));
  if (info.group == 1) {
    a.form = F::Matrix1;
    for (int k = 0; k < 4; ++k) a.m2.m[k] = c(sm->m[k][0], sm->m[k][1]);
  } else {
    a.form = F::Matrix2;
    for (int k = 0; k < 16; ++k) a.m4.m[k] = c(sm->m[k][0], sm->m[k][1]);
  }
  return a;
}

std::vector<std::vector<std::complex<double>>> kraus_operators(GateId id, std::span<const double> args) {
  const std::size_t dim = id == GateId::KRAUS2 ? 4 : 2, per = 2 * dim * dim;
  std::vector<std::vector<std::complex<double>>> out;
  for (std::size_t k = 0; k + per <= args.size(); k += per) {
    std::vector<std::complex<double>> m(dim * dim);
    for (std::size_t e = 0; e < dim * dim; ++e) m[e] = {args[k + 2 * e], args[k + 2 * e + 1]};
    out.push_back(std::move(m));
  }
  return out;
}

std::string kraus_problem(GateId id, std::span<const double> args) {
  const std::size_t dim = id == GateId::KRAUS2 ? 4 : 2, per = 2 * dim * dim;
  const std::string name(gate_info(id).name);
  if (args.size() % per != 0) {
    return name + " takes " + std::to_string(per) + " numbers per Kraus operator (the " +
           std::to_string(dim) + "x" + std::to_string(dim) + " matrix row by row, re and im), got " +
           std::to_string(args.size());
  }
  if (args.size() / per > 64) {
    return name + " takes at most 64 Kraus operators, got " + std::to_string(args.size() / per);
  }
  std::vector<std::complex<double>> sum(dim * dim, 0.0);
  for (const auto& k : kraus_operators(id, args))
    for (std::size_t r = 0; r < dim; ++r)
      for (std::size_t c = 0; c < dim; ++c)
        for (std::size_t m = 0; m < dim; ++m) sum[r * dim + c] += std::conj(k[m * dim + r]) * k[m * dim + c];
  double worst = 0;
  for (std::size_t r = 0; r < dim; ++r)
    for (std::size_t c = 0; c < dim; ++c) worst = std::max(worst, std::abs(sum[r * dim + c] - (r == c ? 1.0 : 0.0)));
  if (!(worst <= 1e-9)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3g", worst);
    return name + " operators are not trace preserving: sum of K^dag K differs from the identity by " + buf;
  }
  return "";
}

std::array<double, 4> bell_pair_weights(std::span<const double> args) {
  if (args.size() == 4) {  // valid weights sum to 1 within 1e-9; normalised to keep the trace exact
    const double sum = args[0] + args[1] + args[2] + args[3];
    return {args[0] / sum, args[1] / sum, args[2] / sum, args[3] / sum};
  }
  const double f = args.empty() ? 1.0 : args[0];
  return {f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3};
}

std::string bell_pair_problem(std::span<const double> args, std::size_t* bad_arg) {
  auto fail = [&](std::size_t k, std::string what) {
    if (bad_arg) *bad_arg = k;
    return what;
  };
  if (args.size() != 1 && args.size() != 4) {
    return fail(0, fmt::format("BELL_PAIR takes 1 argument (the fidelity F) or 4 (the weights of Phi+, "
                               "Psi+, Psi-, Phi-), got {}", args.size()));
  }
  if (args.size() == 1) {
    if (!(args[0] >= 0 && args[0] <= 1)) {
      return fail(0, fmt::format("BELL_PAIR fidelity must be in [0, 1], got {}", args[0]));
    }
    return "";
  }
  static const char* const names[4] = {"Phi+", "Psi+", "Psi-", "Phi-"};
  double sum = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    if (!(args[k] >= 0 && args[k] <= 1)) {
      return fail(k, fmt::format("BELL_PAIR weight of {} must be in [0, 1], got {}", names[k], args[k]));
    }
    sum += args[k];
  }
  if (!(std::abs(sum - 1) <= 1e-9)) {
    return fail(0, fmt::format("BELL_PAIR weights must sum to 1, got {}", sum));
  }
  return "";
}

std::vector<std::complex<double>> gate_matrix(GateId id, std::span<const double> args) {
  using F = GateAction::Form;
  const GateInfo& info = gate_info(id);
  const unsigned g = info.group;
  const std::size_t dim = std::size_t{1} << g;
  std::vector<std::complex<double>> u(dim * dim, 0.0);
  const GateAction a = gate_action(id, args);
  auto cx = [](cplx64 v) { return std::complex<double>(v.re, v.im); };
  const std::size_t cmask = (std::size_t{1} << a.controls) - 1;
  for (std::size_t col = 0; col < dim; ++col) {
    if ((col & cmask) != cmask || a.form == F::Identity) {
      u[col * dim + col] = 1.0;
      continue;
    }
    const unsigned t0 = a.controls, t1 = a.controls + 1;
    const std::size_t b0 = (col >> t0) & 1, b1 = (col >> t1) & 1;
    const std::size_t rest1 = col & ~(std::size_t{1} << t0);
    const std::size_t rest2 = rest1 & ~(std::size_t{1} << t1);
    switch (a.form) {
      case F::Pauli: {
        static const std::complex<double> P[4][2][2] = {
            {{1, 0}, {0, 1}}, {{0, 1}, {1, 0}},
            {{0, std::complex<double>(0, -1)}, {std::complex<double>(0, 1), 0}}, {{1, 0}, {0, -1}}};
        for (std::size_t r = 0; r < 2; ++r) u[(rest1 | (r << t0)) * dim + col] = P[a.pauli[0]][r][b0];
        break;
      }
      case F::Diagonal1: u[col * dim + col] = cx(a.diag[b0]); break;
      case F::Diagonal2: u[col * dim + col] = cx(a.diag[b0 | (b1 << 1)]); break;
      case F::Matrix1:
        for (std::size_t r = 0; r < 2; ++r) u[(rest1 | (r << t0)) * dim + col] = cx(a.m2.m[r * 2 + b0]);
        break;
      case F::Matrix2:
        for (std::size_t r = 0; r < 4; ++r) {
          const std::size_t row = rest2 | ((r & 1) << t0) | ((r >> 1) << t1);
          u[row * dim + col] = cx(a.m4.m[r * 4 + (b0 | (b1 << 1))]);
        }
        break;
      case F::Swap: u[(rest2 | (b1 << t0) | (b0 << t1)) * dim + col] = 1.0; break;
      case F::Identity: break;
    }
  }
  return u;
}

}  // namespace qw
