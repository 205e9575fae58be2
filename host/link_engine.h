// The link engine, first slice: batched Monte-Carlo episodes of one elementary link (two modules,
// one heralded link, no repeaters). Each episode delivers one pair.
//
// Model (docs/physics.md for the link physics):
//  * Attempts: geometric with the scheme's success probability p per attempt, drawn by inversion of
//    one uniform per episode (RNG stream = episode index, draw kernels/link_episodes.h
//    kDrawAttempts), so results do not depend on batch size, thread count or backend.
//  * Delivery time: attempts * attempt_time + L/c_f. The attempt time already contains the photon's
//    flight to the midpoint station and the herald's return (L/c_f in all); the pair counts as
//    delivered one node-to-node message L/c_f later, when each node has heard from the other that it
//    holds its half (what any protocol consuming the pair on both sides must wait for).
//  * Memory: both memory qubits are entangled from the successful attempt's last emission until
//    delivery: wait = L/c_f (herald) + L/c_f (confirmation) = 2 L/c_f. Both undergo PD o AD for that
//    wait (exact 4x4 maps, or their Pauli twirls on the Bell-diagonal path). The preparation time of
//    the second Barrett-Kok round, during which the first round's spin-photon state already exists,
//    is neglected (as in the heralded-state model itself).
//  * Cut-off: with one link the wait is the same in every episode, so a cut-off either never
//    triggers or discards every pair; run_link rejects cut-offs shorter than the wait. Cut-offs that
//    restart generation matter once pairs wait for other pairs (repeaters) and come with them.
//  * Two state paths: Bell-diagonal (the twirled delivered state through the twirled memory map) and
//    full 4x4 (exact maps, then the Bell-basis diagonal). For a Bell-diagonal source with T1 = inf
//    (Pauli-only memory noise) they agree exactly; with amplitude damping on both qubits the
//    Bell-diagonal path misses the |11> -> |00> term: its fidelity is lower by gamma^2 / 4.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/link_physics.h"

namespace qw {

class ResultFile;

struct LinkRunResult {
  // Per episode, first_episode .. first_episode + episodes - 1.
  std::vector<double> time_s;
  std::vector<std::uint64_t> attempts;
  std::vector<double> fidelity;
  std::vector<double> bell_diagonal;  // [episodes, 4]: Phi+, Psi+, Psi-, Phi-

  // The link as simulated.
  double success_probability = 0;
  double attempt_time_s = 0;
  double signalling_delay_s = 0;  // added to every delivery (L/c_f)
  double memory_wait_s = 0;       // each memory qubit's wait (2 L/c_f)
  int rounds_per_attempt = 1;     // channel uses per attempt (2 for double-click)
  bool full_density = false;

  // Summary.
  double mean_fidelity = 0;
  double fidelity_standard_error = 0;  // sample standard deviation / sqrt(episodes)
  double mean_attempts = 0;
  double mean_time_s = 0;
  double rate_per_s = 0;               // delivered pairs per second: 1 / mean_time_s
  double rate_per_channel_use = 0;     // 1 / (mean_attempts * rounds_per_attempt)
  double transmissivity = 0;           // eta of the fibre, node to node: 10^(-alpha L / 10)
  double plob_per_channel_use = 0;     // -log2(1 - eta)
  double plob_per_s = 0;               // times rounds_per_attempt / attempt_time_s
};

// Runs `episodes` episodes of the link (stream first_episode + i for episode i), at most
// chunk_episodes at a time on the device. Throws std::invalid_argument naming the numbers for
// unusable parameters (LinkParams or MemoryParams out of range, success probability below
// 1e-15, attempt time 0, a cut-off shorter than the memory wait, zero episodes or chunk).
LinkRunResult run_link(const models::LinkParams& link, const models::MemoryParams& memory,
                       std::uint64_t episodes, std::uint64_t seed, bool full_density,
                       std::uint64_t first_episode = 0,
                       std::uint64_t chunk_episodes = std::uint64_t{1} << 22);

// Writes the episodes of r to /links/<link_name>/: time_s [episodes] (s), attempts [episodes],
// fidelity [episodes], bell_diagonal [episodes, 4] (Phi+, Psi+, Psi-, Phi-); and the summary
// scalars to /summary/links/<link_name>/<quantity>: mean_fidelity, fidelity_standard_error,
// mean_attempts, mean_time_s, rate (Hz), rate_per_channel_use, success_probability,
// attempt_time_s, memory_wait_s, transmissivity, plob_per_channel_use, plob_per_s (Hz).
// link_name: non-empty, no '/'; otherwise std::invalid_argument.
void write_link_results(ResultFile& file, const std::string& link_name, const LinkRunResult& r);

}  // namespace qw
