// Batched Monte-Carlo episodes of one elementary link (no repeaters): each episode draws the number
// of heralding attempts until the first success, its delivery time, and the delivered pair after the
// memories' wait. One thread per episode (kernels/link_episodes.cu); every episode depends only on
// (seed, episode index), never on the launch size, thread count or backend. Model and its choices:
// docs/physics.md and host/link_engine.h.
#pragma once
#include <cstdint>

#include "kernels/bits.h"
#include "kernels/detmath.h"
#include "kernels/link_maps.h"

namespace qw::link {

// RNG draw indices inside an episode's stream (stream = episode index). Fixed so that later
// additions (cut-off restarts, repeater levels) keep the existing draws where they are.
inline constexpr std::uint64_t kDrawAttempts = 0;

// Everything the kernel needs about one elementary link. Times in seconds.
struct ElementaryLinkParams {
  double success_probability = 1;  // per attempt, in (0, 1]
  double attempt_time_s = 0;       // one attempt, herald included
  double delay_s = 0;              // added once to the last attempt's end: delivery time
  double wait_s = 0;               // each memory qubit's wait between its emission and delivery
  double t1_s = 0, t2_s = 0;       // memory coherence times (inf: no decay), T2 <= 2 T1
  bool full_density = false;       // true: exact 4x4 maps; false: Bell-diagonal (twirled) maps
  Pair4 state;                     // delivered on success (Phi+ frame), full_density path
  BellDiagonal bell_diagonal;      // its Bell-diagonal twirl, Bell-diagonal path
};

// Device output arrays, count entries each (bell_diagonal: count * 4, row-major [episode, k] in
// the order Phi+, Psi+, Psi-, Phi-).
struct EpisodeOutputs {
  double* time_s = nullptr;
  std::uint64_t* attempts = nullptr;
  double* fidelity = nullptr;
  double* bell_diagonal = nullptr;
};

// Number of attempts up to and including the first success, by inversion of one uniform u in
// [0, 1): max(1, ceil(log(1 - u) / log(1 - p))); p = 1 gives 1. The caller keeps p in (0, 1] and
// large enough that the result fits (p >= kMinSuccessProbability).
inline constexpr double kMinSuccessProbability = 1e-15;
QW_HD inline std::uint64_t geometric_attempts(double u, double p) {
  if (p >= 1) return 1;
  const double n = ceil(det::log1p(-u) / det::log1p(-p));
  return n < 1 ? std::uint64_t{1} : static_cast<std::uint64_t>(n);
}

// The delivered pair after both memory qubits waited wait_s: Bell-diagonal coefficients.
QW_HD inline BellDiagonal delivered_pair(const ElementaryLinkParams& p) {
  if (p.full_density) {
    Pair4 rho = decohere(p.state, 0, p.wait_s, p.t1_s, p.t2_s);
    rho = decohere(rho, 1, p.wait_s, p.t1_s, p.t2_s);
    return bell_diagonal(rho);
  }
  BellDiagonal b = decohere_twirled(p.bell_diagonal, p.wait_s, p.t1_s, p.t2_s);
  return decohere_twirled(b, p.wait_s, p.t1_s, p.t2_s);
}

// Runs episodes first_episode .. first_episode + count - 1 into the device arrays of out.
void run_elementary_episodes(const ElementaryLinkParams& params, std::uint64_t seed,
                             std::uint64_t first_episode, index_t count, const EpisodeOutputs& out);

}  // namespace qw::link
