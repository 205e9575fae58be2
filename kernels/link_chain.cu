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

// S: BellDiagonal (twirled path) or Pair4 (exact path).
template <class S>
struct Ready {
  S state;
  double time_s;
};

struct EpisodeState {
  RngStream rng;
  std::uint64_t attempts = 0;
  std::uint64_t restarts = 0;
  bool failed = false;
};

// The two state types' operations: a fresh pair, both qubits of a stored pair waiting t seconds,
// a swap with the local noise, the delivered Bell-diagonal coefficients.
QW_HD inline BellDiagonal fresh(const ChainParams& p, const BellDiagonal*) { return p.elementary; }
QW_HD inline Pair4 fresh(const ChainParams& p, const Pair4*) { return p.elementary_density; }

QW_HD inline BellDiagonal stored(const ChainParams& p, BellDiagonal a, double t) {
  if (!(t > 0)) return a;
  a = decohere_twirled(a, t, p.t1_s, p.t2_s);
  return decohere_twirled(a, t, p.t1_s, p.t2_s);
}
// The 4x4 operations are kept out of line on CUDA (QW_NOINLINE): inlined into the recursive chain
// at every call site they made nvcc take about ten minutes for this file.
QW_HD QW_NOINLINE Pair4 stored(const ChainParams& p, const Pair4& a, double t) {
  if (!(t > 0)) return a;
  return decohere(decohere(a, 0, t, p.t1_s, p.t2_s), 1, t, p.t1_s, p.t2_s);
}

QW_HD inline BellDiagonal swapped_pair(const ChainParams& p, const BellDiagonal& a, const BellDiagonal& b) {
  return swap(a, b, p.local).state;
}
QW_HD QW_NOINLINE Pair4 swapped_pair(const ChainParams& p, const Pair4& a, const Pair4& b) {
  return swap4(a, b, p.local);
}

QW_HD inline BellDiagonal delivered(const BellDiagonal& a) { return a; }
QW_HD inline BellDiagonal delivered(const Pair4& a) { return bell_diagonal(a); }

template <class S>
QW_HD inline S fresh(const ChainParams& p) {
  return fresh(p, static_cast<const S*>(nullptr));
}

// An elementary pair attempted on `mem` memories at once per attempt window: the first success is
// kept (per window 1 - (1 - p)^mem; further successes in that window are discarded), each window
// counts mem attempts. mem = 1: success p exactly (the same bits as without multiplexing).
QW_HD inline double multiplexed_success(double p, unsigned mem) {
  if (mem <= 1) return p;
  double q = 1;
  for (unsigned i = 0; i < mem; ++i) q *= 1 - p;
  return 1 - q;
}

template <class S>
QW_HD inline Ready<S> elementary(const ChainParams& p, double start, unsigned mem, EpisodeState& e) {
  const std::uint64_t n = geometric_attempts(e.rng.uniform(), multiplexed_success(p.success_probability, mem));
  e.attempts += n * (mem > 0 ? mem : 1);
  return {stored(p, fresh<S>(p), p.herald_wait_s), start + static_cast<double>(n) * p.attempt_time_s};
}

// One purification step on the stored pair a and the later pair b (pumping is a DEJMPS step).
QW_HD inline BellOutcome purified(const ChainParams& p, const BellDiagonal& a, const BellDiagonal& b) {
  return p.purification == Purification::bbpssw ? bbpssw(a, b, p.local) : dejmps(a, b, p.local);
}
QW_HD QW_NOINLINE Pair4Outcome purified(const ChainParams& p, const Pair4& a, const Pair4& b) {
  return p.purification == Purification::bbpssw ? bbpssw4(a, b, p.local) : dejmps4(a, b, p.local);
}

// Classical message across the span of a level-`level` pair (2^level segments): one purification
// exchange, or a swap outcome travelling to the span's ends.
QW_HD inline double span_delay(const ChainParams& p, unsigned level) {
  return p.segment_delay_s * static_cast<double>(1u << level);
}

QW_HD inline unsigned rounds_of(const ChainParams& p) {
  return p.purification == Purification::none ? 0u : p.rounds;
}

template <class S>
QW_HD Ready<S> nested(const ChainParams& p, unsigned level, unsigned round, double start, unsigned mem,
                      EpisodeState& e);

// bdcz, level >= 1: two adjacent level-(level-1) pairs, each fully purified, generated in parallel
// from `start`; swapped when the later is ready (the earlier waits and decoheres; one that would
// wait past the cut-off is dropped at its cut-off and regenerated from then). With purification the
// swap outcome must reach the span's ends before the pair is purified (one span_delay); without, the
// Pauli frames are only needed at delivery and the caller adds the chain delay once.
template <class S>
QW_HD Ready<S> swapped(const ChainParams& p, unsigned level, double start, unsigned mem, EpisodeState& e) {
  const unsigned rounds = rounds_of(p);
  Ready<S> a = nested<S>(p, level - 1, rounds, start, mem, e);
  Ready<S> b = nested<S>(p, level - 1, rounds, start, mem, e);
  double T = 0;
  while (!e.failed) {
    T = a.time_s > b.time_s ? a.time_s : b.time_s;
    if (!within_cutoff(T - a.time_s, p.cutoff_s)) {
      a = nested<S>(p, level - 1, rounds, a.time_s + p.cutoff_s, mem, e);
    } else if (!within_cutoff(T - b.time_s, p.cutoff_s)) {
      b = nested<S>(p, level - 1, rounds, b.time_s + p.cutoff_s, mem, e);
    } else {
      break;
    }
    if (++e.restarts > p.max_restarts) e.failed = true;
  }
  if (e.failed) return {fresh<S>(p), NAN};
  const S s = swapped_pair(p, stored(p, a.state, T - a.time_s), stored(p, b.state, T - b.time_s));
  return {s, T + (rounds > 0 ? span_delay(p, level) : 0.0)};
}

// A pair spanning 2^level segments (swap_asap: always level 0), purified `round` times at that
// level, generation starting at `start`, with `mem` memories per node at each end of each segment
// it spans. round = 0: a fresh elementary pair (level 0) or a swapped pair (level >= 1). Each round
// needs two pairs of the round below: with one memory, pair a then pair b (a waits in memory
// meanwhile); with mem >= 2, both at once from start, each on mem / 2 memories, the earlier waiting
// for the later. Beyond the cut-off the waiting pair is dropped at its cut-off and the round
// restarts from then (the other discarded too). Then the protocol (the waiting pair is pair 1, the
// kept one), one classical exchange across the span; success with the map's probability, else the
// round restarts. Recursion depth <= (levels + 1) (rounds + 1) frames of a few doubles each.
template <class S>
QW_HD Ready<S> nested(const ChainParams& p, unsigned level, unsigned round, double start, unsigned mem,
                      EpisodeState& e) {
  if (round == 0) return level == 0 ? elementary<S>(p, start, mem, e) : swapped<S>(p, level, start, mem, e);
  const bool parallel = mem >= 2;
  const unsigned sub = parallel ? mem / 2 : mem;
  // Recurrence: two pairs of the round below; pumping: the pair of the round below and a fresh one.
  const unsigned b_round = p.purification == Purification::pumping ? 0u : round - 1;
  double t = start;
  while (!e.failed) {
    Ready<S> a = nested<S>(p, level, round - 1, t, sub, e);
    Ready<S> b = nested<S>(p, level, b_round, parallel ? t : a.time_s, sub, e);
    if (e.failed) break;
    if (b.time_s < a.time_s) {  // parallel: a is the earlier, waiting one
      const Ready<S> x = a;
      a = b;
      b = x;
    }
    const double waited = b.time_s - a.time_s;
    if (!within_cutoff(waited, p.cutoff_s)) {
      t = a.time_s + p.cutoff_s;
      if (++e.restarts > p.max_restarts) e.failed = true;
      continue;
    }
    const auto o = purified(p, stored(p, a.state, waited), b.state);
    const double done = b.time_s + span_delay(p, level);
    if (e.rng.uniform() < o.probability) return {o.state, done};
    t = done;
    if (++e.restarts > p.max_restarts) e.failed = true;
  }
  return {fresh<S>(p), NAN};
}

template <class State>
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
    Ready<State> seg[kMaxSegments];
    for (unsigned s = 0; s < S; ++s) seg[s] = nested<State>(p, 0, rounds, 0.0, p.memories, e);
    // Swap as soon as every segment holds a pair; pairs that would wait past the cut-off are
    // discarded and regenerated from their discard time.
    double T = 0;
    for (bool again = true; again && !e.failed;) {
      again = false;
      T = 0;
      for (unsigned s = 0; s < S; ++s) T = seg[s].time_s > T ? seg[s].time_s : T;
      for (unsigned s = 0; s < S && !e.failed; ++s) {
        if (!within_cutoff(T - seg[s].time_s, p.cutoff_s)) {
          seg[s] = nested<State>(p, 0, rounds, seg[s].time_s + p.cutoff_s, p.memories, e);
          again = true;
          if (++e.restarts > p.max_restarts) e.failed = true;
        }
      }
    }
    State acc = stored(p, seg[0].state, T - seg[0].time_s);
    for (unsigned s = 1; s < S; ++s) acc = swapped_pair(p, acc, stored(p, seg[s].state, T - seg[s].time_s));
    write(i, e, delivered(acc), e.failed ? NAN : T + (S > 1 ? p.chain_delay_s : 0.0));
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
    const Ready<State> r = nested<State>(p, static_cast<unsigned>(levels), rounds, 0.0, p.memories, e);
    const double extra = (rounds == 0 && p.segments > 1) ? p.chain_delay_s : 0.0;
    write(i, e, delivered(r.state), e.failed ? NAN : r.time_s + extra);
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
// episode's depth, (levels + 1)(rounds + 2) frames. Frames measured with ptxas -v (nvcc 13, sm_80
// and sm_90, --fmad=false):
//  * Bell-diagonal: kernel 3600 B (the swap_asap segment array), nested() 240 B, swapped() 176 B;
//    384 B per frame leaves room for other architectures.
//  * 4x4 (Pair4): kernel 19232 B (64 segments of 264 B), nested() 1544 B, swapped() 2280 B; the
//    out-of-line leaves stored() 856 B, swapped_pair() 1400 B, purified() 3144 B. Reserved: 20 KiB
//    + 2.5 KiB per frame + 3.5 KiB for the deepest leaf. The driver backs the limit for every
//    resident thread (about 33 KiB x 270k threads = 9 GB on an H100 for 4 segments, 2 rounds), so
//    deep 4x4 chains can fail here with the driver's message.
void reserve_stack(const ChainParams& p) {
  const unsigned rounds = rounds_of(p);
  const int levels = p.protocol == Protocol::bdcz ? nesting_levels(p.segments) : 0;
  const std::size_t depth = static_cast<std::size_t>((levels < 0 ? 0 : levels) + 1) * (rounds + 2);
  const std::size_t want = p.full_density ? 20480 + 2560 * depth + 3584 : 4096 + 384 * depth;
  std::size_t have = 0;
  if (cudaDeviceGetLimit(&have, cudaLimitStackSize) != cudaSuccess) {
    (void)cudaGetLastError();
    have = 0;
  }
  if (have >= want) return;
  const cudaError_t err = cudaDeviceSetLimit(cudaLimitStackSize, want);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error("repeater chain: cannot reserve " + std::to_string(want) +
                             " bytes of stack per thread: " + cudaGetErrorString(err) +
                             (p.full_density ? " (state = \"density\" needs about 2.5 KiB per nesting level "
                                               "and purification round; fewer rounds or state = \"bell_diagonal\")"
                                             : ""));
  }
}
#endif

}  // namespace

void run_chain_episodes(const ChainParams& params, std::uint64_t seed, std::uint64_t first_episode,
                        index_t count, const ChainOutputs& out) {
#if defined(__CUDACC__)
  reserve_stack(params);
#endif
  // A fresh pair's wait for its herald is the same in every episode: decohere it once here, not in
  // every elementary pair of every episode (the same arithmetic, so the same bits; four 4x4 Kraus
  // maps per elementary pair on the exact path). Failed episodes (NaN time) carry this pair as their
  // placeholder state.
  ChainParams q = params;
  q.elementary = stored(params, params.elementary, params.herald_wait_s);
  q.elementary_density = stored(params, params.elementary_density, params.herald_wait_s);
  q.herald_wait_s = 0;
  if (params.full_density) {
    for_each_index(count, ChainEpisode<Pair4>{q, seed, first_episode, out});
  } else {
    for_each_index(count, ChainEpisode<BellDiagonal>{q, seed, first_episode, out});
  }
}

}  // namespace qw::link
