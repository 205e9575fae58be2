// Repeater-chain episodes (see kernels/link_chain.h): one thread per episode.
#include "kernels/link_chain.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/launch.h"
#include "kernels/link_episodes.h"
#include "kernels/rng.h"

#if defined(__CUDACC__)
#include <cuda_runtime.h>
#endif

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
  return {stored(p, p.elementary, p.herald_wait_s), start + static_cast<double>(n) * p.attempt_time_s};
}

// Classical message across the span of a level-`level` pair (2^level segments): one purification
// exchange, or a swap outcome travelling to the span's ends.
QW_HD inline double span_delay(const ChainParams& p, unsigned level) {
  return p.segment_delay_s * static_cast<double>(1u << level);
}

QW_HD inline unsigned rounds_of(const ChainParams& p) {
  return p.purification == Purification::none ? 0u : p.rounds;
}

QW_HD Ready nested(const ChainParams& p, unsigned level, unsigned round, double start, EpisodeState& e);

// bdcz, level >= 1: two adjacent level-(level-1) pairs, each fully purified, generated in parallel
// from `start`; swapped when the later is ready (the earlier waits and decoheres; one that would
// wait past the cut-off is dropped at its cut-off and regenerated from then). With purification the
// swap outcome must reach the span's ends before the pair is purified (one span_delay); without, the
// Pauli frames are only needed at delivery and the caller adds the chain delay once.
QW_HD Ready swapped(const ChainParams& p, unsigned level, double start, EpisodeState& e) {
  const unsigned rounds = rounds_of(p);
  Ready a = nested(p, level - 1, rounds, start, e);
  Ready b = nested(p, level - 1, rounds, start, e);
  double T = 0;
  while (!e.failed) {
    T = a.time_s > b.time_s ? a.time_s : b.time_s;
    if (!within_cutoff(T - a.time_s, p.cutoff_s)) {
      a = nested(p, level - 1, rounds, a.time_s + p.cutoff_s, e);
    } else if (!within_cutoff(T - b.time_s, p.cutoff_s)) {
      b = nested(p, level - 1, rounds, b.time_s + p.cutoff_s, e);
    } else {
      break;
    }
    if (++e.restarts > p.max_restarts) e.failed = true;
  }
  if (e.failed) return {p.elementary, NAN};
  const BellDiagonal s = swap(stored(p, a.state, T - a.time_s), stored(p, b.state, T - b.time_s), p.local).state;
  return {s, T + (rounds > 0 ? span_delay(p, level) : 0.0)};
}

// A pair spanning 2^level segments (swap_asap: always level 0), purified `round` times at that
// level, generation starting at `start`. round = 0: a fresh elementary pair (level 0) or a swapped
// pair (level >= 1). Each round: pair a, then pair b (a waits in memory meanwhile; beyond the cut-off
// a is dropped at its cut-off and the round restarts from then, b discarded too), the protocol, one
// classical exchange across the span; success with the map's probability, else the round restarts.
// Recursion depth <= (levels + 1) (rounds + 1) frames of a few doubles each.
QW_HD Ready nested(const ChainParams& p, unsigned level, unsigned round, double start, EpisodeState& e) {
  if (round == 0) return level == 0 ? elementary(p, start, e) : swapped(p, level, start, e);
  double t = start;
  while (!e.failed) {
    const Ready a = nested(p, level, round - 1, t, e);
    const Ready b = nested(p, level, round - 1, a.time_s, e);
    if (e.failed) break;
    const double waited = b.time_s - a.time_s;
    if (!within_cutoff(waited, p.cutoff_s)) {
      t = a.time_s + p.cutoff_s;
      if (++e.restarts > p.max_restarts) e.failed = true;
      continue;
    }
    const BellDiagonal sa = stored(p, a.state, waited);
    const BellOutcome o = p.purification == Purification::bbpssw ? bbpssw(sa, b.state, p.local)
                                                                 : dejmps(sa, b.state, p.local);
    const double done = b.time_s + span_delay(p, level);
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
    if (p.protocol == Protocol::bdcz) {
      bdcz(e, i);
      return;
    }
    const unsigned S = p.segments;
    const unsigned rounds = rounds_of(p);
    Ready seg[kMaxSegments];
    for (unsigned s = 0; s < S; ++s) seg[s] = nested(p, 0, rounds, 0.0, e);
    // Swap as soon as every segment holds a pair; pairs that would wait past the cut-off are
    // discarded and regenerated from their discard time.
    double T = 0;
    for (bool again = true; again && !e.failed;) {
      again = false;
      T = 0;
      for (unsigned s = 0; s < S; ++s) T = seg[s].time_s > T ? seg[s].time_s : T;
      for (unsigned s = 0; s < S && !e.failed; ++s) {
        if (!within_cutoff(T - seg[s].time_s, p.cutoff_s)) {
          seg[s] = nested(p, 0, rounds, seg[s].time_s + p.cutoff_s, e);
          again = true;
          if (++e.restarts > p.max_restarts) e.failed = true;
        }
      }
    }
    BellDiagonal acc = stored(p, seg[0].state, T - seg[0].time_s);
    for (unsigned s = 1; s < S; ++s) acc = swap(acc, stored(p, seg[s].state, T - seg[s].time_s), p.local).state;
    write(i, e, acc, e.failed ? NAN : T + (S > 1 ? p.chain_delay_s : 0.0));
  }
  // The whole chain is one level-L pair. Without purification the swap outcomes of every level
  // travel to the end nodes at the end: the chain delay is added once (as in swap_asap).
  QW_HD void bdcz(EpisodeState& e, index_t i) const {
    const int levels = nesting_levels(p.segments);
    if (levels < 0) {
      write(i, e, p.elementary, NAN);
      return;
    }
    const unsigned rounds = rounds_of(p);
    const Ready r = nested(p, static_cast<unsigned>(levels), rounds, 0.0, e);
    const double extra = (rounds == 0 && p.segments > 1) ? p.chain_delay_s : 0.0;
    write(i, e, r.state, e.failed ? NAN : r.time_s + extra);
  }
  QW_HD void write(index_t i, const EpisodeState& e, BellDiagonal acc, double time) const {
    out.time_s[i] = time;
    out.attempts[i] = e.attempts;
    out.fidelity[i] = acc.phi_plus;
    for (int k = 0; k < 4; ++k) out.bell_diagonal[4 * i + static_cast<index_t>(k)] = acc[k];
  }
};

#if defined(__CUDACC__)
// nested() and swapped() recurse, so ptxas cannot size the per-thread stack: raise the limit to the
// episode's depth. Frames (sm_90, ptxas -v): the kernel ~3 KiB (the swap_asap segment array),
// nested() 240 B, swapped() 184 B; 384 B per frame leaves room for other architectures.
void reserve_stack(const ChainParams& p) {
  const unsigned rounds = rounds_of(p);
  const int levels = p.protocol == Protocol::bdcz ? nesting_levels(p.segments) : 0;
  const std::size_t depth = static_cast<std::size_t>((levels < 0 ? 0 : levels) + 1) * (rounds + 2);
  const std::size_t want = 4096 + 384 * depth;
  std::size_t have = 0;
  if (cudaDeviceGetLimit(&have, cudaLimitStackSize) != cudaSuccess) {
    (void)cudaGetLastError();
    have = 0;
  }
  if (have >= want) return;
  const cudaError_t err = cudaDeviceSetLimit(cudaLimitStackSize, want);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error(std::string("repeater chain: cannot reserve the per-thread stack: ") +
                             cudaGetErrorString(err));
  }
}
#endif

}  // namespace

void run_chain_episodes(const ChainParams& params, std::uint64_t seed, std::uint64_t first_episode,
                        index_t count, const ChainOutputs& out) {
#if defined(__CUDACC__)
  reserve_stack(params);
#endif
  for_each_index(count, ChainEpisode{params, seed, first_episode, out});
}

}  // namespace qw::link
