// Detector error models: every independent error mechanism of a Clifford circuit with Pauli noise,
// with the detectors and observables it flips, in Stim's DEM text format (docs/dem.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/circuit.h"

namespace qw {

// One error mechanism: flips exactly these detectors and observables (both sorted, non-empty
// together) with this probability, independently of every other mechanism.
struct DemError {
  double probability = 0;
  std::vector<std::uint64_t> detectors;
  std::vector<std::uint64_t> observables;
  bool operator==(const DemError&) const = default;
};

struct DetectorErrorModel {
  std::uint64_t num_detectors = 0;
  std::uint64_t num_observables = 0;
  // Mechanisms with identical symptoms merged (p xor q = p(1-q) + q(1-p)), those with no symptoms
  // or probability 0 dropped; sorted by (detectors, observables) lexicographically.
  std::vector<DemError> errors;
  // Per detector: its DETECTOR arguments plus the SHIFT_COORDS offsets in force (empty: none).
  std::vector<std::vector<double>> detector_coords;

  // Stim's DEM text: the error lines in the order above, then `detector(c, ...) Dk` for detectors
  // with coordinates and `detector Dk` for detectors without coordinates that appear in no error
  // (index order), then `logical_observable Lk` for observables that appear in no error.
  std::string str() const;
};

// Builds the model by propagating error sensitivities backwards through the circuit (REPEAT bodies
// run repeat_count times, never unrolled in memory). Throws InputError with the instruction's
// location for non-Clifford gates, non-Pauli or heralded channels, ELSE_CORRELATED_ERROR, Pauli
// targets of DETECTOR, lookbacks before the first measurement, and detectors or observables that
// are not deterministic (they anticommute with a measurement, a reset or the initial |0> state).
DetectorErrorModel detector_error_model(const Circuit& circuit);

}  // namespace qw
