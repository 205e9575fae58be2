// The state-vector engine: runs a circuit on a dense state of the active backend.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "host/circuit.h"
#include "kernels/complex.h"
#include "kernels/bits.h"
#include "kernels/memory.h"

namespace qw {

struct SvOptions {
  std::uint64_t shots = 1;
  std::uint64_t seed = 0;
  bool keep_state = false;            // return the state (see SvResult::state)
  std::uint64_t memory_limit_bytes = 0;  // 0: what the backend reports as available
  // Called now and then on long runs with (shots done, shots total).
  std::function<void(std::uint64_t, std::uint64_t)> progress;
};

struct SvResult {
  std::uint32_t num_qubits = 0;
  std::uint64_t num_measurements = 0;   // record bits per shot
  std::uint64_t bytes_per_shot = 0;     // ceil(num_measurements / 8)
  std::vector<std::uint8_t> measurements;  // [shots][bytes_per_shot], little-endian bit order
  // With keep_state: the state the terminal measurements were sampled from (all measurements
  // terminal), otherwise the final state of shot 0 (or the final state when shots == 0).
  std::vector<cplx> state;
  bool sampled_from_final_state = false;
  std::string state_point;  // "before terminal measurements" / "end of shot 0"
};

// Bytes the engine needs for n qubits (state + per-shot copy + reduction scratch).
std::uint64_t sv_required_bytes(std::uint32_t num_qubits, bool per_shot);

// Throws InputError for circuits the engine cannot run (noise channels not yet supported,
// anti-Hermitian MPP products, a state that does not fit: "needs 64.0 GiB, 23.1 GiB available").
SvResult run_sv(const Circuit& circuit, const SvOptions& options);

// A state vector on the device with gate application by GateId; used by the engine and tests.
class StateVector {
 public:
  explicit StateVector(std::uint32_t num_qubits);
  std::uint32_t num_qubits() const { return n_; }
  index_t size() const { return index_t{1} << n_; }
  cplx* data() { return amps_.data(); }
  const cplx* data() const { return amps_.data(); }

  void set_basis(index_t basis);
  void copy_from(const StateVector& other);
  void apply_gate(GateId gate, std::span<const double> args, std::span<const std::uint32_t> qubits);
  // Pauli product measurement: returns the result bit (1 = eigenvalue -1) for uniform draw u.
  bool measure_pauli(index_t x, index_t z, unsigned k, double u);
  std::vector<cplx> to_host() const;
  void from_host(std::span<const cplx> amps);

 private:
  std::uint32_t n_;
  DeviceArray<cplx> amps_;
};

}  // namespace qw
