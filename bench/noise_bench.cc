// Noise benchmarks.
//  * density-matrix channels at 10-14 qubits: one pass of the Pauli-channel kernels (1q, 2q) and of
//    the dense superoperators (density_superop_*) over the 4^n entries, as achieved bandwidth and as
//    a fraction of a copy of the same entries in the same run;
//  * batched trajectories: trajectories per second for a 12-qubit noisy circuit of 200 gates,
//    all shots in batches vs one shot at a time (the speed-up is the counter "vs_one_by_one").
//   build/bench/qweave_noise_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "host/dense_engine.h"
#include "host/parse.h"
#include "kernels/batch.h"
#include "kernels/memory.h"
#include "kernels/statevec.h"

namespace {
using namespace qw;
using Clock = std::chrono::steady_clock;

std::map<int, double> g_copy_bps;
std::map<std::string, double> g_traj_rate;

double pass_bytes(int entries_log2) { return 2.0 * sizeof(cplx) * std::ldexp(1.0, entries_log2); }

template <class Pass>
double timed(benchmark::State& st, double bytes, Pass pass) {
  double total = 0;
  for (auto _ : st) {
    const auto t0 = Clock::now();
    pass();
    device_synchronize();
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    st.SetIterationTime(dt);
    total += dt;
  }
  return bytes * static_cast<double>(st.iterations()) / std::max(total, 1e-12);
}

struct Density {
  int n;
  DeviceArray<cplx> a, b;
  explicit Density(int qubits)
      : n(qubits), a(index_t{1} << (2 * qubits)), b(index_t{1} << (2 * qubits)) {
    sv::set_basis_state(a.data(), a.size(), 0);
    sv::set_basis_state(b.data(), b.size(), 0);
  }
};
Density& density(int n) {
  static std::unique_ptr<Density> cur;
  if (!cur || cur->n != n) {
    cur.reset();
    cur = std::make_unique<Density>(n);
  }
  return *cur;
}

void BM_DensityCopy(benchmark::State& st) {
  const int n = static_cast<int>(st.range(0));
  Density& d = density(n);
  const double bps = timed(st, pass_bytes(2 * n), [&] { sv::copy(d.b.data(), d.a.data(), d.a.size()); });
  g_copy_bps[n] = bps;
  st.counters["qubits"] = n;
  st.counters["GBps"] = bps / 1e9;
}

// The density-matrix Pauli-channel paths of the engine (kernels/batch.h), one pass over the 4^n
// entries: kind 0: a one-qubit channel (groups of 4 on ket and bra bit, real weights); kind 1: a
// two-qubit channel (groups of 16 on four bits, 4 real terms per entry). For comparison, the dense
// superoperators they replace: kind 2: a 4x4 complex superoperator on (ket q, bra q) (still what
// general one-qubit Kraus maps use); kind 3: a 16x16 complex superoperator on four bits (general
// two-qubit Kraus maps).
void BM_DensityChannel(benchmark::State& st) {
  const int n = static_cast<int>(st.range(0));
  const int kind = static_cast<int>(st.range(1));
  Density& d = density(n);
  const unsigned q = static_cast<unsigned>(n / 2), un = static_cast<unsigned>(n);
  // Depolarising-like weights (W[x][d] = sum_z p_(x,z) (-1)^{z.d}); the values do not matter for
  // the timing, but keep the state bounded.
  const double W1[2][2] = {{0.95, 0.9}, {0.05, 0.0}};
  double W2[4][4];
  for (int x = 0; x < 4; ++x)
    for (int e = 0; e < 4; ++e) W2[x][e] = x == 0 ? (e == 0 ? 0.97 : 0.94) : (e == 0 ? 0.01 : -0.01);
  Mat4 s1{};
  for (int i = 0; i < 4; ++i) s1.m[5 * i] = {real(0.9), 0};
  s1.m[3] = s1.m[12] = {real(0.1), 0};
  DeviceArray<cplx> s2(256);
  {
    std::vector<cplx> h(256, cplx{0, 0});
    for (int i = 0; i < 16; ++i) h[17 * i] = {real(1), 0};
    copy_to_device(s2.data(), h.data(), h.size() * sizeof(cplx));
  }
  const unsigned qs[4] = {q, q + 1, q + un, q + 1 + un};
  const double bps = timed(st, pass_bytes(2 * n), [&] {
    switch (kind) {
      case 0: batch::pauli_channel_density_1q(d.a.data(), 1, un, q, W1); break;
      case 1: batch::pauli_channel_density_2q(d.a.data(), 1, un, q, q + 1, W2); break;
      case 2: sv::apply_2q(d.a.data(), d.a.size(), q, q + un, s1); break;
      default: batch::apply_dense(d.a.data(), 1, d.a.size(), 4, qs, s2.data(), nullptr); break;
    }
  });
  st.counters["qubits"] = n;
  st.counters["GBps"] = bps / 1e9;
  if (g_copy_bps.count(n)) st.counters["copy_frac"] = bps / g_copy_bps[n];
}

// A 12-qubit circuit of 200 gates with depolarising noise after each gate and damping on idlers.
std::string noisy_circuit() {
  std::mt19937_64 rng(12);
  std::string text;
  const int n = 12;
  for (int g = 0; g < 200; ++g) {
    const int a = static_cast<int>(rng() % n), b = static_cast<int>((a + 1 + rng() % (n - 1)) % n);
    if (g % 3 == 2) {
      text += "CX " + std::to_string(a) + " " + std::to_string(b) + "\nDEPOLARIZE2(0.01) " +
              std::to_string(a) + " " + std::to_string(b) + "\n";
    } else {
      text += "RY(" + std::to_string(0.1 * g) + ") " + std::to_string(a) + "\nDEPOLARIZE1(0.001) " +
              std::to_string(a) + "\n";
    }
    if (g % 20 == 19) text += "AMPLITUDE_DAMP(0.002) " + std::to_string(b) + "\n";
  }
  text += "M";
  for (int q = 0; q < n; ++q) text += " " + std::to_string(q);
  return text + "\n";
}

void BM_Trajectories(benchmark::State& st) {
  static const Circuit c = parse_stim(noisy_circuit(), "bench.stim");
  DenseOptions o;
  o.shots = static_cast<std::uint64_t>(st.range(1));
  o.max_batch = static_cast<std::uint64_t>(st.range(0));
  std::uint64_t batch = 0;
  for (auto _ : st) {
    const auto r = run_dense(c, o);
    batch = r.batch;
    benchmark::DoNotOptimize(r.measurements.data());
  }
  st.counters["batch"] = static_cast<double>(batch);
  st.counters["traj_per_s"] =
      benchmark::Counter(static_cast<double>(o.shots), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  for (int n : {10, 12, 14}) {
    benchmark::RegisterBenchmark("density_copy", BM_DensityCopy)->Arg(n)->UseManualTime()
        ->Unit(benchmark::kMillisecond)->MinTime(0.3);
    const std::pair<const char*, int> kinds[] = {{"density_channel_1q", 0}, {"density_channel_2q", 1},
                                                 {"density_superop_1q", 2}, {"density_superop_2q", 3}};
    for (const auto& [name, kind] : kinds)
      benchmark::RegisterBenchmark(name, BM_DensityChannel)->Args({n, kind})->UseManualTime()
          ->Unit(benchmark::kMillisecond)->MinTime(0.3);
  }
  // (max batch, shots): one at a time vs automatic batching.
  benchmark::RegisterBenchmark("trajectories_one_by_one", BM_Trajectories)->Args({1, 256})
      ->Unit(benchmark::kMillisecond)->Iterations(2);
  benchmark::RegisterBenchmark("trajectories_batched", BM_Trajectories)->Args({0, 256})
      ->Unit(benchmark::kMillisecond)->Iterations(2);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
