// Physics of one heralded link between two modules: fibre loss, efficiencies, dark counts, the
// heralding schemes (double-click, single-click, an abstract Werner source), attempt and signalling
// times, memories with cut-offs, and the repeaterless (PLOB) bound. Host code; the per-pair maps
// the link engine applies per episode are in kernels/link_maps.h. Every formula with its source and
// its assumptions: docs/physics.md.
#pragma once
#include <limits>
#include <string>
#include <vector>

#include "kernels/link_maps.h"

namespace qw::models {

inline constexpr double kSpeedOfLightVacuum_m_per_s = 299792458.0;
// Refractive index used for the speed of light in fibre (docs/physics.md: fused silica at
// 1550 nm, Malitson 1965; SMF-28's group index 1.468 is 2% higher).
inline constexpr double kDefaultFibreIndex = 1.44;

enum class HeraldScheme {
  double_click,  // Barrett & Kok, PRA 71, 060310 (2005): two rounds, one click in each
  single_click,  // Cabrillo et al., PRA 59, 1025 (1999): one round, bright-state population alpha
  werner,        // abstract source: given fidelity and success probability per attempt
};

// "double_click" / "single_click" / "werner".
const char* scheme_name(HeraldScheme s);

// A link between nodes A and B with the heralding station at the midpoint of the fibre. Units in
// the names; probabilities and efficiencies are per attempt (per emission round).
struct LinkParams {
  HeraldScheme scheme = HeraldScheme::double_click;
  double length_km = 0;                // node-to-node fibre length; each arm is length_km / 2
  double attenuation_db_per_km = 0.2;  // telecom C-band loss of standard single-mode fibre
  double fibre_index = kDefaultFibreIndex;
  // Probability that an emitted photon enters the fibre, survives frequency conversion, and is
  // registered by the detector it reaches (fibre loss comes on top). The same for both nodes.
  double collection_efficiency = 1;
  double conversion_efficiency = 1;
  double detector_efficiency = 1;
  double dark_count_probability = 0;  // per detector per detection window
  // Two-photon (Hong-Ou-Mandel) visibility V = |<psi_A|psi_B>|^2 of the photons from the two nodes.
  double visibility = 1;
  double bright_state_alpha = 0.1;  // single_click: population of the bright (emitting) state
  double preparation_time_s = 0;    // one emission round: spin initialisation and excitation
  // werner scheme only: the delivered state and the success probability of one attempt.
  double werner_fidelity = 1;
  double werner_success_probability = 1;
};

// One message per impossible value, naming the key and its allowed range ("visibility = 1.2: must
// be in [0, 1]"); empty when p is usable.
std::vector<std::string> validate(const LinkParams& p);

// A stored pair's memory: coherence times of the qubits holding it and the cut-off after which a
// waiting pair is discarded (inf: never).
struct MemoryParams {
  double t1_s = std::numeric_limits<double>::infinity();
  double t2_s = std::numeric_limits<double>::infinity();
  double cutoff_s = std::numeric_limits<double>::infinity();
};
std::vector<std::string> validate(const MemoryParams& m);

// eta = 10^(-alpha L / 10) for L km of fibre with alpha dB/km.
double fibre_transmissivity(double length_km, double attenuation_db_per_km);
// Speed of light in fibre c / n, m/s.
double fibre_light_speed_m_per_s(double fibre_index);
// Time for a classical message to cross length_km of fibre: L / (c / n).
double signalling_delay_s(double length_km, double fibre_index = kDefaultFibreIndex);
// Probability that a photon emitted by one node is registered at the midpoint station:
// collection * conversion * detector * fibre_transmissivity(L / 2).
double arm_efficiency(const LinkParams& p);
// One attempt: emission rounds (2 for double_click, 1 otherwise) times preparation_time_s, plus
// the photon's flight to the station and the herald's return, L / (c / n).
double attempt_time_s(const LinkParams& p);

// What one heralding attempt gives: its success probability and the state delivered on success,
// in the frame where the target is |Phi+> (the Pauli correction chosen from the click pattern is
// already applied). Bit 0 of the state is node A's qubit.
struct HeraldOutcome {
  double success_probability = 0;
  Pair4 state;
};

// Barrett-Kok double-click with per-arm efficiencies eta_a, eta_b, two-photon visibility V and
// dark-count probability p_dark per detector window (two threshold detectors after a 50:50 beam
// splitter; a round heralds when exactly one detector clicks). Ideal limit: probability
// eta_a eta_b / 2, fidelity (1 + V)/2. Model: docs/physics.md.
HeraldOutcome double_click(double eta_a, double eta_b, double visibility, double p_dark);
// Single-click with bright-state population alpha in each node. Ideal limit (V = 1, no dark
// counts): probability 2 alpha eta - alpha^2 eta^2 ~ 2 alpha eta, fidelity
// 2(1 - alpha)/(2 - alpha eta) ~ 1 - alpha. The coherence is reduced by sqrt(V). Model:
// docs/physics.md.
HeraldOutcome single_click(double eta_a, double eta_b, double alpha, double visibility,
                           double p_dark);
// Werner state of the given fidelity with the given success probability.
HeraldOutcome werner_source(double fidelity, double success_probability);

// Everything the link engine needs about one elementary link.
struct LinkModel {
  double success_probability = 0;  // per attempt
  double attempt_time_s = 0;
  double signalling_delay_s = 0;   // node to node, L / (c / n)
  Pair4 state;                     // delivered on success (Phi+ frame)
  BellDiagonal bell_diagonal;      // its Bell-diagonal twirl; fidelity = bell_diagonal.phi_plus
};
// Throws std::invalid_argument with the validate() messages joined by "; " when p is unusable.
LinkModel link_model(const LinkParams& p);

// Mean time to the first success of independent attempts: attempt_time_s / p (inf for p = 0).
double mean_generation_time_s(double success_probability, double attempt_time_s);

// Repeaterless bound: at most -log2(1 - eta) ebits per use of a pure-loss channel of
// transmissivity eta (Pirandola, Laurenza, Ottaviani, Banchi, Nat. Commun. 8, 15043 (2017)).
double plob_bound(double eta);
// The same per second for channel_uses_per_second uses of the channel.
double plob_bound_per_second(double eta, double channel_uses_per_second);

}  // namespace qw::models
