// The one circuit type every engine reads (parsers fill it, engines never re-parse).
// Instructions hold offsets into the circuit's argument and target arenas; REPEAT bodies are kept
// as separate blocks and never unrolled in memory.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "host/gates.h"

namespace qw {

struct Target {
  enum Flag : std::uint32_t {
    kInverted = 1u << 0,  // !q: measurement result flipped
    kRec = 1u << 1,       // rec[-value]: value >= 1 counts back from the newest result
    kSweep = 1u << 2,     // sweep[value]
    kPauliX = 1u << 3,    // X or Y part of a Pauli-product target
    kPauliZ = 1u << 4,    // Z or Y part of a Pauli-product target
    kCombiner = 1u << 5,  // '*' between Pauli-product factors
  };
  std::uint32_t value = 0;  // qubit index, rec lookback, sweep index, or MPAD value
  std::uint32_t flags = 0;

  static Target qubit(std::uint32_t q, bool inverted = false) {
    return {q, inverted ? std::uint32_t{kInverted} : 0u};
  }
  static Target rec(std::uint32_t lookback) { return {lookback, kRec}; }
  static Target sweep(std::uint32_t index) { return {index, kSweep}; }
  static Target pauli(char p, std::uint32_t q, bool inverted = false);  // p in X, Y, Z
  static Target combiner() { return {0, kCombiner}; }

  bool is_qubit() const { return (flags & (kRec | kSweep | kCombiner)) == 0; }
  bool is_rec() const { return flags & kRec; }
  bool is_sweep() const { return flags & kSweep; }
  bool is_combiner() const { return flags & kCombiner; }
  bool inverted() const { return flags & kInverted; }
  char pauli_char() const;  // 'X', 'Y', 'Z', or 0 for a plain qubit target
  bool operator==(const Target&) const = default;
};

// Where an instruction came from, for messages raised after parsing.
struct SourceLocation {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

struct Instruction {
  GateId gate;
  std::uint32_t arg_begin = 0, arg_count = 0;
  std::uint32_t target_begin = 0, target_count = 0;
  std::uint32_t block = 0;          // REPEAT: index into Circuit::blocks
  std::uint64_t repeat_count = 0;   // REPEAT: iterations
  SourceLocation where;
};

class Circuit {
 public:
  // Appends an instruction; args and targets are copied into the arenas.
  void append(GateId gate, std::span<const double> args, std::span<const Target> targets,
              SourceLocation where = {});
  // Appends REPEAT count { body }.
  void append_repeat(std::uint64_t count, Circuit body, SourceLocation where = {});

  std::span<const Instruction> instructions() const { return ops_; }
  std::span<const double> args(const Instruction& op) const {
    return {args_.data() + op.arg_begin, op.arg_count};
  }
  std::span<const Target> targets(const Instruction& op) const {
    return {targets_.data() + op.target_begin, op.target_count};
  }
  const Circuit& block(const Instruction& op) const { return blocks_[op.block]; }

  // 1 + the largest qubit index used anywhere (0 for no qubits).
  std::uint32_t num_qubits() const;
  // Results appended to the measurement record by one run, REPEAT counts included.
  std::uint64_t num_measurements() const;
  std::uint64_t num_detectors() const;
  std::uint64_t num_observables() const;
  // True if any instruction (REPEAT bodies included) has the given kind.
  bool has_kind(GateKind kind) const;

  // Stim-format text (qweave dialect for the extension gates) that parses back to this circuit.
  std::string str() const;

  // Names of the links that LINK(name) instructions of this circuit (not of its REPEAT blocks, which
  // keep their own) refer to; a LINK's argument is the index of its name here.
  std::vector<std::string> link_names;
  // Index of `name` in link_names, appended if new.
  std::uint32_t link_index(const std::string& name);

  // Where the circuit came from ("circuit.stim"), for messages.
  std::string source_name;
  // Original text, kept for the HDF5 `circuit` attribute.
  std::string source_text;

  bool operator==(const Circuit& other) const;

 private:
  std::vector<Instruction> ops_;
  std::vector<double> args_;
  std::vector<Target> targets_;
  std::vector<Circuit> blocks_;
};

// A CX from `control` to `target` in another module, through the Bell pair |Phi+> on (comm_a,
// comm_b), comm_a next to the control and comm_b next to the target (Eisert, Jacobs, Papadopoulos
// & Plenio, PRA 62, 052317 (2000)). Appends
//   CX control comm_a; M comm_a; CX rec[-1] comm_b; CX comm_b target; MX comm_b; CZ rec[-1] control
// (two measurement results; the pair is consumed). The Stim reader's TELEPORTED_CX c t a b expands
// to exactly these instructions. Throws std::invalid_argument if two of the four qubits coincide.
void append_teleported_cx(Circuit& c, std::uint32_t control, std::uint32_t target, std::uint32_t comm_a,
                          std::uint32_t comm_b, SourceLocation where = {});

// Number of measurement results one instruction appends (0 for non-result instructions).
std::uint64_t results_of(const Circuit& c, const Instruction& op);

}  // namespace qw
