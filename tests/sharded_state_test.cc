// The sharded state vector (host/sharded_state.h) against a single-rank StateVector. The multi-rank
// runs re-launch this binary under mpirun (suite ShardedWorker, skipped unless
// QWEAVE_SHARDED_WORKER is set); the worker prints "SHARDED PASS/FAIL ..." lines that the outer
// tests parse.
#include <gtest/gtest.h>
#include <unistd.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "host/dense_engine.h"
#include "host/errors.h"
#include "host/gates.h"
#include "host/sharded_state.h"
#include "kernels/statevec.h"
#include "mpi/runtime.h"
#include "tests/tolerance.h"

namespace {
using qw::cplx;
using qw::GateId;
using qw::index_t;
using qw::testing::tol;

constexpr const char* kWorkerEnv = "QWEAVE_SHARDED_WORKER";

struct Report {
  std::vector<std::string> lines;
  int fails = 0;
  void check(bool ok, const std::string& what) {
    lines.push_back(std::string(ok ? "SHARDED PASS " : "SHARDED FAIL ") + what);
    if (!ok) ++fails;
  }
};

// The unitary gates the sharded state takes (a fixed number of arguments).
std::vector<const qw::GateInfo*> unitary_gates() {
  std::vector<const qw::GateInfo*> out;
  for (const qw::GateInfo& g : qw::all_gates()) {
    if (g.kind != qw::GateKind::Unitary || g.group == 0 || g.max_args < 0) continue;
    if (g.id == GateId::SPP || g.id == GateId::SPP_DAG) continue;
    out.push_back(&g);
  }
  return out;
}

double max_diff(const std::vector<cplx>& a, const std::vector<cplx>& b) {
  if (a.size() != b.size()) return 1e300;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    m = std::max(m, std::hypot(static_cast<double>(a[i].re - b[i].re), static_cast<double>(a[i].im - b[i].im)));
  }
  return m;
}

std::string sci(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2e", x);
  return b;
}

double host_probability_one(const std::vector<cplx>& v, unsigned q) {
  double p = 0;
  for (index_t i = 0; i < v.size(); ++i) if ((i >> q) & 1) p += static_cast<double>(qw::norm2(v[i]));
  return p;
}

// Every rank's value bit-identical?
bool same_on_every_rank(double x) {
  for (double y : qw::mpi::allgather(x)) if (std::memcmp(&x, &y, sizeof x) != 0) return false;
  return true;
}

// Random circuit (same on every rank: same seed), applied to both states; with measurements.
void random_circuit(unsigned n, std::uint64_t seed, int gates, bool measure, Report& rep) {
  const auto kinds = unitary_gates();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> angle(-M_PI, M_PI), unit(0, 1);
  qw::ShardedStateVector sh(n);
  qw::StateVector ref(n);
  bool probs_ok = true, probs_same = true;
  const std::string tag = "n=" + std::to_string(n) + " seed=" + std::to_string(seed) +
                          " ranks=" + std::to_string(qw::mpi::size());
  for (int g = 0; g < gates; ++g) {
    const qw::GateInfo& info = *kinds[rng() % kinds.size()];
    if (info.group > n) continue;
    std::vector<double> args(static_cast<std::size_t>(info.max_args));
    for (double& a : args) a = angle(rng);
    std::vector<unsigned> qs;
    while (qs.size() < info.group) {
      // Half of the picks among the top 3 qubits: the global ones on up to 8 ranks.
      const unsigned q = (rng() & 1) ? n - 1 - static_cast<unsigned>(rng() % 3) : static_cast<unsigned>(rng() % n);
      if (std::find(qs.begin(), qs.end(), q) == qs.end()) qs.push_back(q);
    }
    sh.apply_gate(info.id, args, qs);
    const std::vector<std::uint32_t> q32(qs.begin(), qs.end());
    ref.apply_gate(info.id, args, q32);
    if (measure && g % 37 == 36) {
      const unsigned q = (rng() & 1) ? n - 1 : static_cast<unsigned>(rng() % n);
      const double u = unit(rng);
      std::vector<cplx> v = ref.to_host();
      const double p1 = host_probability_one(v, q);
      const double sp = sh.probability_one(q);
      probs_ok = probs_ok && std::abs(sp - p1) < tol(1e-12);
      probs_same = probs_same && same_on_every_rank(sp);
      const int out = sh.measure(q, u);
      // The reference collapse with the sharded decision (u near p1 could round either way).
      const double p = out ? p1 : 1 - p1;
      for (index_t i = 0; i < v.size(); ++i) {
        if (static_cast<int>((i >> q) & 1) != out) v[i] = {0, 0};
        else v[i] = {static_cast<qw::real>(v[i].re / std::sqrt(p)), static_cast<qw::real>(v[i].im / std::sqrt(p))};
      }
      ref.from_host(v);
      probs_ok = probs_ok && (out == (u < p1 ? 1 : 0) || std::abs(u - p1) < tol(1e-12));
    }
  }
  const std::vector<cplx> got = sh.gather_state();
  if (qw::mpi::rank() == 0) {
    const double d = max_diff(got, ref.to_host());
    // The collapses round differently (the sharded state multiplies by 1/sqrt(p) rounded to real, the
    // reference divides in double): after a few of them float amplitudes differ by ~1e-7, double
    // ones stay far below 1e-12. Gates alone agree bit for bit in either precision.
    rep.check(d <= tol(1e-12), "amplitudes " + tag + " max diff " + sci(d) +
                              " exchanges " + std::to_string(sh.exchanges()));
  }
  if (measure) {
    rep.check(probs_ok, "probabilities " + tag);
    rep.check(probs_same, "probabilities bit-identical on every rank " + tag);
  }
}

// Diagonal gates and controls on global qubits: no exchange.
void diagonal_gates_are_free(unsigned n, Report& rep) {
  qw::ShardedStateVector sh(n);
  qw::StateVector ref(n);
  for (unsigned q = 0; q < n; ++q) {
    const unsigned qq[1] = {q};
    const std::uint32_t q32[1] = {q};
    sh.apply_gate(GateId::H, {}, qq);
    ref.apply_gate(GateId::H, {}, q32);
  }
  const std::uint64_t before = sh.exchanges();
  const double th[1] = {0.37};
  struct G { GateId id; std::vector<unsigned> q; bool arg; };
  // The qubits that the H layer left on the top physical bits (global on 2^k ranks, k <= 3) and
  // three on local bits.
  const auto inv = sh.inverse_layout();
  const unsigned t = inv[n - 1], u = inv[n - 2], v = inv[n - 3], a = inv[0], b = inv[1], c = inv[2];
  const std::vector<G> gs = {{GateId::Z, {t}, false},       {GateId::S, {u}, false},
                             {GateId::T, {t}, false},       {GateId::ROT_Z, {u}, true},
                             {GateId::PHASE, {t}, true},    {GateId::CZ, {t, u}, false},
                             {GateId::CZ, {a, t}, false},   {GateId::CPHASE, {t, b}, true},
                             {GateId::CCZ, {t, u, v}, false}, {GateId::ROT_ZZ, {u, c}, true},
                             {GateId::ROT_ZZ, {t, u}, true}, {GateId::SQRT_ZZ, {t, v}, false},
                             {GateId::CX, {t, a}, false},   {GateId::CCX, {u, t, b}, false},
                             {GateId::SWAP, {t, a}, false},  {GateId::CZ, {a, c}, false}};
  for (const G& g : gs) {
    const std::vector<std::uint32_t> q32(g.q.begin(), g.q.end());
    sh.apply_gate(g.id, g.arg ? std::span<const double>(th) : std::span<const double>(), g.q);
    ref.apply_gate(g.id, g.arg ? std::span<const double>(th) : std::span<const double>(), q32);
  }
  const std::uint64_t extra = sh.exchanges() - before;
  const std::vector<cplx> got = sh.gather_state();
  const std::string tag = "n=" + std::to_string(n) + " ranks=" + std::to_string(qw::mpi::size());
  if (qw::mpi::rank() == 0) {
    const double d = max_diff(got, ref.to_host());
    rep.check(d <= 1e-12, "diagonal gates " + tag + " max diff " + sci(d));
  }
  rep.check(extra == 0, "diagonal gates and global controls without exchange " + tag + " (" +
                            std::to_string(extra) + " exchanges)");
}

void sampling(unsigned n, Report& rep) {
  // A random circuit, then samples against sv::sample_indices on the single-rank state.
  const auto kinds = unitary_gates();
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> angle(-M_PI, M_PI);
  qw::ShardedStateVector sh(n);
  qw::StateVector ref(n);
  for (int g = 0; g < 150; ++g) {
    const qw::GateInfo& info = *kinds[rng() % kinds.size()];
    std::vector<double> args(static_cast<std::size_t>(info.max_args));
    for (double& a : args) a = angle(rng);
    std::vector<unsigned> qs;
    while (qs.size() < info.group) {
      const unsigned q = static_cast<unsigned>(rng() % n);
      if (std::find(qs.begin(), qs.end(), q) == qs.end()) qs.push_back(q);
    }
    sh.apply_gate(info.id, args, qs);
    ref.apply_gate(info.id, args, std::vector<std::uint32_t>(qs.begin(), qs.end()));
  }
  const std::uint64_t shots = 20000;
  const std::vector<index_t> got = sh.sample(12345, 1000, shots);
  std::vector<index_t> want(shots);
  qw::sv::sample_indices(ref.data(), ref.size(), 12345, 1000, shots, want.data());
  std::uint64_t same = 0, h = 1469598103934665603ull;
  for (std::uint64_t s = 0; s < shots; ++s) {
    same += got[s] == want[s];
    h = (h ^ got[s]) * 1099511628211ull;
  }
  std::vector<std::uint64_t> hashes(static_cast<std::size_t>(qw::mpi::size()), 0);
  hashes[static_cast<std::size_t>(qw::mpi::rank())] = h;
  qw::mpi::allreduce_sum(hashes.data(), hashes.size());
  bool all_same = true;
  for (std::uint64_t x : hashes) all_same = all_same && x == h;
  const std::string tag = "n=" + std::to_string(n) + " ranks=" + std::to_string(qw::mpi::size());
  rep.check(same >= shots * 999 / 1000, "samples equal to single-rank sampling " + tag + ": " +
                                            std::to_string(same) + "/" + std::to_string(shots));
  rep.check(all_same, "samples identical on every rank " + tag);
  // After canonicalising, the state is unchanged.
  const std::vector<cplx> st = sh.gather_state();
  if (qw::mpi::rank() == 0) rep.check(max_diff(st, ref.to_host()) <= 1e-12, "state after sample " + tag);
}

void constructor_errors(Report& rep) {
  const int size = qw::mpi::size();
  const bool pow2 = (size & (size - 1)) == 0;
  const unsigned k = pow2 ? static_cast<unsigned>(std::countr_zero(static_cast<unsigned>(size))) : 0;
  const unsigned n_bad = pow2 ? k + 1 : 12;
  std::string msg;
  try {
    qw::ShardedStateVector s(n_bad);
  } catch (const qw::InputError& e) {
    msg = e.what();
  }
  const std::string want = pow2 ? std::to_string(size) + " ranks need at least " + std::to_string(k + 2) + " qubits"
                                : std::to_string(size) + " ranks: the rank count must be a power of two";
  rep.check(msg.find(want) != std::string::npos, "constructor error '" + msg + "'");
}

Report run_all() {
  Report rep;
  constructor_errors(rep);
  const int size = qw::mpi::size();
  if ((size & (size - 1)) != 0) return rep;
  for (std::uint64_t seed : {1, 2}) random_circuit(10, seed, 300, seed != 1, rep);
  qw::ShardedStateVector::set_exchange_chunk(7);  // many chunks, the last one short
  random_circuit(10, 3, 300, true, rep);
  qw::ShardedStateVector::set_exchange_chunk(index_t{1} << 24);
  random_circuit(12, 4, 300, true, rep);
  diagonal_gates_are_free(10, rep);
  sampling(10, rep);
  return rep;
}

TEST(ShardedWorker, All) {
  if (!std::getenv(kWorkerEnv)) GTEST_SKIP() << "runs under mpirun from ShardedState.* tests";
  qw::mpi::init(nullptr, nullptr);
  Report rep = run_all();
  for (const auto& l : rep.lines) std::printf("[rank %d] %s\n", qw::mpi::rank(), l.c_str());
  std::printf("[rank %d] SHARDED DONE\n", qw::mpi::rank());
  std::fflush(stdout);
  qw::mpi::finalize();
  EXPECT_EQ(rep.fails, 0);
}

// One rank in this process (no MPI): everything local, same checks.
TEST(ShardedState, SingleRankInProcess) {
  if (qw::mpi::size() != 1) GTEST_SKIP();
  Report rep = run_all();
  for (const auto& l : rep.lines) EXPECT_EQ(l.rfind("SHARDED PASS", 0), 0u) << l;
  EXPECT_GE(rep.lines.size(), 10u);
}

#if defined(QWEAVE_HAVE_MPI) && defined(QWEAVE_MPIEXEC)
std::string self_path() {
  std::array<char, 4096> buf{};
  const ssize_t k = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  return k > 0 ? std::string(buf.data(), static_cast<std::size_t>(k)) : ::testing::internal::GetArgvs()[0];
}

int run_workers(int np, std::string* text) {
  const std::string cmd = std::string(kWorkerEnv) + "=1 " + QWEAVE_MPIEXEC +
                          (geteuid() == 0 ? " --allow-run-as-root" : "") + " --oversubscribe -np " +
                          std::to_string(np) + " " + self_path() + " --gtest_filter=ShardedWorker.* 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  while (std::size_t k = fread(buf.data(), 1, buf.size(), p)) text->append(buf.data(), k);
  const int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int count(const std::string& text, const std::string& what) {
  int c = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++c;
  return c;
}

TEST(ShardedState, MatchesSingleRankUnderMpirun) {
  for (int np : {1, 2, 4, 8}) {
    std::string text;
    const int st = run_workers(np, &text);
    EXPECT_EQ(st, 0) << "np=" << np << "\n" << text;
    EXPECT_EQ(count(text, "SHARDED DONE"), np) << text;
    EXPECT_EQ(count(text, "SHARDED FAIL"), 0) << "np=" << np << "\n" << text;
    // Rank 0: 1 + 4 amplitudes + 6 probabilities + 2 diagonal + 3 sampling; others fewer.
    EXPECT_GE(count(text, "[rank 0] SHARDED PASS"), 16) << text;
  }
}

TEST(ShardedState, NonPowerOfTwoRanksIsAnError) {
  std::string text;
  const int st = run_workers(3, &text);
  EXPECT_EQ(st, 0) << text;
  EXPECT_EQ(count(text, "SHARDED PASS constructor error '3 ranks: the rank count must be a power of two'"), 3) << text;
}
#else
TEST(ShardedState, MatchesSingleRankUnderMpirun) { GTEST_SKIP() << "built without MPI (QWEAVE_MPIEXEC)"; }
#endif

}  // namespace
