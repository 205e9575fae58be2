// Link-engine benchmarks: Monte-Carlo episodes per second.
//  * repeater chain (kernels/link_chain.h): 4 segments, 2 DEJMPS rounds per segment, Werner source
//    F = 0.9 with success probability 0.1 per 10 us attempt, memories T2 = 0.1 s (T1 = inf),
//    cut-off 10 ms, noisy local operations. Three ways to run the same episodes:
//      - chain_batched:     qw::link::run_chain_episodes on 2^20 episodes (one launch);
//      - chain_count1_loop: run_chain_episodes with count = 1, once per episode (a launch each;
//                           on the cpu backend launches below 2^14 run on the calling thread);
//      - chain_serial_host: a plain serial host loop, written here, that runs the same model with
//                           the kernels/link_maps.h maps and the same RNG draws, one episode after
//                           the other (its results are checked to be bit-identical to the kernel's).
//    The same chain on the exact 4x4 path (state = "density": dejmps4, swap4, exact decay):
//      - chain4_batched, chain4_serial_host (2^16 and 2^13 episodes), as above.
//    Counter episodes_per_s; the serial variants also report vs_batched = batched rate / their rate
//    (same state path); chain4_batched reports bd_over_4x4 = Bell-diagonal / 4x4 batched rate.
//  * elementary link (kernels/link_episodes.h): run_elementary_episodes on 2^20 episodes, the
//    Bell-diagonal (twirled) path vs the full 4x4 density-matrix path; the 4x4 path reports
//    bd_over_full = Bell-diagonal rate / 4x4 rate.
//  Each body runs once untimed first. Also reported: episodes_per_cpu_s (per CPU-second of the
//  process) and cores_used (process CPU time / wall time), to read the numbers on a shared machine. The CPU column is the process's CPU time (all threads): on the
//  cpu backend, CPU / Time near the thread count means the cores were not shared with other work.
//   build/bench/qweave_link_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "kernels/link_chain.h"
#include "kernels/link_episodes.h"
#include "kernels/link_maps.h"
#include "kernels/memory.h"
#include "kernels/rng.h"

namespace {
using namespace qw;
using Clock = std::chrono::steady_clock;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::uint64_t kSeed = 2024;

std::map<std::string, double> g_rate;

link::ChainParams chain_params() {
  link::ChainParams c;
  c.segments = 4;
  c.success_probability = 0.1;
  c.attempt_time_s = 10e-6;
  c.segment_delay_s = 25.0 / 2.0e5;   // 25 km of fibre per segment, c/n = 2e5 km/s
  c.chain_delay_s = 100.0 / 2.0e5;
  c.elementary = werner(0.9);
  c.purification = link::Purification::dejmps;
  c.rounds = 2;
  c.local = LocalNoise{0.01, 0.005};
  c.t1_s = kInf;
  c.t2_s = 0.1;
  c.cutoff_s = 10e-3;
  return c;
}

// The same chain on the exact 4x4 path (state = "density"); with T1 = inf the memories only
// dephase, so the delivered pairs equal the Bell-diagonal path's (same model, same numbers).
link::ChainParams chain4_params() {
  link::ChainParams c = chain_params();
  c.full_density = true;
  c.elementary_density = to_pair4(c.elementary);
  return c;
}

struct ChainBuffers {
  DeviceArray<double> t, f, b;
  DeviceArray<std::uint64_t> a;
  explicit ChainBuffers(index_t n) : t(n), f(n), b(4 * n), a(n) {}
  link::ChainOutputs out(index_t offset = 0) {
    return {t.data() + offset, a.data() + offset, f.data() + offset, b.data() + 4 * offset};
  }
};

// ---- A plain serial host implementation of the chain model (kernels/link_chain.cu's model, written
// again as ordinary host code over the same maps and the same RNG draw order).
namespace serial {
template <class S>
struct Ready {
  S state;
  double time_s;
};
struct Episode {
  RngStream rng;
  std::uint64_t attempts = 0, restarts = 0;
  bool failed = false;
};
// The state type's operations: Bell-diagonal (twirled) or exact 4x4.
BellDiagonal fresh(const link::ChainParams& p, const BellDiagonal*) { return p.elementary; }
Pair4 fresh(const link::ChainParams& p, const Pair4*) { return p.elementary_density; }
BellDiagonal stored(const link::ChainParams& p, BellDiagonal a, double t) {
  if (!(t > 0)) return a;
  return decohere_twirled(decohere_twirled(a, t, p.t1_s, p.t2_s), t, p.t1_s, p.t2_s);
}
Pair4 stored(const link::ChainParams& p, const Pair4& a, double t) {
  if (!(t > 0)) return a;
  return decohere(decohere(a, 0, t, p.t1_s, p.t2_s), 1, t, p.t1_s, p.t2_s);
}
BellOutcome purify(const link::ChainParams& p, const BellDiagonal& a, const BellDiagonal& b) {
  return p.purification == link::Purification::bbpssw ? bbpssw(a, b, p.local) : dejmps(a, b, p.local);
}
Pair4Outcome purify(const link::ChainParams& p, const Pair4& a, const Pair4& b) {
  return p.purification == link::Purification::bbpssw ? bbpssw4(a, b, p.local) : dejmps4(a, b, p.local);
}
BellDiagonal swap_pairs(const link::ChainParams& p, const BellDiagonal& a, const BellDiagonal& b) {
  return swap(a, b, p.local).state;
}
Pair4 swap_pairs(const link::ChainParams& p, const Pair4& a, const Pair4& b) { return swap4(a, b, p.local); }
BellDiagonal twirl(const BellDiagonal& a) { return a; }
BellDiagonal twirl(const Pair4& a) { return bell_diagonal(a); }

template <class S>
Ready<S> purified(const link::ChainParams& p, unsigned level, double start, Episode& e) {
  if (level == 0) {
    const std::uint64_t n = link::geometric_attempts(e.rng.uniform(), p.success_probability);
    e.attempts += n;
    return {stored(p, fresh(p, static_cast<const S*>(nullptr)), p.herald_wait_s),
            start + static_cast<double>(n) * p.attempt_time_s};
  }
  double t = start;
  while (!e.failed) {
    const Ready<S> a = purified<S>(p, level - 1, t, e);
    const Ready<S> b = purified<S>(p, level - 1, a.time_s, e);
    const double waited = b.time_s - a.time_s;
    if (!within_cutoff(waited, p.cutoff_s)) {
      t = a.time_s + p.cutoff_s;
      if (++e.restarts > p.max_restarts) e.failed = true;
      continue;
    }
    const auto o = purify(p, stored(p, a.state, waited), b.state);
    const double done = b.time_s + p.segment_delay_s;
    if (e.rng.uniform() < o.probability) return {o.state, done};
    t = done;
    if (++e.restarts > p.max_restarts) e.failed = true;
  }
  return {fresh(p, static_cast<const S*>(nullptr)), NAN};
}
// Episodes [first, first + n) into host arrays; S = BellDiagonal or Pair4 (p.full_density).
template <class S>
void run(const link::ChainParams& p, std::uint64_t seed, std::uint64_t first, std::uint64_t n,
         double* time_s, std::uint64_t* attempts, double* fidelity, double* bd) {
  const unsigned rounds = p.purification == link::Purification::none ? 0u : p.rounds;
  std::vector<Ready<S>> seg(p.segments);
  for (std::uint64_t i = 0; i < n; ++i) {
    Episode e{RngStream{seed, first + i}};
    for (unsigned s = 0; s < p.segments; ++s) seg[s] = purified<S>(p, rounds, 0.0, e);
    double T = 0;
    for (bool again = true; again && !e.failed;) {
      again = false;
      T = 0;
      for (const Ready<S>& r : seg) T = std::max(T, r.time_s);
      for (unsigned s = 0; s < p.segments && !e.failed; ++s) {
        if (!within_cutoff(T - seg[s].time_s, p.cutoff_s)) {
          seg[s] = purified<S>(p, rounds, seg[s].time_s + p.cutoff_s, e);
          again = true;
          if (++e.restarts > p.max_restarts) e.failed = true;
        }
      }
    }
    S acc = stored(p, seg[0].state, T - seg[0].time_s);
    for (unsigned s = 1; s < p.segments; ++s) acc = swap_pairs(p, acc, stored(p, seg[s].state, T - seg[s].time_s));
    const BellDiagonal out = twirl(acc);
    time_s[i] = e.failed ? NAN : T + (p.segments > 1 ? p.chain_delay_s : 0.0);
    attempts[i] = e.attempts;
    fidelity[i] = out.phi_plus;
    for (int k = 0; k < 4; ++k) bd[4 * i + k] = out[k];
  }
}
}  // namespace serial

template <class Body>
double timed_rate(benchmark::State& st, double episodes, Body body) {
  body();  // warm-up, untimed: first touch of the output pages, thread team start
  device_synchronize();
  double total = 0, cpu = 0;
  for (auto _ : st) {
    const auto t0 = Clock::now();
    const std::clock_t c0 = std::clock();  // process CPU time, all threads
    body();
    device_synchronize();
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    cpu += static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    st.SetIterationTime(dt);
    total += dt;
  }
  const double n = episodes * static_cast<double>(st.iterations());
  // Load-insensitive companions of the wall-clock rate: episodes per CPU-second, and the cores the
  // run actually got (CPU / wall; below the thread count when other work shares the cores).
  st.counters["episodes_per_cpu_s"] = n / std::max(cpu, 1e-12);
  st.counters["cores_used"] = cpu / std::max(total, 1e-12);
  return n / std::max(total, 1e-12);
}

// vs_batched: the batched rate of the same state path / this rate; bd_over_4x4: the Bell-diagonal
// batched rate / the 4x4 batched rate.
void report(benchmark::State& st, const char* name, double rate) {
  g_rate[name] = rate;
  st.counters["episodes_per_s"] = rate;
  const bool four = std::strncmp(name, "chain4", 6) == 0;
  const char* batched = four ? "chain4_batched" : "chain_batched";
  if (std::strcmp(name, batched) != 0 && g_rate.count(batched) && std::strncmp(name, "chain", 5) == 0)
    st.counters["vs_batched"] = g_rate[batched] / rate;
  if (std::strcmp(name, "chain4_batched") == 0 && g_rate.count("chain_batched"))
    st.counters["bd_over_4x4"] = g_rate["chain_batched"] / rate;
}

void BM_ChainBatched(benchmark::State& st) {
  const index_t n = static_cast<index_t>(st.range(0));
  const link::ChainParams p = chain_params();
  ChainBuffers buf(n);
  const double rate = timed_rate(st, static_cast<double>(n),
                                 [&] { link::run_chain_episodes(p, kSeed, 0, n, buf.out()); });
  // Physics sanity: mean fidelity and mean time of the delivered pairs.
  std::vector<double> f(n), t(n);
  copy_to_host(f.data(), buf.f.data(), n * sizeof(double));
  copy_to_host(t.data(), buf.t.data(), n * sizeof(double));
  double sf = 0, stime = 0;
  for (index_t i = 0; i < n; ++i) sf += f[i], stime += t[i];
  st.counters["fidelity_mean"] = sf / static_cast<double>(n);
  st.counters["time_mean_ms"] = 1e3 * stime / static_cast<double>(n);
  report(st, "chain_batched", rate);
}

void BM_ChainCount1Loop(benchmark::State& st) {
  const index_t n = static_cast<index_t>(st.range(0));
  const link::ChainParams p = chain_params();
  ChainBuffers buf(n);
  const double rate = timed_rate(st, static_cast<double>(n), [&] {
    for (index_t i = 0; i < n; ++i) link::run_chain_episodes(p, kSeed, i, 1, buf.out(i));
  });
  report(st, "chain_count1_loop", rate);
}

// The batched kernel and the plain serial loop, on either state path (range(1): 1 = 4x4).
void BM_ChainBatched4(benchmark::State& st) {
  const index_t n = static_cast<index_t>(st.range(0));
  const link::ChainParams p = chain4_params();
  ChainBuffers buf(n);
  const double rate = timed_rate(st, static_cast<double>(n),
                                 [&] { link::run_chain_episodes(p, kSeed, 0, n, buf.out()); });
  std::vector<double> f(n);
  copy_to_host(f.data(), buf.f.data(), n * sizeof(double));
  double sf = 0;
  for (index_t i = 0; i < n; ++i) sf += f[i];
  st.counters["fidelity_mean"] = sf / static_cast<double>(n);
  report(st, "chain4_batched", rate);
}

void BM_ChainSerialHost(benchmark::State& st) {
  const std::uint64_t n = static_cast<std::uint64_t>(st.range(0));
  const bool full = st.range(1) != 0;
  const link::ChainParams p = full ? chain4_params() : chain_params();
  std::vector<double> t(n), f(n), b(4 * n);
  std::vector<std::uint64_t> a(n);
  const double rate = timed_rate(st, static_cast<double>(n), [&] {
    if (full) {
      serial::run<Pair4>(p, kSeed, 0, n, t.data(), a.data(), f.data(), b.data());
    } else {
      serial::run<BellDiagonal>(p, kSeed, 0, n, t.data(), a.data(), f.data(), b.data());
    }
  });
  // The serial loop must reproduce the kernel bit for bit (same model, same draws).
  ChainBuffers buf(static_cast<index_t>(n));
  link::run_chain_episodes(p, kSeed, 0, static_cast<index_t>(n), buf.out());
  std::vector<double> tk(n), bk(4 * n);
  std::vector<std::uint64_t> ak(n);
  copy_to_host(tk.data(), buf.t.data(), n * sizeof(double));
  copy_to_host(bk.data(), buf.b.data(), 4 * n * sizeof(double));
  copy_to_host(ak.data(), buf.a.data(), n * sizeof(std::uint64_t));
  std::uint64_t mismatches = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    bool same = ak[i] == a[i] && (tk[i] == t[i] || (std::isnan(tk[i]) && std::isnan(t[i])));
    for (int k = 0; k < 4; ++k) same = same && bk[4 * i + k] == b[4 * i + k];
    mismatches += same ? 0 : 1;
  }
  st.counters["mismatches_vs_kernel"] = static_cast<double>(mismatches);
  report(st, full ? "chain4_serial_host" : "chain_serial_host", rate);
}

// Elementary link: Werner F = 0.9, p = 0.1, 10 us attempts, both memory qubits wait 1 ms (T2 = 0.1 s).
void BM_Elementary(benchmark::State& st) {
  const index_t n = static_cast<index_t>(st.range(0));
  const bool full = st.range(1) != 0;
  link::ElementaryLinkParams p;
  p.success_probability = 0.1;
  p.attempt_time_s = 10e-6;
  p.delay_s = 50e-6;
  p.wait_s = 1e-3;
  p.t1_s = kInf;
  p.t2_s = 0.1;
  p.full_density = full;
  p.bell_diagonal = werner(0.9);
  p.state = to_pair4(p.bell_diagonal);
  DeviceArray<double> t(n), f(n), b(4 * n);
  DeviceArray<std::uint64_t> a(n);
  const link::EpisodeOutputs out{t.data(), a.data(), f.data(), b.data()};
  const double rate =
      timed_rate(st, static_cast<double>(n), [&] { link::run_elementary_episodes(p, kSeed, 0, n, out); });
  double f0 = 0;
  copy_to_host(&f0, f.data(), sizeof(double));
  st.counters["fidelity"] = f0;
  st.counters["episodes_per_s"] = rate;
  const char* name = full ? "elementary_full4x4" : "elementary_bell_diagonal";
  g_rate[name] = rate;
  if (full && g_rate.count("elementary_bell_diagonal"))
    st.counters["bd_over_full"] = g_rate["elementary_bell_diagonal"] / rate;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t n = std::int64_t{1} << 20;
  benchmark::RegisterBenchmark("chain_batched", BM_ChainBatched)->Arg(n)->UseManualTime()->MeasureProcessCPUTime()
      ->Unit(benchmark::kMillisecond)->MinTime(1.0);
  // The per-episode loops on fewer episodes (the rate is per episode either way).
  benchmark::RegisterBenchmark("chain_count1_loop", BM_ChainCount1Loop)->Arg(std::int64_t{1} << 16)
      ->UseManualTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond)->MinTime(1.0);
  benchmark::RegisterBenchmark("chain_serial_host", BM_ChainSerialHost)->Args({std::int64_t{1} << 16, 0})
      ->UseManualTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond)->MinTime(1.0);
  // The exact 4x4 path: about 20x the work per episode, so fewer episodes.
  benchmark::RegisterBenchmark("chain4_batched", BM_ChainBatched4)->Arg(std::int64_t{1} << 16)->UseManualTime()
      ->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond)->MinTime(1.0);
  benchmark::RegisterBenchmark("chain4_serial_host", BM_ChainSerialHost)->Args({std::int64_t{1} << 13, 1})
      ->UseManualTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond)->MinTime(1.0);
  benchmark::RegisterBenchmark("elementary_bell_diagonal", BM_Elementary)->Args({n, 0})->UseManualTime()->MeasureProcessCPUTime()
      ->Unit(benchmark::kMillisecond)->MinTime(0.5);
  benchmark::RegisterBenchmark("elementary_full4x4", BM_Elementary)->Args({n, 1})->UseManualTime()->MeasureProcessCPUTime()
      ->Unit(benchmark::kMillisecond)->MinTime(0.5);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
