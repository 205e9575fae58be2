// Batched Monte-Carlo episodes of a repeater chain of `segments` elementary links, all generated in
// parallel. Two protocols:
//  * swap_asap: each segment's pair is purified `rounds` times by recurrence (two pairs of the
//    round below, generated one after the other with one memory per node, or at once with more
//    (ChainParams::memories), the earlier waiting in memory; a failed round discards both and
//    restarts the round), then all segments are joined by entanglement swapping
//    once every segment holds its pair (the earlier pairs wait, decohere, and are regenerated when
//    they exceed the cut-off).
//  * bdcz (Briegel, Duer, Cirac & Zoller, PRL 81, 5932 (1998); Duer et al., PRA 59, 169 (1999)):
//    2^L segments, nested. Level 0: each segment's pair purified `rounds` times; level l >= 1: two
//    adjacent level-(l-1) pairs, produced in parallel, are swapped, and the swapped pair is purified
//    `rounds` times at level l (classical messages across the level's span of 2^l segments).
// Bell-diagonal (twirled) states, or, with full_density, exact 4x4 density matrices (memories:
// exact amplitude and phase damping; swaps: swap4; purification: dejmps4, bbpssw4), with the same
// draws in the same order as the Bell-diagonal path for the same seed (the times and attempts agree
// until a purification round's success probability differs between the two states). One thread per episode; every
// episode depends only on (seed, episode index). Time model and its choices: docs/experiments.md ("The model of a link episode").
#pragma once
#include <cstdint>

#include "kernels/bits.h"
#include "kernels/link_maps.h"

namespace qw::link {

// bbpssw, dejmps: recurrence (a round purifies two pairs of the round below); pumping: DEJMPS in
// which the second pair is always a fresh round-0 pair of the same span (entanglement pumping,
// Duer, Briegel, Cirac & Zoller PRA 59, 169 (1999)).
enum class Purification : std::uint8_t { none, bbpssw, dejmps, pumping };
enum class Protocol : std::uint8_t { swap_asap, bdcz };

inline constexpr unsigned kMaxSegments = 64;
inline constexpr unsigned kMaxRounds = 8;
inline constexpr unsigned kMaxLevels = 6;  // bdcz: 2^kMaxLevels = kMaxSegments

// bdcz needs a power of two: the nesting level L with 2^L = segments, or -1.
QW_HD constexpr int nesting_levels(unsigned segments) {
  for (int l = 0; l <= static_cast<int>(kMaxLevels); ++l) {
    if (segments == (1u << l)) return l;
  }
  return -1;
}

struct ChainParams {
  unsigned segments = 1;
  Protocol protocol = Protocol::swap_asap;
  double success_probability = 1;  // per attempt of one elementary link
  double attempt_time_s = 0;       // one attempt of one elementary link, herald included
  double segment_delay_s = 0;      // classical message across one segment
  // Each memory qubit of a fresh elementary pair waits this long between its emission and the
  // herald's arrival (fiber: flight to the midpoint station and back, L_segment / c; werner: 0, the
  // source's state already includes it).
  double herald_wait_s = 0;
  double chain_delay_s = 0;        // classical message across the whole chain (swap outcomes)
                                   // bdcz, level l: 2^l segment_delay_s across a level-l pair's span
  BellDiagonal elementary;         // delivered by one successful attempt
  // true: every pair is a 4x4 density matrix, starting from elementary_density (whose twirl is
  // elementary).
  bool full_density = false;
  Pair4 elementary_density;
  Purification purification = Purification::none;
  unsigned rounds = 0;
  LocalNoise local;                // swaps and purification: gate and readout errors
  double t1_s = 0, t2_s = 0;       // memories (inf: no decay)
  double cutoff_s = 0;             // a stored pair waiting longer is discarded (inf: never)
  // Memory qubits per node at each end of each segment (>= 1). 1: one pair at a time. m >= 2: a
  // purification round's two pairs are generated at once (m / 2 memories each), and an elementary
  // pair is attempted on all its memories at once (first success per window kept).
  unsigned memories = 1;
  std::uint64_t max_restarts = 1000000;  // guard: an episode that needs more fails (NaN time)
};

struct ChainOutputs {
  double* time_s = nullptr;
  std::uint64_t* attempts = nullptr;
  double* fidelity = nullptr;
  double* bell_diagonal = nullptr;  // [episode, 4]: Phi+, Psi+, Psi-, Phi-
};

// protocol = bdcz needs nesting_levels(segments) >= 0 (the host validates; an episode of an
// invalid chain fails with NaN time).
void run_chain_episodes(const ChainParams& params, std::uint64_t seed, std::uint64_t first_episode,
                        index_t count, const ChainOutputs& out);

}  // namespace qw::link
