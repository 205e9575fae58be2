// State-vector kernel throughput, as achieved bandwidth and as a fraction of the bandwidth of a
// copy kernel (same launch primitive, same bytes: one read and one write of 2^n amplitudes)
// measured in the same run, just before the gates of the same size.
//   build/bench/qweave_bench                         sizes 20, 24, 26 qubits
//   QWEAVE_BENCH_QUBITS=26,28 build/bench/qweave_bench
// Counters: GBps (achieved), copy_GBps (reference), copy_frac = GBps / copy_GBps.
// Fused blocks (fused_dense_low/high, args n/k/0|1; fused_diagonal): one pass each, the same bytes.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernels/fused.h"
#include "kernels/memory.h"
#include "kernels/statevec.h"

namespace {
using namespace qw;
using Clock = std::chrono::steady_clock;

struct Buffers {
  unsigned n;
  DeviceArray<cplx> a, b;
  explicit Buffers(unsigned qubits) : n(qubits), a(index_t{1} << qubits), b(index_t{1} << qubits) {
    sv::set_basis_state(a.data(), a.size(), 0);
    sv::set_basis_state(b.data(), b.size(), 1);
  }
};

Buffers& buffers(unsigned n) {
  static std::unique_ptr<Buffers> cur;  // one size resident at a time
  if (!cur || cur->n != n) {
    cur.reset();
    cur = std::make_unique<Buffers>(n);
  }
  return *cur;
}

std::map<unsigned, double> g_copy_bps;  // bytes per second of the copy kernel, by qubit count

double pass_bytes(unsigned n) { return 2.0 * sizeof(cplx) * std::ldexp(1.0, static_cast<int>(n)); }

// Runs pass() under manual timing and records bandwidth counters; returns bytes per second.
template <class Pass>
double timed(benchmark::State& st, unsigned n, Pass pass) {
  double total = 0;
  for (auto _ : st) {
    const auto t0 = Clock::now();
    pass();
    device_synchronize();
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    st.SetIterationTime(dt);
    total += dt;
  }
  const double bps = pass_bytes(n) * static_cast<double>(st.iterations()) / std::max(total, 1e-12);
  st.SetBytesProcessed(static_cast<std::int64_t>(pass_bytes(n) * static_cast<double>(st.iterations())));
  st.counters["qubits"] = n;
  st.counters["GBps"] = bps / 1e9;
  auto it = g_copy_bps.find(n);
  if (it != g_copy_bps.end()) {
    st.counters["copy_GBps"] = it->second / 1e9;
    st.counters["copy_frac"] = bps / it->second;
  }
  return bps;
}

void BM_Copy(benchmark::State& st) {
  const unsigned n = static_cast<unsigned>(st.range(0));
  Buffers& b = buffers(n);
  g_copy_bps[n] = timed(st, n, [&] { sv::copy(b.b.data(), b.a.data(), b.a.size()); });
}

void BM_Gate1q(benchmark::State& st) {
  const unsigned n = static_cast<unsigned>(st.range(0));
  const unsigned q = st.range(1) == 0 ? 0u : n - 1;
  Buffers& b = buffers(n);
  const real s = static_cast<real>(M_SQRT1_2);
  const Mat2 h{{{s, 0}, {s, 0}, {s, 0}, {-s, 0}}};
  timed(st, n, [&] { sv::apply_1q(b.a.data(), b.a.size(), q, h); });
}

void BM_CNOT(benchmark::State& st) {
  const unsigned n = static_cast<unsigned>(st.range(0));
  Buffers& b = buffers(n);
  const index_t ctrl = index_t{1} << (n - 1);
  timed(st, n, [&] { sv::apply_pauli(b.a.data(), b.a.size(), index_t{1} << 1, 0, 0, ctrl, ctrl); });
}

void BM_Gate2q(benchmark::State& st) {
  const unsigned n = static_cast<unsigned>(st.range(0));
  Buffers& b = buffers(n);
  Mat4 m{};
  const real h = static_cast<real>(0.5);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) m.m[4 * r + c] = cplx{(r == 3 && c == 3) ? -h : h, 0};
  timed(st, n, [&] { sv::apply_2q(b.a.data(), b.a.size(), 1, n - 2, m); });
}

// A fused dense block of k qubits (kernels/fused.h): targets the lowest k qubits (range(2) == 0,
// contiguous groups) or the highest k (range(2) == 1). The matrix is a k-qubit DFT (unitary, so the
// state keeps its norm over the iterations).
void BM_FusedDense(benchmark::State& st) {
  const unsigned n = static_cast<unsigned>(st.range(0));
  const unsigned k = static_cast<unsigned>(st.range(1));
  Buffers& b = buffers(n);
  const std::size_t D = std::size_t{1} << k;
  std::vector<real> host(2 * D * D);
  for (std::size_t r = 0; r < D; ++r)
    for (std::size_t c = 0; c < D; ++c) {
      const double ph = 2 * M_PI * static_cast<double>(r * c) / static_cast<double>(D);
      host[c * D + r] = static_cast<real>(std::cos(ph) / std::sqrt(static_cast<double>(D)));
      host[D * D + c * D + r] = static_cast<real>(std::sin(ph) / std::sqrt(static_cast<double>(D)));
    }
  DeviceArray<real> m(host.size());
  copy_to_device(m.data(), host.data(), host.size() * sizeof(real));
  std::vector<unsigned> qs(k);
  for (unsigned j = 0; j < k; ++j) qs[j] = st.range(2) == 0 ? j : n - k + j;
  timed(st, n, [&] { sv::apply_dense(b.a.data(), b.a.size(), k, qs.data(), m.data()); });
}

// A fused diagonal of k qubits spread over the state (every third qubit).
void BM_FusedDiagonal(benchmark::State& st) {
  const unsigned n = static_cast<unsigned>(st.range(0));
  const unsigned k = static_cast<unsigned>(st.range(1));
  Buffers& b = buffers(n);
  std::vector<cplx> host(std::size_t{1} << k);
  for (std::size_t t = 0; t < host.size(); ++t) {
    host[t] = {static_cast<real>(std::cos(0.1 * t)), static_cast<real>(std::sin(0.1 * t))};
  }
  DeviceArray<cplx> d(host.size());
  copy_to_device(d.data(), host.data(), host.size() * sizeof(cplx));
  std::vector<unsigned> qs(k);
  for (unsigned j = 0; j < k; ++j) qs[j] = (3 * j) % n;
  timed(st, n, [&] { sv::apply_diagonal(b.a.data(), b.a.size(), k, qs.data(), d.data()); });
}

// Ten 1-qubit gates in a row without a host synchronisation between them (timed as one pass each):
// what a circuit sees when launches queue up back to back.
void BM_Gate1qStream(benchmark::State& st) {
  const unsigned n = static_cast<unsigned>(st.range(0));
  Buffers& b = buffers(n);
  const real s = static_cast<real>(M_SQRT1_2);
  const Mat2 h{{{s, 0}, {s, 0}, {s, 0}, {-s, 0}}};
  double total = 0;
  for (auto _ : st) {
    const auto t0 = Clock::now();
    for (unsigned g = 0; g < 10; ++g) sv::apply_1q(b.a.data(), b.a.size(), (g * 7) % n, h);
    device_synchronize();
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count() / 10;
    st.SetIterationTime(dt);
    total += dt;
  }
  const double bps = pass_bytes(n) * static_cast<double>(st.iterations()) / std::max(total, 1e-12);
  st.counters["qubits"] = n;
  st.counters["GBps"] = bps / 1e9;
  auto it = g_copy_bps.find(n);
  if (it != g_copy_bps.end()) {
    st.counters["copy_GBps"] = it->second / 1e9;
    st.counters["copy_frac"] = bps / it->second;
  }
}

std::vector<int> sizes() {
  std::vector<int> out;
  const char* env = std::getenv("QWEAVE_BENCH_QUBITS");
  std::string s = env ? env : "20,24,26";
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    out.push_back(std::stoi(s.substr(pos, end - pos)));
    pos = end + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // Copy first for each size, so the gates of that size are compared with it.
  for (int n : sizes()) {
    auto reg = [&](const std::string& name, void (*fn)(benchmark::State&), std::vector<int64_t> args) {
      benchmark::RegisterBenchmark(name.c_str(), fn)->Args(args)->UseManualTime()
          ->Unit(benchmark::kMillisecond)->MinTime(0.5);
    };
    reg("copy", BM_Copy, {n});
    reg("gate1q_low", BM_Gate1q, {n, 0});
    reg("gate1q_high", BM_Gate1q, {n, 1});
    reg("cnot", BM_CNOT, {n});
    reg("gate2q_dense", BM_Gate2q, {n});
    reg("gate1q_stream", BM_Gate1qStream, {n});
    for (int k : {1, 2, 3, 4, 5}) {
      reg("fused_dense_k" + std::to_string(k) + "_low", BM_FusedDense, {n, k, 0});
      reg("fused_dense_k" + std::to_string(k) + "_high", BM_FusedDense, {n, k, 1});
    }
    reg("fused_diagonal_k8", BM_FusedDiagonal, {n, 8});
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
