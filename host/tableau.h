// The noiseless reference sample of a Clifford circuit, from a stabilizer tableau (Aaronson &
// Gottesman, PRA 70, 052328 (2004)). The frame engine's raw measurements are this record XOR the
// frame flips (docs/frame.md).
#pragma once
#include <cstdint>
#include <vector>

#include "host/circuit.h"

namespace qw {

// One measurement record of the circuit with all noise removed: one byte (0/1) per result in record
// order (results_of(c, op) per instruction, REPEAT bodies run repeat_count times). Noise channels
// are ignored (heralds record 0, noisy-result arguments are ignored, BELL_PAIR places |Phi+>), MPAD
// records its values. A measurement whose outcome the state leaves random takes the raw outcome 0
// (the +1 eigenstate of the measured product; Stim's convention), so its recorded result is 0 XOR
// the target's inversion (!q); deterministic outcomes are what the state dictates. Classical
// feedback (CX rec[-1] q, …) applies the Pauli when the reference bit is 1; sweep bits are 0.
// Gate actions, signs included, are derived from gate_matrix by conjugation.
// If `random` is given, it receives one byte per result: 1 where the outcome was random.
// Throws InputError with the instruction's location for non-Clifford gates, anti-Hermitian Pauli
// products and rec[-k] reaching before the first measurement.
std::vector<std::uint8_t> reference_sample(const Circuit& c, std::vector<std::uint8_t>* random = nullptr);

}  // namespace qw
