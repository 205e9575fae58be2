// Gate fusion for the dense engines: runs of unitary gates between anything that is not a unitary
// (measurements, resets, noise, classical control, REPEAT) become fewer, larger blocks, each applied
// in one pass over the state (kernels/fused.h). A plan depends only on the circuit and the options,
// never on the backend, so fused CPU and CUDA runs stay bit-identical (docs/performance.md).
#pragma once
#include <complex>
#include <cstdint>
#include <vector>

#include "host/circuit.h"

namespace qw {

struct FusionOptions {
  // Largest dense block, in qubits (0 or 1: no fusion). State vectors: 5; density matrices: 2
  // (the block's superoperator U (x) U* acts on 2k bits, ket and bra, in one pass).
  unsigned max_dense_qubits = 5;
  // Largest all-diagonal block: a diagonal costs one pass whatever its size.
  unsigned max_diagonal_qubits = 10;
  // Collapses (measurements, resets) are left out of the run (the deterministic part of a circuit
  // whose measurements are all terminal): they do not end a fused run.
  bool skip_collapse = false;
};

// Relative cost of one pass of a block in units of a one-qubit gate's pass (memory-bound). Dense
// blocks grow compute-bound with k: 2^k complex multiply-adds per amplitude. Measured on the
// 2-core Xeon VM with AVX-512 at 24 qubits (bench/NOTES.md); used for every backend so that the
// plan, and hence the rounding, is the same everywhere.
double fused_dense_cost(unsigned k);

// One step of a fused run.
struct FusedStep {
  enum class Kind : std::uint8_t {
    Gate,      // one group of an original instruction, applied as without fusion
    Dense,     // matrix: 2^k x 2^k, row-major, row/column bit j = qubits[j]
    Diagonal,  // matrix: the 2^k diagonal entries, bit j = qubits[j]
  };
  Kind kind = Kind::Gate;
  std::uint32_t op = 0;      // Gate: the instruction's index in its block
  std::uint32_t target = 0;  // Gate: index of the group's first target
  std::vector<std::uint32_t> qubits;  // Dense, Diagonal: ascending
  std::vector<std::complex<double>> matrix;
  std::uint32_t gates = 1;  // gate applications it stands for
};

// Instructions [begin, end) of one block run as `steps` instead.
struct FusedRun {
  std::size_t begin = 0, end = 0;
  std::vector<FusedStep> steps;
};

// True if op is a unitary on qubits only that fusion may merge (not SPP, not classically controlled).
bool fusable_unitary(const Circuit& c, const Instruction& op);

// The fused runs of one block (REPEAT bodies are blocks of their own: call this on c.block(op)).
// Only runs where fusion removes at least one pass are returned; other instructions run as before.
std::vector<FusedRun> fuse_block(const Circuit& c, const FusionOptions& options);

// The superoperator of a fused state-vector step on a density matrix of n qubits: U (x) U* on the
// ket bits q_j and the bra bits n + q_j (qubits of the result: the 2k bits, ascending).
FusedStep density_step(const FusedStep& s, std::uint32_t n);

}  // namespace qw
