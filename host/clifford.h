// Clifford gates as maps on Pauli products, derived from gate_matrix (never from hand tables).
#pragma once
#include <cstdint>
#include <optional>
#include <span>

#include "host/gates.h"

namespace qw {

// U P U^dag = (-1)^sign[P] image[P] for each of the 4^g Hermitian Paulis P on the gate's group
// (g = 1 or 2). A Pauli is encoded with x_j at bit 2j and z_j at bit 2j+1 (x = z = 1 is Y); qubit j
// of the group is matrix index bit j, as in gate_matrix.
struct CliffordAction {
  unsigned group = 1;
  std::uint8_t image[16] = {};
  std::uint8_t sign[16] = {};
};

// nullopt when the gate (with these arguments) is not Clifford or acts on more than 2 qubits.
std::optional<CliffordAction> clifford_action(GateId id, std::span<const double> args);

}  // namespace qw
