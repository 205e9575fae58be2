// The dense engines: state vector (noise as quantum trajectories) and density matrix (exact
// channels), both running batches of shots on the kernels of the active backend.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "host/circuit.h"
#include "kernels/bits.h"
#include "kernels/complex.h"
#include "kernels/memory.h"

namespace qw {

enum class Representation { StateVector, DensityMatrix };
struct CircuitLinks;  // host/link_deliveries.h

struct DenseOptions {
  std::uint64_t shots = 1;       // shots to run: [first_shot, first_shot + shots)
  std::uint64_t seed = 0;
  std::uint64_t first_shot = 0;  // global index of the first shot (its RNG stream); MPI ranks split shots
  bool keep_state = false;               // return the state (see DenseResult::state)
  std::uint64_t memory_limit_bytes = 0;  // 0: what the backend reports as available
  Representation representation = Representation::StateVector;
  // Coherence times for IDLE(t) (seconds; infinity = no decay of that kind).
  double t1_s = std::numeric_limits<double>::infinity();
  double t2_s = std::numeric_limits<double>::infinity();
  std::uint64_t max_batch = 0;  // shots simulated together; 0 = chosen from the memory
  // State vector sharded over the MPI ranks (host/sharded_state.h): every rank runs every shot on
  // its slab. Without it, ranks split the shots and each holds the whole state.
  bool shard = false;
  // Modules (qubit lists) for the sharded layout: placed in the order given, each module's qubits
  // together from the lowest physical bit up, then the qubits of no module; the top bits are global,
  // so the modules listed first are local. Empty: the identity layout.
  std::vector<std::vector<unsigned>> modules;
  // Gate fusion (host/fusion.h): runs of unitaries become fewer, larger blocks. Off (`--no-fusion`)
  // the gates run one by one exactly as before. fusion_max_qubits: the largest dense block
  // (0: 5 qubits for a state vector, 2 for a density matrix); the sharded engines do not fuse yet.
  bool fusion = true;
  unsigned fusion_max_qubits = 0;
  // Pairs for LINK(name) instructions, sampled for exactly these shots (host/link_deliveries.h);
  // nullptr: LINK is an input error. Trajectories and density matrices; not the sharded engines.
  const CircuitLinks* links = nullptr;
  // Called now and then on long runs with (shots done, shots total).
  std::function<void(std::uint64_t, std::uint64_t)> progress;
};

struct DenseResult {
  std::uint32_t num_qubits = 0;
  std::uint64_t num_measurements = 0;      // record bits per shot
  std::uint64_t bytes_per_shot = 0;        // ceil(num_measurements / 8)
  std::vector<std::uint8_t> measurements;  // [shots][bytes_per_shot], little-endian bit order
  // With keep_state: the state vector, or the density matrix row-major (row index = ket), that the
  // terminal measurements were sampled from (all measurements terminal); otherwise, for a density
  // matrix without feedback, the exact final state averaged over measurement outcomes and heralds;
  // otherwise shot 0's state at its end.
  std::vector<cplx> state;
  // A sharded run (DenseOptions::shard): `state` is this rank's slab, amplitudes
  // [state_first, state_first + state.size()) of 2^num_qubits in the natural qubit order.
  bool state_is_slab = false;
  std::uint64_t state_first = 0;
  bool sampled_from_final_state = false;
  std::string state_point;  // "before terminal measurements" / "end of shot 0"
  std::uint64_t batch = 1;  // shots simulated together
};

// Bytes needed for n qubits: B segments plus a prefix copy and the reduction scratch.
std::uint64_t dense_required_bytes(std::uint32_t num_qubits, Representation rep, std::uint64_t batch);

// Throws InputError for circuits the engine cannot run (anti-Hermitian Pauli products, IDLE without
// coherence times, a state that does not fit: "needs 64.0 GiB, 23.1 GiB available").
DenseResult run_dense(const Circuit& circuit, const DenseOptions& options);

// The sharded layout for these modules (see DenseOptions::modules): physical bit of each logical
// qubit. Throws InputError for qubits out of range or in two modules.
std::vector<unsigned> module_layout(std::uint32_t num_qubits, const std::vector<std::vector<unsigned>>& modules);

// What run_dense would do, without running: representation, memory per rank against what is
// available, how shots are run (sampled / batches of B / sharded) and, sharded, the global qubits
// and the exchanges the circuit's gates on them can cause. For `qweave sim --dry-run`.
std::string dense_plan(const Circuit& circuit, const DenseOptions& options);

// Backwards-compatible names for the state-vector engine.
using SvOptions = DenseOptions;
using SvResult = DenseResult;
inline DenseResult run_sv(const Circuit& c, const DenseOptions& o) { return run_dense(c, o); }

// Applies a unitary gate to every segment of a batch of states (size = B * 2^m entries), on the
// given qubits; conjugate applies U* instead of U (the bra side of a density matrix).
void apply_unitary(cplx* a, index_t size, GateId gate, std::span<const double> args,
                   std::span<const std::uint32_t> qubits, bool conjugate = false);

// A state vector on the device; used by tests.
class StateVector {
 public:
  explicit StateVector(std::uint32_t num_qubits);
  std::uint32_t num_qubits() const { return n_; }
  index_t size() const { return index_t{1} << n_; }
  cplx* data() { return amps_.data(); }
  const cplx* data() const { return amps_.data(); }
  void apply_gate(GateId gate, std::span<const double> args, std::span<const std::uint32_t> qubits) {
    apply_unitary(amps_.data(), size(), gate, args, qubits);
  }
  std::vector<cplx> to_host() const;
  void from_host(std::span<const cplx> amps);

 private:
  std::uint32_t n_;
  DeviceArray<cplx> amps_;
};

// Kraus operators of the built-in non-unitary single-qubit channels.
std::vector<Mat2d> amplitude_damping_kraus(double gamma);
std::vector<Mat2d> phase_damping_kraus(double lambda);
// T1/T2 decoherence for time t: amplitude damping 1 - e^{-t/T1}, then the phase damping that makes
// the coherence decay e^{-t/T2} in all (needs T2 <= 2 T1).
std::vector<Mat2d> idle_kraus(double t_s, double t1_s, double t2_s);

}  // namespace qw
