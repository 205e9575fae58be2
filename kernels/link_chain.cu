// Repeater-chain episodes (see kernels/link_chain.h): one thread per episode.
#include "kernels/link_chain.h"

#include <cmath>

#include "kernels/launch.h"
#include "kernels/link_episodes.h"
#include "kernels/rng.h"

namespace qw::link {
namespace {

struct Ready {
  BellDiagonal state;
  double time_s;
};

struct EpisodeState {
  RngStream rng;
  std::uint64_t attempts = 0;
  std::uint64_t restarts = 0;
  bool failed = false;
};

// Both qubits of a stored pair wait t seconds.
QW_HD inline BellDiagonal stored(const ChainParams& p, BellDiagonal a, double t) {
  if (!(t > 0)) return a;
  a = decohere_twirled(a, t, p.t1_s, p.t2_s);
  return decohere_twirled(a, t, p.t1_s, p.t2_s);
}

QW_HD inline Ready elementary(const ChainParams& p, double start, EpisodeState& e) {
  const std::uint64_t n = geometric_attempts(e.rng.uniform(), p.success_probability);
  e.attempts += n;
  return {p.elementary, start + static_cast<double>(n) * p.attempt_time_s};
}

// A pair purified `level` times, generation starting at `start`. Each round: pair a, then pair b
// (a waits in memory meanwhile; beyond the cut-off it is discarded and the round restarts), the
// protocol, one classical exchange across the segment; success with the map's probability.
QW_HD Ready purified(const ChainParams& p, unsigned level, double start, EpisodeState& e) {
  if (level == 0) return elementary(p, start, e);
  double t = start;
  while (!e.failed) {
    const Ready a = purified(p, level - 1, t, e);
    const Ready b = purified(p, level - 1, a.time_s, e);
    const double waited = b.time_s - a.time_s;
    if (!within_cutoff(waited, p.cutoff_s)) {
      t = a.time_s + p.cutoff_s;  // a was dropped at its cut-off; b is kept as the new first pair
      if (++e.restarts > p.max_restarts) e.failed = true;
      continue;
    }
    const BellDiagonal sa = stored(p, a.state, waited);
    const BellOutcome o = p.purification == Purification::bbpssw ? bbpssw(sa, b.state, p.local)
                                                                 : dejmps(sa, b.state, p.local);
    const double done = b.time_s + p.segment_delay_s;
    if (e.rng.uniform() < o.probability) return {o.state, done};
    t = done;
    if (++e.restarts > p.max_restarts) e.failed = true;
  }
  return {p.elementary, NAN};
}

struct ChainEpisode {
  ChainParams p;
  std::uint64_t seed, first;
  ChainOutputs out;
  QW_HD void operator()(index_t i) const {
    EpisodeState e{RngStream{seed, first + i}};
    const unsigned S = p.segments;
    const unsigned rounds = p.purification == Purification::none ? 0u : p.rounds;
    Ready seg[kMaxSegments];
    for (unsigned s = 0; s < S; ++s) seg[s] = purified(p, rounds, 0.0, e);
    // Swap as soon as every segment holds a pair; pairs that would wait past the cut-off are
    // discarded and regenerated from their discard time.
    double T = 0;
    for (bool again = true; again && !e.failed;) {
      again = false;
      T = 0;
      for (unsigned s = 0; s < S; ++s) T = seg[s].time_s > T ? seg[s].time_s : T;
      for (unsigned s = 0; s < S && !e.failed; ++s) {
        if (!within_cutoff(T - seg[s].time_s, p.cutoff_s)) {
          seg[s] = purified(p, rounds, seg[s].time_s + p.cutoff_s, e);
          again = true;
          if (++e.restarts > p.max_restarts) e.failed = true;
        }
      }
    }
    BellDiagonal acc = stored(p, seg[0].state, T - seg[0].time_s);
    for (unsigned s = 1; s < S; ++s) acc = swap(acc, stored(p, seg[s].state, T - seg[s].time_s), p.local).state;
    const double time = e.failed ? NAN : T + (S > 1 ? p.chain_delay_s : 0.0);
    out.time_s[i] = time;
    out.attempts[i] = e.attempts;
    out.fidelity[i] = acc.phi_plus;
    for (int k = 0; k < 4; ++k) out.bell_diagonal[4 * i + static_cast<index_t>(k)] = acc[k];
  }
};

}  // namespace

void run_chain_episodes(const ChainParams& params, std::uint64_t seed, std::uint64_t first_episode,
                        index_t count, const ChainOutputs& out) {
  for_each_index(count, ChainEpisode{params, seed, first_episode, out});
}

}  // namespace qw::link
