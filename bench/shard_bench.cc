// Sharded state vector (host/sharded_state.h): the cost of a gate on a global qubit (one pairwise
// exchange of half a slab with the partner rank) against a gate on a local qubit, and the effect of
// the lazy layout (a global target stays local after its exchange) on a random circuit.
// A plain MPI program, not Google Benchmark: every timing is collective (barrier, run, maximum of
// the per-rank wall times).
//   mpirun -np 4 build/bench/qweave_shard_bench [qubits=24] [circuit_gates=200] [reps=8] [circuit_trials=2]
// Sections:
//   copy        sv::copy of a slab-sized buffer on every rank at once: the bandwidth reference
//   local H     H on qubit 0: one read + one write of the slab, 2*16*2^(n-k) bytes per rank
//   global H    H on the logical qubit at a global physical bit (cycling through the global bits),
//               so every gate forces one exchange: 16*2^(n-k)/2 bytes sent and as many received
//   circuit     random 1- and 2-qubit gates on all qubits, lazy layout vs. canonicalize() after
//               every gate ("swap back every time")
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "host/gates.h"
#include "host/sharded_state.h"
#include "kernels/memory.h"
#include "kernels/statevec.h"
#include "mpi/runtime.h"

namespace {
using namespace qw;
using Clock = std::chrono::steady_clock;

// Collective wall time of f(): every rank starts together; the slowest rank's time.
template <class F>
double timed(F&& f) {
  mpi::barrier();
  const auto t0 = Clock::now();
  f();
  device_synchronize();
  return mpi::max_over_ranks(std::chrono::duration<double>(Clock::now() - t0).count());
}

struct Op {
  GateId gate;
  std::vector<double> args;
  std::vector<unsigned> qubits;
};

// The same circuit on every rank (fixed seed, no rank-dependent state).
std::vector<Op> random_circuit(unsigned n, unsigned gates, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto qubit = [&] { return static_cast<unsigned>(rng() % n); };
  auto angle = [&] { return std::uniform_real_distribution<double>(0, 2 * M_PI)(rng); };
  const GateId one[] = {GateId::H, GateId::SQRT_X, GateId::T, GateId::ROT_X, GateId::ROT_Y, GateId::ROT_Z};
  const GateId two[] = {GateId::CX, GateId::CZ, GateId::ROT_ZZ, GateId::ROT_XX, GateId::SWAP};
  std::vector<Op> ops;
  for (unsigned i = 0; i < gates; ++i) {
    Op op;
    if (rng() % 2 == 0) {
      op.gate = one[rng() % std::size(one)];
      op.qubits = {qubit()};
    } else {
      op.gate = two[rng() % std::size(two)];
      const unsigned a = qubit();
      unsigned b = qubit();
      while (b == a) b = qubit();
      op.qubits = {a, b};
    }
    const GateId g = op.gate;
    if (g == GateId::ROT_X || g == GateId::ROT_Y || g == GateId::ROT_Z || g == GateId::ROT_ZZ ||
        g == GateId::ROT_XX) {
      op.args = {angle()};
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

struct CircuitResult {
  double seconds;
  std::uint64_t exchanges;
  double p1_check;  // sum over q of (q + 1) P(q = 1): both modes must agree
};

CircuitResult run_circuit(unsigned n, const std::vector<Op>& ops, bool lazy) {
  ShardedStateVector s(n);
  const std::uint64_t e0 = s.exchanges();
  const double t = timed([&] {
    for (const Op& op : ops) {
      s.apply_gate(op.gate, op.args, op.qubits);
      if (!lazy) s.canonicalize();
    }
  });
  CircuitResult r{t, s.exchanges() - e0, 0};
  for (unsigned q = 0; q < n; ++q) r.p1_check += (q + 1) * s.probability_one(q);
  return r;
}
}  // namespace

int main(int argc, char** argv) {
  mpi::init(&argc, &argv);
  const unsigned n = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 24;
  const unsigned circuit_gates = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 200;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 8;
  const int trials = std::max(1, argc > 4 ? std::atoi(argv[4]) : 2);
  const bool root = mpi::rank() == 0;
  const int ranks = mpi::size();

  double copy_s = 0, local_s = 0, global_s = 0, raw_s = 0, staged_s = 0, exch_bytes_per_gate = 0, exchanges_per_gate = 0;
  index_t slab = 0;
  unsigned k = 0;
  {
    ShardedStateVector s(n);
    slab = s.slab_size();
    k = s.global_bits();
    // (3) Copy reference, slab-sized, on every rank at once (they share the memory bus).
    {
      DeviceArray<cplx> a(slab), b(slab);
      sv::set_basis_state(a.data(), slab, 0);
      sv::set_basis_state(b.data(), slab, 1);
      sv::copy(b.data(), a.data(), slab);  // warm-up
      copy_s = timed([&] { for (int i = 0; i < reps; ++i) sv::copy(b.data(), a.data(), slab); }) / reps;
    }
    // (1) H on local qubit 0 (physical bit 0 while the layout is the identity).
    const unsigned q0[] = {0};
    s.apply_gate(GateId::H, {}, q0);  // warm-up
    local_s = timed([&] { for (int i = 0; i < reps; ++i) s.apply_gate(GateId::H, {}, q0); }) / reps;
    // (2) H on whichever logical qubit sits at a global physical bit, cycling through the global
    // bits: the target is global every time, so every gate is one exchange plus the local H.
    auto global_target = [&](int i) {
      const unsigned phys = n - k + static_cast<unsigned>(i) % k;
      return s.inverse_layout()[phys];
    };
    {
      const unsigned q[] = {global_target(0)};
      s.apply_gate(GateId::H, {}, q);  // warm-up (first-touch of the staging buffers' pages)
    }
    const std::uint64_t e0 = s.exchanges();
    global_s = timed([&] {
      for (int i = 0; i < reps; ++i) {
        const unsigned q[] = {global_target(i)};
        s.apply_gate(GateId::H, {}, q);
      }
    }) / reps;
    exchanges_per_gate = static_cast<double>(s.exchanges() - e0) / reps;
    exch_bytes_per_gate = exchanges_per_gate * static_cast<double>(slab / 2) * sizeof(cplx);
  }
  // (2b) The transport alone: mpi::exchange_with of half a slab with the partner (rank ^ 1), into
  // preallocated buffers; and (2c) the same with the three staging buffers swap_global_local
  // allocates per exchange (device chunk + host send/recv vectors, each half a slab up to 2^24
  // elements) allocated, first touched and freed around it.
  const index_t half = slab / 2;
  const int partner = mpi::rank() ^ 1;
  {
    std::vector<cplx> send(half), recv(half);
    mpi::exchange_with(partner, send.data(), recv.data(), half * sizeof(cplx));  // warm-up
    raw_s = timed([&] {
      for (int i = 0; i < reps; ++i) mpi::exchange_with(partner, send.data(), recv.data(), half * sizeof(cplx));
    }) / reps;
  }
  staged_s = timed([&] {
    for (int i = 0; i < reps; ++i) {
      const index_t chunk = std::min<index_t>(half, index_t{1} << 24);
      DeviceArray<cplx> dbuf(chunk);
      std::vector<cplx> send(chunk), recv(chunk);
      for (index_t first = 0; first < half; first += chunk) {
        sv::copy(dbuf.data(), send.data(), chunk);  // stands in for pack + copy_to_host
        mpi::exchange_with(partner, send.data(), recv.data(), chunk * sizeof(cplx));
      }
    }
  }) / reps;

  // (4) Random circuit, lazy vs. swap back after every gate.
  const std::vector<Op> ops = random_circuit(n, circuit_gates, 12345);
  // Interleaved trials (lazy, eager, lazy, ...), the fastest of each: the machine may be shared.
  CircuitResult lazy = run_circuit(n, ops, true), eager = run_circuit(n, ops, false);
  for (int t = 1; t < trials; ++t) {
    const CircuitResult l = run_circuit(n, ops, true), e = run_circuit(n, ops, false);
    lazy.seconds = std::min(lazy.seconds, l.seconds);
    eager.seconds = std::min(eager.seconds, e.seconds);
  }

  if (root) {
    const double pass = 2.0 * sizeof(cplx) * static_cast<double>(slab);  // bytes per rank per pass
    const double gib = 1024.0 * 1024 * 1024;
    std::printf("qweave_shard_bench: n=%u qubits, %d ranks (k=%u global bits), slab 2^%u amplitudes = %.0f MiB/rank, "
                "%s precision, reps=%d\n",
                n, ranks, k, n - k, static_cast<double>(slab) * sizeof(cplx) / (1 << 20),
                sizeof(real) == 8 ? "double" : "single", reps);
    std::printf("%-28s %12s %14s %14s %10s\n", "measurement", "ms/op", "GB/s per rank", "GB/s all ranks", "copy_frac");
    auto row = [&](const char* name, double s, double bytes) {
      const double bw = bytes / s / 1e9;
      std::printf("%-28s %12.2f %14.2f %14.2f %10.2f\n", name, s * 1e3, bw, bw * ranks, s > 0 ? copy_s / s * bytes / pass : 0);
    };
    row("copy (slab, reference)", copy_s, pass);
    row("H local (qubit 0)", local_s, pass);
    row("H global (exchange + H)", global_s, pass);
    std::printf("global/local time ratio: %.2f   exchanges per global gate: %.2f   bytes exchanged per global "
                "gate per rank: %.1f MiB sent + %.1f MiB received\n",
                global_s / local_s, exchanges_per_gate, exch_bytes_per_gate / (1 << 20), exch_bytes_per_gate / (1 << 20));
    std::printf("exchange only (global - local): %.2f ms/gate, %.2f GB/s per rank moved each way\n",
                (global_s - local_s) * 1e3, exch_bytes_per_gate / std::max(global_s - local_s, 1e-12) / 1e9);
    std::printf("transport only: exchange_with of half a slab, preallocated: %.2f ms (%.2f GB/s per rank each way); "
                "with per-exchange staging allocations + one copy: %.2f ms\n",
                raw_s * 1e3, exch_bytes_per_gate / exchanges_per_gate / raw_s / 1e9, staged_s * 1e3);
    std::printf("random circuit (%u gates, 1q: H SQRT_X T RX RY RZ, 2q: CX CZ RZZ RXX SWAP; fastest of %d interleaved trials):\n",
                circuit_gates, trials);
    std::printf("  %-24s %10s %12s %14s %16s\n", "mode", "time s", "exchanges", "GiB sent/rank", "sum (q+1)P_q(1)");
    auto crow = [&](const char* name, const CircuitResult& r) {
      std::printf("  %-24s %10.3f %12llu %14.2f %16.12f\n", name, r.seconds, static_cast<unsigned long long>(r.exchanges),
                  static_cast<double>(r.exchanges) * static_cast<double>(slab / 2) * sizeof(cplx) / gib, r.p1_check);
    };
    crow("lazy layout", lazy);
    crow("canonicalize every gate", eager);
    std::printf("  exchange reduction: %.2fx, time reduction: %.2fx, |check difference| = %.1e\n",
                lazy.exchanges ? static_cast<double>(eager.exchanges) / static_cast<double>(lazy.exchanges) : 0.0,
                eager.seconds / lazy.seconds, std::abs(lazy.p1_check - eager.p1_check));
  }
  mpi::finalize();
  return 0;
}
