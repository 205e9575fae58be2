// A state vector sharded over the MPI ranks (the "Scale out" issue; not yet used by run_dense).
// With 2^k ranks the top k physical bits of an amplitude index are global (bit j of the rank number
// is physical bit n - k + j) and each rank holds a slab of 2^(n-k) amplitudes. A layout maps each
// logical qubit to a physical bit; a gate whose non-diagonal target is global first swaps it with
// a local bit (pairwise exchange of half a slab with the partner rank), lazily: the layout then
// stays as it is. Diagonal gates (Z, S, T, RZ, PHASE, CZ, CPHASE, CCZ, ZZ rotations, ...) and
// controls on global qubits need no exchange; an uncontrolled SWAP only relabels.
// Every member function is collective: all ranks call it with the same arguments.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "host/gates.h"
#include "kernels/bits.h"
#include "kernels/complex.h"
#include "kernels/memory.h"

namespace qw {

class ShardedStateVector {
 public:
  // |0...0>. Throws InputError unless the rank count is 2^k with k <= n - 2.
  explicit ShardedStateVector(std::uint32_t num_qubits);

  std::uint32_t num_qubits() const { return n_; }
  unsigned global_bits() const { return k_; }
  index_t slab_size() const { return index_t{1} << (n_ - k_); }
  const cplx* slab() const { return slab_.data(); }
  // Logical qubit -> physical bit, and the inverse.
  std::span<const unsigned> layout() const { return perm_; }
  // Sets the logical->physical layout of the initial |0...0> state, which every layout represents
  // alike (no data moves): the module-aware placement, e.g. the qubits of busy modules local. Only
  // before the first gate. physical_of_logical must be a permutation of 0..n-1.
  void relabel_initial(std::span<const unsigned> physical_of_logical);
  std::span<const unsigned> inverse_layout() const { return inv_; }
  // Exchanges performed so far (global <-> local bit swaps), for tests and statistics.
  std::uint64_t exchanges() const { return exchanges_; }

  // Elements per exchange message and staging buffer (default and maximum 2^24); smaller values
  // let tests exercise the chunking.
  static void set_exchange_chunk(index_t elements);

  // Makes every listed logical qubit local (physical bit < n - k).
  void make_local(std::span<const unsigned> logical_qubits);
  // Brings the layout back to the identity (logical qubit q at physical bit q).
  void canonicalize();

  // A unitary gate (gate_info(gate).kind == Unitary, group >= 1) on one group of logical qubits.
  void apply_gate(GateId gate, std::span<const double> args, std::span<const unsigned> qubits);
  // The same gate with every matrix entry conjugated (U*): the bra side of a density matrix.
  void apply_gate(GateId gate, std::span<const double> args, std::span<const unsigned> qubits,
                  bool conjugate);
  // A dense 2^k x 2^k matrix (host, row-major, index bit j = logical_bits[j]) on k <= 4 logical
  // bits: made local first, then batch::apply_dense. Density-matrix superoperators.
  void apply_matrix(unsigned k, std::span<const unsigned> logical_bits, const std::vector<cplx>& m);
  // ||K psi||^2 for an operator K on 1 or 2 qubits, given M = K^dag K (2x2 or 4x4, row-major,
  // index bit j = qubits[j]); summed over ranks in rank order.
  double kraus_norm(std::span<const unsigned> logical_qubits, const std::vector<cplx>& kdag_k);
  // Keeps the entries whose logical bit equals value and multiplies them by s; zeroes the rest.
  void project(unsigned logical_bit, unsigned value, real s);

  // Density matrices: this vector is a density matrix of n = num_qubits() / 2 qubits (logical bit
  // j < n: ket bit j, n + j: bra bit j). Sum of rho[c][c] over the kets c with c & mask == value
  // (mask 0: the trace), bit-identical on every rank (summed in rank order).
  double diagonal_sum(index_t mask, index_t value) const;
  // The diagonal rho[c][c], c in [0, 2^n), on every rank.
  std::vector<double> diagonal() const;

  // P(qubit = 1), bit-identical on every rank.
  double probability_one(unsigned logical_qubit);
  // Measures in Z with the uniform u in [0, 1): outcome 1 when u < P(1); collapses and renormalises.
  // Every rank given the same u takes the same decision. Returns the outcome.
  int measure(unsigned logical_qubit, double u);

  // The full state in logical order on rank 0 (empty elsewhere). For tests: 2^n amplitudes.
  std::vector<cplx> gather_state() const;

  // Logical basis indices for shots [first_shot, first_shot + shots), on every rank: shot s uses
  // uniform01(seed, s, 0) against the cumulative |amplitude|^2 in logical index order, as
  // sv::sample_indices does on one rank. Canonicalises the layout first.
  std::vector<index_t> sample(std::uint64_t seed, std::uint64_t first_shot, std::uint64_t shots);

 private:
  bool is_global(unsigned phys) const { return phys >= n_ - k_; }
  // This rank's value of a global physical bit.
  unsigned global_value(unsigned phys) const;
  // Swaps physical bits local l and global g (exchange with the partner rank) and the layout.
  void swap_global_local(unsigned l, unsigned g);
  // Makes `need` local, never evicting a qubit of `need` and, if possible, none of `keep`.
  void make_local(std::span<const unsigned> need, std::span<const unsigned> keep);

  std::uint32_t n_;
  unsigned k_;
  int rank_;
  std::vector<unsigned> perm_, inv_;
  // Exchange buffers, kept between exchanges (allocating and first-touching them per exchange cost
  // several times the transfer: bench/results/cpu-shard.md).
  DeviceArray<cplx> send_dev_, recv_dev_;
  DeviceArray<double> norm_;
  double* norm_scratch();
  std::vector<cplx> send_host_, recv_host_;
  std::vector<std::uint64_t> last_use_;  // per physical local bit: the tick of its last use
  std::uint64_t tick_ = 0, exchanges_ = 0;
  DeviceArray<cplx> slab_;
};

}  // namespace qw
