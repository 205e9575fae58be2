// Batched Monte-Carlo episodes of a repeater chain: `segments` elementary links generated in
// parallel, each purified `rounds` times by recurrence (two pairs of the level below, generated one
// after the other, the first waiting in memory; a failed round discards both and restarts the
// level), then joined by entanglement swapping once every segment holds its pair (the earlier
// pairs wait, decohere, and are regenerated when they exceed the cut-off). Bell-diagonal (twirled)
// states. One thread per episode; every episode depends only on (seed, episode index).
// Model and its choices: docs/physics.md ("Repeater chains").
#pragma once
#include <cstdint>

#include "kernels/bits.h"
#include "kernels/link_maps.h"

namespace qw::link {

enum class Purification : std::uint8_t { none, bbpssw, dejmps };

inline constexpr unsigned kMaxSegments = 64;
inline constexpr unsigned kMaxRounds = 8;

struct ChainParams {
  unsigned segments = 1;
  double success_probability = 1;  // per attempt of one elementary link
  double attempt_time_s = 0;       // one attempt of one elementary link, herald included
  double segment_delay_s = 0;      // classical message across one segment
  double chain_delay_s = 0;        // classical message across the whole chain (swap outcomes)
  BellDiagonal elementary;         // delivered by one successful attempt
  Purification purification = Purification::none;
  unsigned rounds = 0;
  LocalNoise local;                // swaps and purification: gate and readout errors
  double t1_s = 0, t2_s = 0;       // memories (inf: no decay)
  double cutoff_s = 0;             // a stored pair waiting longer is discarded (inf: never)
  std::uint64_t max_restarts = 1000000;  // guard: an episode that needs more fails (NaN time)
};

struct ChainOutputs {
  double* time_s = nullptr;
  std::uint64_t* attempts = nullptr;
  double* fidelity = nullptr;
  double* bell_diagonal = nullptr;  // [episode, 4]: Phi+, Psi+, Psi-, Phi-
};

void run_chain_episodes(const ChainParams& params, std::uint64_t seed, std::uint64_t first_episode,
                        index_t count, const ChainOutputs& out);

}  // namespace qw::link
