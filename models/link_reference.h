// Reference implementations of the link maps as explicit circuits on dense density matrices of two
// pairs (16x16): the local gates, noise channels, measurements and post-selection written out, with
// std::complex and full matrix products, sharing no code with kernels/link_maps.h. Host-only, slow;
// used by the tests to check the closed-form maps. Conventions as in kernels/link_maps.h.
#pragma once
#include "kernels/link_maps.h"

namespace qw::models::reference {

struct CircuitOutcome {
  Pair4 state;             // normalised output pair (all zeros when probability is 0)
  double probability = 0;  // probability that the protocol keeps the pair
};

// Pairs (A1, B1) and (A2, B2). Optionally Rx(pi/2) on A1, A2 and Rx(-pi/2) on B1, B2 (DEJMPS);
// CNOT A1 -> A2 then DEPOLARIZE2 on (A1, A2); CNOT B1 -> B2 then DEPOLARIZE2 on (B1, B2); A2 and B2
// measured in Z, each result flipped with the readout error; pair 1 kept when the reported results
// agree.
CircuitOutcome bilateral_cnot_circuit(const Pair4& pair1, const Pair4& pair2, LocalNoise noise,
                                      bool dejmps_rotations);

// DEJMPS with its rotations: bilateral_cnot_circuit(..., true).
CircuitOutcome dejmps_circuit(const Pair4& pair1, const Pair4& pair2, LocalNoise noise = {});

// BBPSSW: inputs replaced by Werner states of their fidelity (the U (x) U* twirl, done here as
// the exact average over a unitary 2-design would give it), bilateral CNOT without rotations, the
// kept pair twirled the same way.
CircuitOutcome bbpssw_circuit(const Pair4& pair1, const Pair4& pair2, LocalNoise noise = {});

// Entanglement swapping of (A, B1) = pair1 and (B2, C) = pair2 (bit 0 of each Pair4 is its first
// qubit): CNOT B1 -> B2, DEPOLARIZE2 on (B1, B2), H on B1, Z measurements of B1 (m1) and B2 (m2)
// with readout flips, correction X^m2 Z^m1 on C from the reported bits. Output: pair (A, C),
// A = bit 0. Probability 1.
CircuitOutcome swap_circuit(const Pair4& pair1, const Pair4& pair2, LocalNoise noise = {});

}  // namespace qw::models::reference
