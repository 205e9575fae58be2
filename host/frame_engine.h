// The Pauli-frame engine: detection events and observable flips of Clifford circuits with Pauli
// noise, 64 shots per machine word, without a reference sample (docs/frame.md).
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "host/circuit.h"
#include "host/link_deliveries.h"
#include "kernels/frame.h"

namespace qw {

struct FrameOptions {
  std::uint64_t shots = 1;       // shots to run: [first_shot, first_shot + shots)
  std::uint64_t seed = 0;
  // Global index of the first shot; a multiple of 64 (the RNG stream is the 64-shot word index,
  // so ranks split the shots at word boundaries and get the bits of a single-rank run).
  std::uint64_t first_shot = 0;
  // Also return the raw measurement records: a noiseless reference sample (host/tableau.h, random
  // outcomes 0) XOR each shot's record flips. Keeps every record (memory: results x shots / 8).
  bool measurements = false;
  // One module per MPI rank (docs/frame.md): owner[q] is the rank that keeps qubit q's frames.
  // Empty: this rank keeps every qubit (ranks split the shots instead). With owners, every rank
  // runs the same shots; a two-qubit gate across ranks exchanges the partner's frame words first,
  // records and detector parities are XORed over ranks and redistributed shot-major: each rank
  // ends with whole shots, its share of the words (FrameResult::first_shot), bit-identical to a
  // single rank's. Every rank must call run_frames with the same owners.
  std::vector<int> owner;
  // Pairs for LINK(name) instructions, sampled for exactly these shots (links->first_shot ==
  // first_shot, links->shots == shots; host/link_deliveries.h). nullptr: LINK is an input error.
  const CircuitLinks* links = nullptr;
  // Coherence times for IDLE(t): the Pauli twirl of the T1/T2 channel (infinite: IDLE does nothing).
  double t1_s = std::numeric_limits<double>::infinity();
  double t2_s = std::numeric_limits<double>::infinity();
};

// The owner of each of `qubits` qubits split into `ranks` contiguous blocks of nearly equal size:
// qubit q -> floor(q * ranks / qubits).
std::vector<int> contiguous_owners(std::uint32_t qubits, int ranks);

struct FrameResult {
  // The shots held: [first_shot, first_shot + shots). FrameOptions' range, or with one module per
  // rank this rank's share of it after the shot-major redistribution (ranks split the 64-shot
  // words in rank order, as the shot split does).
  std::uint64_t first_shot = 0;
  std::uint64_t shots = 0;
  std::uint64_t num_detectors = 0;
  std::uint64_t num_observables = 0;
  std::uint64_t detector_bytes_per_shot = 0;    // ceil(num_detectors / 8)
  std::uint64_t observable_bytes_per_shot = 0;  // ceil(num_observables / 8)
  // Shot-major, bit-packed like DenseResult::measurements: [shots][bytes], little-endian bit order.
  std::vector<std::uint8_t> detectors;
  std::vector<std::uint8_t> observables;
  std::vector<std::uint64_t> detector_flip_counts;  // shots in which detector d fired
  // With FrameOptions::measurements: [shots][ceil(num_measurements / 8)], like the detectors.
  std::uint64_t num_measurements = 0;
  std::uint64_t measurement_bytes_per_shot = 0;
  std::vector<std::uint8_t> measurements;
};

// The GF(2) action on the frame bits (x0, z0[, x1, z1]) of a 1- or 2-qubit unitary, derived from
// gate_matrix by conjugating X_j and Z_j of each target through U; nullopt if U is not Clifford
// (or acts on more than 2 qubits). Precondition: kind == Unitary, not SPP/SPP_DAG.
std::optional<frame::Gf2Map> clifford_frame_action(GateId id, std::span<const double> args);

// Runs the circuit. Throws InputError (with the instruction's location) for non-Clifford gates,
// non-Pauli channels, Pauli targets of OBSERVABLE_INCLUDE and rec[-k] reaching before the first
// measurement; std::invalid_argument if first_shot is not a multiple of 64.
FrameResult run_frames(const Circuit& circuit, const FrameOptions& options);

}  // namespace qw
