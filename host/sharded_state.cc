#include "host/sharded_state.h"

#include <stdexcept>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fmt/format.h>

#include "host/errors.h"
#include "kernels/batch.h"
#include "kernels/exchange.h"
#include "kernels/rng.h"
#include "kernels/statevec.h"
#include "mpi/runtime.h"

namespace qw {
namespace {
// Elements per message and per staging buffer in an exchange: bounds the extra memory
// (2 x 256 MiB of complex double on the host, 256 MiB on the device) and keeps every message far
// below 2^31 elements (mpi::exchange_with splits further into pieces below 2^31 bytes).
constexpr index_t kMaxExchangeChunk = index_t{1} << 24;
index_t g_exchange_chunk = kMaxExchangeChunk;

bool contains(std::span<const unsigned> s, unsigned x) {
  return std::find(s.begin(), s.end(), x) != s.end();
}
}  // namespace

ShardedStateVector::ShardedStateVector(std::uint32_t num_qubits)
    : n_(num_qubits), k_(0), rank_(mpi::rank()) {
  const int size = mpi::size();
  if (size < 1 || !std::has_single_bit(static_cast<unsigned>(size))) {
    throw InputError(fmt::format("{} ranks: the rank count must be a power of two", size));
  }
  k_ = static_cast<unsigned>(std::countr_zero(static_cast<unsigned>(size)));
  if (k_ + 2 > n_) {
    throw InputError(fmt::format("{} ranks need at least {} qubits (the state has {})", size, k_ + 2, n_));
  }
  perm_.resize(n_);
  inv_.resize(n_);
  for (unsigned q = 0; q < n_; ++q) perm_[q] = inv_[q] = q;
  last_use_.assign(n_ - k_, 0);
  slab_ = DeviceArray<cplx>(slab_size());
  sv::set_basis_state(slab_.data(), slab_size(), 0);
  if (rank_ != 0) shard::scale_where(slab_.data(), slab_size(), cplx{0, 0}, 0, 0);
}

void ShardedStateVector::set_exchange_chunk(index_t elements) {
  g_exchange_chunk = std::clamp<index_t>(elements, 1, kMaxExchangeChunk);
}

unsigned ShardedStateVector::global_value(unsigned phys) const {
  return static_cast<unsigned>(rank_ >> (phys - (n_ - k_))) & 1u;
}

// Swapping physical bits l (local) and g (global, rank bit j = g - (n - k)) maps the amplitude at
// full index x to the index x' with bits l and g exchanged: new(x) = old(x'). On a rank whose bit
// g is v, for a local index i:
//  * bit l of i == v: x' == x (both bits equal v), the amplitude stays where it is;
//  * bit l of i == 1 - v: x' has bit g = 1 - v (the partner rank, rank ^ 2^j) and bit l = v, so
//    new(i) = partner's old amplitude at i ^ 2^l, whose bit l is v = 1 - v_partner.
// So each rank sends its amplitudes whose bit l is 1 - v (its own value) and receives the
// partner's into the same positions; both enumerate their half in index order of the other bits,
// so element h of my half pairs with element h of the partner's (same other bits). Checked
// by the tests against a single-rank state for every rank count.
void ShardedStateVector::swap_global_local(unsigned l, unsigned g) {
  const unsigned j = g - (n_ - k_);
  const int partner = rank_ ^ (1 << j);
  const unsigned value = 1u - global_value(g);
  const index_t n = slab_size(), half = n / 2, chunk = std::min(half, g_exchange_chunk);
  if (send_dev_.size() < chunk) {
    send_dev_ = DeviceArray<cplx>(chunk);
    recv_dev_ = DeviceArray<cplx>(chunk);
  }
  for (index_t first = 0; first < half; first += chunk) {
    const index_t cnt = std::min(chunk, half - first);
    shard::pack_half(slab_.data(), n, l, value, first, cnt, send_dev_.data());
#if defined(QWEAVE_BACKEND_CUDA)
    // Staged through host memory (CUDA-aware MPI would send device buffers directly).
    if (send_host_.size() < chunk) {
      send_host_.resize(chunk);
      recv_host_.resize(chunk);
    }
    copy_to_host(send_host_.data(), send_dev_.data(), cnt * sizeof(cplx));
    mpi::exchange_with(partner, send_host_.data(), recv_host_.data(), cnt * sizeof(cplx));
    copy_to_device(recv_dev_.data(), recv_host_.data(), cnt * sizeof(cplx));
#else
    // cpu backend: device memory is host memory, sent as it is.
    mpi::exchange_with(partner, send_dev_.data(), recv_dev_.data(), cnt * sizeof(cplx));
#endif
    shard::unpack_half(slab_.data(), n, l, value, first, cnt, recv_dev_.data());
  }
  const unsigned ql = inv_[l], qg = inv_[g];
  perm_[ql] = g;
  perm_[qg] = l;
  inv_[l] = qg;
  inv_[g] = ql;
  ++exchanges_;
}

void ShardedStateVector::make_local(std::span<const unsigned> logical_qubits) {
  make_local(logical_qubits, logical_qubits);
}

void ShardedStateVector::make_local(std::span<const unsigned> need, std::span<const unsigned> keep) {
  for (unsigned q : need) {
    if (q >= n_) throw InputError(fmt::format("qubit {} of a {}-qubit state", q, n_));
    if (!is_global(perm_[q])) continue;
    // The least recently used local bit not holding a needed qubit, preferring one whose qubit
    // is not in `keep` either (never fails: n - k >= 2 local bits, at most 2 targets).
    int best = -1;
    bool best_kept = true;
    for (unsigned l = 0; l < n_ - k_; ++l) {
      if (contains(need, inv_[l])) continue;
      const bool kept = contains(keep, inv_[l]);
      if (best < 0 || (best_kept && !kept) ||
          (kept == best_kept && last_use_[l] < last_use_[static_cast<unsigned>(best)])) {
        best = static_cast<int>(l);
        best_kept = kept;
      }
    }
    if (best < 0) throw InputError(fmt::format("too many qubits to make local on {} local bits", n_ - k_));
    swap_global_local(static_cast<unsigned>(best), perm_[q]);
    last_use_[static_cast<unsigned>(best)] = ++tick_;
  }
}

void ShardedStateVector::canonicalize() {
  for (unsigned j = 0; j < k_; ++j) {
    const unsigned g = n_ - k_ + j;  // holds logical qubit g when canonical
    if (perm_[g] == g) continue;
    if (is_global(perm_[g])) {
      // Global to global: through a local bit (the least recently used one).
      unsigned l = 0;
      for (unsigned b = 1; b < n_ - k_; ++b) if (last_use_[b] < last_use_[l]) l = b;
      swap_global_local(l, perm_[g]);
    }
    swap_global_local(perm_[g], g);
  }
  for (unsigned p = 0; p < n_ - k_; ++p) {
    if (inv_[p] == p) continue;
    const unsigned pp = perm_[p];  // local: every global bit holds its own qubit now
    sv::apply_swap(slab_.data(), slab_size(), p, pp);
    const unsigned a = inv_[p];
    perm_[a] = pp;
    inv_[pp] = a;
    perm_[p] = p;
    inv_[p] = p;
  }
}

void ShardedStateVector::apply_gate(GateId gate, std::span<const double> args,
                                    std::span<const unsigned> qubits) {
  apply_gate(gate, args, qubits, false);
}

void ShardedStateVector::apply_gate(GateId gate, std::span<const double> args,
                                    std::span<const unsigned> qubits, bool conjugate) {
  using F = GateAction::Form;
  const GateInfo& info = gate_info(gate);
  if (info.kind != GateKind::Unitary || info.group == 0 || qubits.size() != info.group) {
    throw InputError(fmt::format("{}: not a unitary gate on {} qubits", info.name, qubits.size()));
  }
  for (unsigned q : qubits) {
    if (q >= n_) throw InputError(fmt::format("{}: qubit {} of a {}-qubit state", info.name, q, n_));
  }
  GateAction a = gate_action(gate, args);
  if (conjugate) {  // every path below (global diagonals included) reads the conjugated entries
    for (auto& d : a.diag) d = conj(d);
    for (auto& e : a.m2.m) e = conj(e);
    for (auto& e : a.m4.m) e = conj(e);
  }
  const unsigned c = a.controls;
  if (a.form == F::Identity) return;
  if (a.form == F::Swap && c == 0) {  // relabel: no data moves
    const unsigned p0 = perm_[qubits[0]], p1 = perm_[qubits[1]];
    perm_[qubits[0]] = p1;
    perm_[qubits[1]] = p0;
    inv_[p1] = qubits[0];
    inv_[p0] = qubits[1];
    return;
  }
  // Diagonal gates act on global targets by a factor per rank; others need their targets local.
  const bool diagonal = a.form == F::Diagonal1 || a.form == F::Diagonal2 ||
                        (a.form == F::Pauli && a.pauli[0] == 3);
  if (!diagonal) make_local(qubits.subspan(c), qubits);
  for (unsigned q : qubits) {
    if (!is_global(perm_[q])) last_use_[perm_[q]] = ++tick_;
  }
  // Controls: a global control at 0 makes the gate the identity on this rank; at 1 it drops out.
  // (Every collective step is done by now, so ranks may part ways.)
  index_t cm = 0;
  for (unsigned j = 0; j < c; ++j) {
    const unsigned p = perm_[qubits[j]];
    if (is_global(p)) {
      if (global_value(p) == 0) return;
    } else {
      cm |= index_t{1} << p;
    }
  }
  const unsigned t0 = perm_[qubits[c]];
  const unsigned t1 = qubits.size() > c + 1 ? perm_[qubits[c + 1]] : 0;
  cplx* s = slab_.data();
  const index_t n = slab_size();
  switch (a.form) {
    case F::Identity: return;
    case F::Pauli: {
      const std::uint8_t pc = a.pauli[0];
      if (is_global(t0)) {  // Z only (diagonal)
        if (global_value(t0) == 1) shard::scale_where(s, n, cplx{-1, 0}, cm, cm);
        return;
      }
      const index_t b = index_t{1} << t0;
      const index_t x = (pc == 1 || pc == 2) ? b : 0, z = (pc == 2 || pc == 3) ? b : 0;
      // Y = i X Z; Y* = -i X Z.
      sv::apply_pauli(s, n, x, z, pc == 2 ? (conjugate ? 3u : 1u) : 0u, cm, cm);
      return;
    }
    case F::Diagonal1:
      if (is_global(t0)) {
        shard::scale_where(s, n, to_cplx(a.diag[global_value(t0)]), cm, cm);
      } else {
        sv::apply_1q_diagonal(s, n, t0, to_cplx(a.diag[0]), to_cplx(a.diag[1]), cm, cm);
      }
      return;
    case F::Diagonal2: {
      // diag index: bit 0 = first target, bit 1 = second.
      const bool g0 = is_global(t0), g1 = is_global(t1);
      if (g0 && g1) {
        shard::scale_where(s, n, to_cplx(a.diag[global_value(t0) | global_value(t1) << 1]), cm, cm);
      } else if (g0) {
        const unsigned v = global_value(t0);
        sv::apply_1q_diagonal(s, n, t1, to_cplx(a.diag[v]), to_cplx(a.diag[v | 2]), cm, cm);
      } else if (g1) {
        const unsigned v = global_value(t1) << 1;
        sv::apply_1q_diagonal(s, n, t0, to_cplx(a.diag[v]), to_cplx(a.diag[v | 1]), cm, cm);
      } else {
        const cplx d[4] = {to_cplx(a.diag[0]), to_cplx(a.diag[1]), to_cplx(a.diag[2]), to_cplx(a.diag[3])};
        sv::apply_2q_diagonal(s, n, t0, t1, d, cm, cm);
      }
      return;
    }
    case F::Matrix1: sv::apply_1q(s, n, t0, to_kernel(a.m2), cm, cm); return;
    case F::Matrix2: sv::apply_2q(s, n, t0, t1, to_kernel(a.m4), cm, cm); return;
    case F::Swap: sv::apply_swap(s, n, t0, t1, cm, cm); return;
  }
}

void ShardedStateVector::apply_matrix(unsigned k, std::span<const unsigned> logical_bits,
                                      const std::vector<cplx>& m) {
  if (k == 0 || k > 4 || logical_bits.size() != k || m.size() != (std::size_t{1} << (2 * k))) {
    throw std::invalid_argument("apply_matrix: a 2^k x 2^k matrix on k <= 4 bits");
  }
  for (unsigned q : logical_bits) {
    if (q >= n_) throw InputError(fmt::format("bit {} of a {}-bit state", q, n_));
  }
  if (k > n_ - k_) {
    throw InputError(fmt::format("a {}-bit matrix needs {} local bits ({} here)", k, k, n_ - k_));
  }
  make_local(logical_bits, logical_bits);
  unsigned phys[4];
  for (unsigned j = 0; j < k; ++j) {
    phys[j] = perm_[logical_bits[j]];
    last_use_[phys[j]] = ++tick_;
  }
  DeviceArray<cplx> dm(m.size());
  copy_to_device(dm.data(), m.data(), m.size() * sizeof(cplx));
  batch::apply_dense(slab_.data(), 1, slab_size(), k, phys, dm.data(), nullptr);
}

void ShardedStateVector::project(unsigned logical_bit, unsigned value, real s) {
  if (logical_bit >= n_) throw InputError(fmt::format("bit {} of a {}-bit state", logical_bit, n_));
  const unsigned ph = perm_[logical_bit];
  if (!is_global(ph)) {
    const index_t b = index_t{1} << ph;
    shard::collapse_where(slab_.data(), slab_size(), b, value ? b : 0, s);
  } else {
    shard::collapse_where(slab_.data(), slab_size(), 0, global_value(ph) == value ? 0 : 1, s);
  }
}

namespace {
shard::DiagonalLayout diagonal_layout(std::span<const unsigned> perm, unsigned local_bits, int rank) {
  shard::DiagonalLayout l;
  l.n = static_cast<unsigned>(perm.size() / 2);
  l.local_bits = local_bits;
  l.rank = static_cast<std::uint64_t>(rank);
  for (std::size_t j = 0; j < perm.size(); ++j) l.phys[j] = static_cast<std::uint8_t>(perm[j]);
  return l;
}
}  // namespace

double ShardedStateVector::diagonal_sum(index_t mask, index_t value) const {
  if (n_ % 2 != 0) throw std::invalid_argument("diagonal_sum: not a density matrix");
  const double mine = shard::diagonal_sum(slab_.data(), diagonal_layout(perm_, n_ - k_, rank_), mask, value);
  double total = 0;
  for (double x : mpi::allgather(mine)) total += x;  // rank order: the same bits on every rank
  return total;
}

std::vector<double> ShardedStateVector::diagonal() const {
  if (n_ % 2 != 0) throw std::invalid_argument("diagonal: not a density matrix");
  const index_t dim = index_t{1} << (n_ / 2);
  DeviceArray<double> d(dim);
  shard::diagonal_values(slab_.data(), diagonal_layout(perm_, n_ - k_, rank_), d.data());
  std::vector<double> host(dim);
  copy_to_host(host.data(), d.data(), dim * sizeof(double));
  // Each entry lives on exactly one rank and is +0.0 (all bits zero) elsewhere, so the integer sum
  // of the bit patterns over the ranks is the owner's value, bit for bit.
  std::vector<std::uint64_t> bits(dim);
  std::memcpy(bits.data(), host.data(), dim * sizeof(double));
  mpi::allreduce_sum(bits.data(), bits.size());
  std::memcpy(host.data(), bits.data(), dim * sizeof(double));
  return host;
}

double ShardedStateVector::probability_one(unsigned logical_qubit) {
  if (logical_qubit >= n_) throw InputError(fmt::format("qubit {} of a {}-qubit state", logical_qubit, n_));
  const unsigned p = perm_[logical_qubit];
  double mine = 0;
  if (!is_global(p)) {
    const index_t b = index_t{1} << p;
    mine = shard::norm_where(slab_.data(), slab_size(), b, b);
  } else if (global_value(p) == 1) {
    mine = sv::norm_squared(slab_.data(), slab_size());
  }
  double total = 0;
  for (double x : mpi::allgather(mine)) total += x;  // rank order: the same bits on every rank
  return total;
}

int ShardedStateVector::measure(unsigned logical_qubit, double u) {
  const double p1 = probability_one(logical_qubit);
  const int outcome = u < p1 ? 1 : 0;
  const double p = outcome ? p1 : 1 - p1;
  const real s = static_cast<real>(p > 0 ? 1 / std::sqrt(p) : 0);
  const unsigned ph = perm_[logical_qubit];
  if (!is_global(ph)) {
    const index_t b = index_t{1} << ph;
    shard::collapse_where(slab_.data(), slab_size(), b, outcome ? b : 0, s);
  } else {
    // mask 0: value 0 keeps every amplitude, value 1 none.
    shard::collapse_where(slab_.data(), slab_size(), 0, global_value(ph) == static_cast<unsigned>(outcome) ? 0 : 1, s);
  }
  return outcome;
}

std::vector<cplx> ShardedStateVector::gather_state() const {
  const index_t n = slab_size();
  std::vector<std::uint8_t> mine(n * sizeof(cplx));
  copy_to_host(mine.data(), slab_.data(), mine.size());
  const std::vector<std::uint8_t> all = mpi::gather_to_root(mine);
  if (rank_ != 0) return {};
  // Rank r's slab is physical indices [r 2^(n-k), (r+1) 2^(n-k)): the concatenation is physical.
  const index_t total = index_t{1} << n_;
  std::vector<cplx> phys(total), out(total);
  std::memcpy(phys.data(), all.data(), total * sizeof(cplx));
  for (index_t x = 0; x < total; ++x) {
    index_t y = 0;
    for (unsigned q = 0; q < n_; ++q) y |= ((x >> q) & 1) << perm_[q];
    out[x] = phys[y];
  }
  return out;
}

std::vector<index_t> ShardedStateVector::sample(std::uint64_t seed, std::uint64_t first_shot,
                                                std::uint64_t shots) {
  canonicalize();  // physical order == logical order: the cumulative runs rank by rank
  const index_t n = slab_size();
  const std::vector<double> w = mpi::allgather(sv::norm_squared(slab_.data(), n));
  std::vector<double> prefix(w.size() + 1, 0.0);
  for (std::size_t r = 0; r < w.size(); ++r) prefix[r + 1] = prefix[r] + w[r];
  const double total = prefix.back();
  int last_nonzero = 0;
  for (std::size_t r = 0; r < w.size(); ++r) if (w[r] > 0) last_nonzero = static_cast<int>(r);
  std::vector<std::uint64_t> mine_shots;
  std::vector<double> targets;
  for (std::uint64_t s = 0; s < shots; ++s) {
    const double u = uniform01(seed, first_shot + s, 0) * total;
    int owner = last_nonzero;  // u beyond the sum by rounding
    for (std::size_t r = 0; r < w.size(); ++r) {
      if (w[r] > 0 && u < prefix[r + 1]) { owner = static_cast<int>(r); break; }
    }
    if (owner == rank_) {
      mine_shots.push_back(s);
      targets.push_back(std::max(0.0, u - prefix[static_cast<std::size_t>(owner)]));
    }
  }
  std::vector<index_t> local(targets.size());
  shard::find_cumulative(slab_.data(), n, targets.data(), targets.size(), local.data());
  std::vector<std::uint64_t> out(shots, 0);
  const index_t base = static_cast<index_t>(rank_) * n;
  for (std::size_t i = 0; i < mine_shots.size(); ++i) out[mine_shots[i]] = base + local[i];
  mpi::allreduce_sum(out.data(), out.size());
  return out;
}

void ShardedStateVector::relabel_initial(std::span<const unsigned> phys) {
  if (phys.size() != n_) throw std::invalid_argument("relabel_initial: layout of the wrong size");
  std::vector<unsigned> inv(n_, n_);
  for (unsigned q = 0; q < n_; ++q) {
    if (phys[q] >= n_ || inv[phys[q]] != n_) throw std::invalid_argument("relabel_initial: not a permutation");
    inv[phys[q]] = q;
  }
  perm_.assign(phys.begin(), phys.end());
  inv_ = std::move(inv);
}

double ShardedStateVector::kraus_norm(std::span<const unsigned> qubits, const std::vector<cplx>& m) {
  make_local(qubits);
  double mine = 0;
  if (qubits.size() == 1) {
    Mat2 k{};
    for (int i = 0; i < 4; ++i) k.m[i] = m[static_cast<std::size_t>(i)];
    batch::quadratic_form_1q(slab_.data(), 1, slab_size(), perm_[qubits[0]], k, norm_scratch());
  } else {
    Mat4 k{};
    for (int i = 0; i < 16; ++i) k.m[i] = m[static_cast<std::size_t>(i)];
    batch::quadratic_form_2q(slab_.data(), 1, slab_size(), perm_[qubits[0]], perm_[qubits[1]], k, norm_scratch());
  }
  copy_to_host(&mine, norm_scratch(), sizeof(double));
  double total = 0;
  for (double x : mpi::allgather(mine)) total += x;  // rank order: the same bits on every rank
  return total;
}

double* ShardedStateVector::norm_scratch() {
  if (!norm_.size()) norm_ = DeviceArray<double>(1);
  return norm_.data();
}

}  // namespace qw
