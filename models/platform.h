// A module's hardware description (coherence, gate/measurement errors and durations) and the pass
// that turns it into noise channels in a circuit. Schema, rules and formulas: docs/models.md.
#pragma once
#include <limits>
#include <string>

#include "host/circuit.h"

namespace qw::models {

struct Platform {
  std::string name;    // preset name or the file's "name" key
  std::string source;  // where the numbers come from (free text)
  // Coherence, seconds. inf: no decay (the default); t2_s <= 2 * t1_s.
  double t1_s = std::numeric_limits<double>::infinity();
  double t2_s = std::numeric_limits<double>::infinity();
  // Durations of one operation, seconds. A default Platform is noiseless and takes no time.
  double gate1_duration_s = 0, gate2_duration_s = 0, measure_duration_s = 0, reset_duration_s = 0;
  // Depolarising probabilities after 1- and 2-qubit unitaries (DEPOLARIZE1/DEPOLARIZE2 argument).
  double gate1_error = 0, gate2_error = 0;
  // Probability that a measurement result is flipped; probability of a bit flip after a reset.
  double measure_error = 0, reset_error = 0;
};

// The folder the presets (nv_centre, trapped_ion, superconducting, neutral_atom) are read from:
// QWEAVE_MODELS_DIR when the build defines it, else "models/presets" relative to the working
// folder.
std::string presets_dir();

// A preset name (letters, digits, '_' only: <presets_dir()>/<name>.toml) or a path to a TOML
// file.
// Throws qw::InputError "FILE:LINE:COL: what" for unknown keys, wrong types, missing keys and
// unphysical values (T2 > 2 T1, probabilities outside [0, 1], negative durations).
Platform load_platform(const std::string& name_or_path);
// The same from TOML text; source_name is used in messages.
Platform parse_platform(const std::string& toml_text, const std::string& source_name);

// Amplitude-damping probability for idling t seconds: gamma = 1 - exp(-t/T1) (0 for T1 = inf).
double idle_amplitude_damping(double t, double t1);
// Phase-damping probability lambda such that AMPLITUDE_DAMP(gamma) then PHASE_DAMP(lambda) decays
// the coherence |rho01| by exp(-t/T2): lambda = 1 - exp(-2t/T2 + t/T1). Needs t >= 0, T2 <= 2 T1.
double idle_phase_damping(double t, double t1, double t2);

// A copy of c with the platform's noise inserted: gate errors after unitaries, result flips on
// measurements, bit flips after resets, and T1/T2 idle channels for the time each qubit waits in a
// TICK layer. Existing instructions are kept (IDLE(t) is replaced by its T1/T2 channels). Rules:
// docs/models.md. Throws std::invalid_argument for T1, T2 that load_platform would reject.
Circuit add_platform_noise(const Circuit& c, const Platform& p);

// The circuit's duration on the platform: the sum over TICK layers (REPEAT bodies times their
// counts) of each layer's longest chain of operation durations, as add_platform_noise lays it out.
// Gates only: LINK deliveries add their per-shot times on top (host/link_deliveries.h).
double circuit_duration_s(const Circuit& c, const Platform& p);

}  // namespace qw::models
