// The gate table: every instruction name the circuit formats know, with its aliases, arity and
// kind, and the unitary action of each unitary gate. Parsers and engines both read this table.
#pragma once
#include <array>
#include <complex>
#include <cstdint>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "kernels/complex.h"

namespace qw {

enum class GateId : std::uint16_t {
  // Stim: Pauli and identity
  I, X, Y, Z,
  // Stim: single-qubit Cliffords
  C_XYZ, C_ZYX, C_NXYZ, C_XNYZ, C_XYNZ, C_NZYX, C_ZNYX, C_ZYNX,
  H, H_XY, H_YZ, H_NXY, H_NXZ, H_NYZ,
  S, S_DAG, SQRT_X, SQRT_X_DAG, SQRT_Y, SQRT_Y_DAG,
  // Stim: two-qubit Cliffords
  CX, CY, CZ, CXSWAP, CZSWAP, ISWAP, ISWAP_DAG, SQRT_XX, SQRT_XX_DAG, SQRT_YY, SQRT_YY_DAG,
  SQRT_ZZ, SQRT_ZZ_DAG, SWAP, SWAPCX, XCX, XCY, XCZ, YCX, YCY, YCZ, II,
  // Stim: Pauli-product rotations by pi/2 (S-like)
  SPP, SPP_DAG,
  // qweave extensions: non-Clifford gates (dense engines only)
  T, T_DAG, ROT_X, ROT_Y, ROT_Z, U3, PHASE, ROT_XX, ROT_YY, ROT_ZZ,
  CH, CSX, CPHASE, CRX, CRY, CRZ, CU, CCX, CCZ, CSWAP, C3X, C4X,
  // Stim: collapsing operations
  M, MX, MY, MR, MRX, MRY, R, RX, RY, MPP, MXX, MYY, MZZ, MPAD,
  // Stim: noise channels (+ qweave's non-Pauli channels)
  X_ERROR, Y_ERROR, Z_ERROR, DEPOLARIZE1, DEPOLARIZE2, PAULI_CHANNEL_1, PAULI_CHANNEL_2,
  CORRELATED_ERROR, ELSE_CORRELATED_ERROR, HERALDED_ERASE, HERALDED_PAULI_CHANNEL_1,
  I_ERROR, II_ERROR, AMPLITUDE_DAMP, PHASE_DAMP, IDLE, KRAUS1, KRAUS2,
  // qweave: Bell-pair injection (resets its two targets, then places a Bell-diagonal pair)
  BELL_PAIR,
  // qweave: a pair delivered by a named link, sampled per shot (argument: index into the containing
  // Circuit's link_names; written LINK(name) a b)
  LINK,
  // Stim: annotations and control flow
  DETECTOR, OBSERVABLE_INCLUDE, QUBIT_COORDS, SHIFT_COORDS, TICK, REPEAT,
  COUNT_
};

enum class GateKind : std::uint8_t {
  Unitary,    // acts unitarily on its targets
  Collapse,   // measurement and/or reset
  Noise,      // channel (parsed now, run by the noise engines)
  Annotation, // no effect on the state
  Block,      // REPEAT
};

enum GateFlag : std::uint32_t {
  kTargetsPauliProducts = 1u << 0,  // targets like X0*Y1*Z2 (MPP, SPP, E)
  kAllowsRecControl = 1u << 1,      // rec[-k]/sweep[k] allowed as the classical control
  kRecTargets = 1u << 2,            // only rec[-k] targets (DETECTOR, OBSERVABLE_INCLUDE)
  kNoTargets = 1u << 3,             // TICK, SHIFT_COORDS
  kProducesResults = 1u << 4,       // appends to the measurement record
  kNoisyResultArg = 1u << 5,        // optional (p) flips each result with probability p
  kNonClifford = 1u << 6,
  kAllowsInvert = 1u << 7,          // !q targets (measurements)
  kValueTargets = 1u << 8,          // MPAD: targets are 0/1 values, not qubits
};

struct GateInfo {
  std::string_view name;  // canonical name as written by qweave (RX/RY are resets without an
                          // argument and rotations with one; find_gate tells them apart)
  GateId id;
  GateKind kind;
  std::uint8_t group;     // qubits per application (targets are a multiple of it); 0 = products
  std::int8_t min_args;   // parenthesised arguments accepted
  std::int8_t max_args;   // -1: any number
  std::uint32_t flags;
};

const GateInfo& gate_info(GateId id);
// Looks a name (case-insensitive, aliases included) up. With an argument count, resolves names that
// mean different gates with and without arguments (Stim's reset RX vs qweave's rotation RX(θ)).
const GateInfo* find_gate(std::string_view name, int arg_count = -1);
std::span<const GateInfo> all_gates();
std::vector<std::string_view> gate_aliases(GateId id);

// How a unitary gate acts on its group of qubits (q[0..group)). The first `controls` qubits of the
// group are controls (acting on |1>); the action is on the remaining 1 or 2 qubits.
struct GateAction {
  enum class Form : std::uint8_t { Identity, Pauli, Diagonal1, Diagonal2, Matrix1, Matrix2, Swap };
  Form form = Form::Identity;
  unsigned controls = 0;
  // Pauli form: pauli code per target position (0=I, 1=X, 2=Y, 3=Z).
  std::uint8_t pauli[2] = {0, 0};
  cplx64 diag[4] = {};  // double whatever the amplitude precision; kernels take to_kernel()
  Mat2d m2{};
  Mat4d m4{};
};

// The action of a unitary gate with its arguments. Precondition: kind == Unitary, not SPP*.
GateAction gate_action(GateId id, std::span<const double> args);

// The Kraus operators of KRAUS1 (8 numbers per operator: the 2x2 matrix row-major as re, im pairs)
// or KRAUS2 (32 per operator, 4x4; index bit 0 = first target), as dense row-major matrices.
std::vector<std::vector<std::complex<double>>> kraus_operators(GateId id, std::span<const double> args);
// Why these arguments are not a valid Kraus map ("" when they are): a count that is not a multiple
// of 8 / 32, or operators whose sum of K^dag K differs from the identity by more than 1e-9.
std::string kraus_problem(GateId id, std::span<const double> args);

// BELL_PAIR's state as weights of (Phi+, Psi+, Psi-, Phi-): one argument is a Werner pair of
// fidelity F (F, (1-F)/3, (1-F)/3, (1-F)/3), four are the weights (divided by their sum). Weight k is the
// probability of the Pauli sigma_k = (I, X, Y, Z) on the first qubit of |Phi+> (kernels/link_maps.h).
std::array<double, 4> bell_pair_weights(std::span<const double> args);
// Why these arguments are not a valid BELL_PAIR ("" when they are), and which argument is at fault
// (*bad_arg, an index into args).
std::string bell_pair_problem(std::span<const double> args, std::size_t* bad_arg = nullptr);

// The full 2^g x 2^g matrix of a unitary gate on its group (row-major, index bit j = group qubit j),
// built from gate_action; used by tests and the reference simulators.
std::vector<std::complex<double>> gate_matrix(GateId id, std::span<const double> args);

}  // namespace qw
