#include "host/dense_engine.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <map>
#include <memory>
#include <unordered_map>
#include <fmt/format.h>

#include "host/errors.h"
#include "host/fusion.h"
#include "host/link_deliveries.h"
#include "host/sharded_state.h"
#include "kernels/rng.h"
#include "mpi/runtime.h"
#include "kernels/batch.h"
#include "kernels/config.h"
#include "kernels/exchange.h"
#include "kernels/fused.h"
#include "kernels/statevec.h"

namespace qw {
namespace {

constexpr std::uint32_t kMaxQubits = 62;
using Rep = Representation;
using cd = std::complex<double>;

std::string gib(std::uint64_t bytes) { return fmt::format("{:.1f} GiB", bytes / 1073741824.0); }

std::string human(std::uint64_t bytes) {
  if (bytes >= (std::uint64_t{1} << 30)) return gib(bytes);
  if (bytes >= (std::uint64_t{1} << 20)) return fmt::format("{:.1f} MiB", bytes / 1048576.0);
  if (bytes >= 1024) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{} B", bytes);
}

InputError error_at(const Circuit& c, const Instruction& op, const std::string& what) {
  return InputError(c.source_name, op.where.line, op.where.column, what);
}

// A Pauli product i^k X^x Z^z; multiplication keeps the phase exact.
struct PauliProduct {
  index_t x = 0, z = 0;
  unsigned k = 0;
  bool inverted = false;
  void multiply(char p, std::uint32_t q) {
    const index_t b = index_t{1} << q;
    index_t fx = 0, fz = 0;
    unsigned fk = 0;
    if (p == 'X' || p == 'Y') fx = b;
    if (p == 'Z' || p == 'Y') fz = b;
    if (p == 'Y') fk = 1;
    // (i^k1 X^x1 Z^z1)(i^k2 X^x2 Z^z2) = i^(k1+k2) (-1)^|z1 & x2| X^(x1^x2) Z^(z1^z2)
    k = (k + fk + 2 * popcount64(z & fx)) & 3u;
    x ^= fx;
    z ^= fz;
  }
  // Hermitian iff k - |x & z| is even.
  bool hermitian() const { return ((k + 4 - (popcount64(x & z) & 3u)) & 1u) == 0; }
  static PauliProduct single(char p, std::uint32_t q) {
    PauliProduct pp;
    pp.multiply(p, q);
    return pp;
  }
};

// Splits Pauli-product targets (X0*Y1 Z2) into products; with one_product, all targets form one
// product (CORRELATED_ERROR's "E(p) X1 Y2").
std::vector<PauliProduct> products_of(std::span<const Target> ts, bool one_product = false) {
  std::vector<PauliProduct> out;
  bool join = false;
  for (const Target& t : ts) {
    if (t.is_combiner()) {
      join = true;
      continue;
    }
    if (out.empty() || (!join && !one_product)) out.emplace_back();
    join = false;
    out.back().multiply(t.pauli_char() ? t.pauli_char() : 'Z', t.value);
    out.back().inverted ^= t.inverted();
  }
  return out;
}

bool is_heralded(GateId g) { return g == GateId::HERALDED_ERASE || g == GateId::HERALDED_PAULI_CHANNEL_1; }

// Noise a density matrix applies exactly (no randomness, no record).
bool exact_on_density(GateId g) { return gate_info(g).kind == GateKind::Noise && !is_heralded(g); }

struct RecordEntry {
  std::uint32_t qubit;
  bool inverted;
};

// If every measurement is a terminal single-qubit measurement (nothing acts on a qubit after it is
// measured, no resets, no feedback, no noisy results; noise only on a density matrix, where it is
// exact), returns the record layout and fills basis[q] (0 none, 1 X, 2 Y, 3 Z).
class TerminalAnalysis {
 public:
  TerminalAnalysis(std::uint32_t n, Rep rep) : basis(n, 0), rep_(rep) {}
  std::vector<std::uint8_t> basis;
  std::vector<RecordEntry> records;

  bool visit(const Circuit& c) {
    for (const auto& op : c.instructions()) {
      if (op.gate == GateId::REPEAT) {
        // Two iterations expose every conflict a later iteration could have.
        for (std::uint64_t r = 0; r < op.repeat_count; ++r) {
          if (!visit(c.block(op))) return false;
          if (r >= 1 && !c.block(op).has_kind(GateKind::Collapse)) break;
        }
        continue;
      }
      const GateInfo& info = gate_info(op.gate);
      const auto ts = c.targets(op);
      const bool acts = info.kind == GateKind::Unitary ||
                        (rep_ == Rep::DensityMatrix && exact_on_density(op.gate));
      if (info.kind == GateKind::Annotation || op.gate == GateId::I_ERROR || op.gate == GateId::II_ERROR) {
        continue;
      }
      if (acts) {
        for (const Target& t : ts) {
          if (t.is_combiner()) continue;
          if (!t.is_qubit() || (info.kind == GateKind::Unitary && t.pauli_char()) || basis[t.value] != 0) {
            return false;
          }
        }
        continue;
      }
      std::uint8_t b = 0;
      if (op.gate == GateId::M) b = 3;
      if (op.gate == GateId::MX) b = 1;
      if (op.gate == GateId::MY) b = 2;
      if (b == 0) return false;
      const auto args = c.args(op);
      if (!args.empty() && args[0] != 0) return false;  // noisy result
      for (const Target& t : ts) {
        if (basis[t.value] != 0 && basis[t.value] != b) return false;
        basis[t.value] = b;
        records.push_back({t.value, t.inverted()});
      }
    }
    return true;
  }

 private:
  Rep rep_;
};

void check_supported(const Circuit& c, const DenseOptions& o) {
  for (const auto& op : c.instructions()) {
    if (op.gate == GateId::REPEAT) {
      check_supported(c.block(op), o);
      continue;
    }
    const GateInfo& info = gate_info(op.gate);
    if (op.gate == GateId::IDLE && std::isinf(o.t1_s) && std::isinf(o.t2_s)) {
      throw error_at(c, op, "IDLE(t) needs the qubits' coherence times: pass --t1 and/or --t2 "
                            "(seconds), or a platform model");
    }
    if ((info.flags & kTargetsPauliProducts) && info.kind != GateKind::Annotation) {
      const bool one = op.gate == GateId::CORRELATED_ERROR || op.gate == GateId::ELSE_CORRELATED_ERROR;
      for (const auto& p : products_of(c.targets(op), one)) {
        if (!p.hermitian()) {
          throw error_at(c, op, fmt::format("{} product is anti-Hermitian (a qubit appears with "
                                            "anticommuting Paulis)", info.name));
        }
      }
    }
  }
}

// ---- channel matrices ------------------------------------------------------------------------

Mat2d pauli2x2(unsigned code) {
  switch (code & 3u) {
    case 1: return Mat2d{{{0, 0}, {1, 0}, {1, 0}, {0, 0}}};
    case 2: return Mat2d{{{0, 0}, {0, -1}, {0, 1}, {0, 0}}};
    case 3: return Mat2d{{{1, 0}, {0, 0}, {0, 0}, {-1, 0}}};
    default: return Mat2d{{{1, 0}, {0, 0}, {0, 0}, {1, 0}}};
  }
}

cd c64(cplx64 v) { return {v.re, v.im}; }

// sum_i K_i (x) conj(K_i) on (ket bit, bra bit): index bit 0 = ket, bit 1 = bra.
Mat4 superop_1q(const std::vector<Mat2d>& kraus) {
  Mat4d s{};
  for (const auto& K : kraus)
    for (int ko = 0; ko < 2; ++ko)
      for (int bo = 0; bo < 2; ++bo)
        for (int ki = 0; ki < 2; ++ki)
          for (int bi = 0; bi < 2; ++bi) {
            const cd v = c64(K.m[ko * 2 + ki]) * std::conj(c64(K.m[bo * 2 + bi]));
            auto& e = s.m[(ko + 2 * bo) * 4 + (ki + 2 * bi)];
            e = {e.re + v.real(), e.im + v.imag()};
          }
  return to_kernel(s);
}

// 16 x 16 on (ket q0, ket q1, bra q0, bra q1) from 4 x 4 Kraus operators (index bit 0 = q0).
std::vector<cplx> superop_2q(const std::vector<std::vector<cd>>& kraus) {
  std::vector<cd> s(256, 0.0);
  for (const auto& K : kraus)
    for (int ko = 0; ko < 4; ++ko)
      for (int bo = 0; bo < 4; ++bo)
        for (int ki = 0; ki < 4; ++ki)
          for (int bi = 0; bi < 4; ++bi)
            s[(ko + 4 * bo) * 16 + (ki + 4 * bi)] += K[ko * 4 + ki] * std::conj(K[bo * 4 + bi]);
  std::vector<cplx> out(256);
  for (int i = 0; i < 256; ++i) out[i] = {static_cast<real>(s[i].real()), static_cast<real>(s[i].imag())};
  return out;
}

// A Pauli channel over codes: probs[c] for code c (single qubit: 0..3; two qubits: c0 + 4 c1).
struct PauliChannel {
  unsigned qubits = 1;
  std::vector<double> probs;  // probs[0] = identity
};

PauliChannel pauli_channel_of(GateId g, std::span<const double> a) {
  PauliChannel ch;
  switch (g) {
    case GateId::X_ERROR: ch.probs = {1 - a[0], a[0], 0, 0}; break;
    case GateId::Y_ERROR: ch.probs = {1 - a[0], 0, a[0], 0}; break;
    case GateId::Z_ERROR: ch.probs = {1 - a[0], 0, 0, a[0]}; break;
    case GateId::DEPOLARIZE1: ch.probs = {1 - a[0], a[0] / 3, a[0] / 3, a[0] / 3}; break;
    case GateId::PAULI_CHANNEL_1: ch.probs = {1 - a[0] - a[1] - a[2], a[0], a[1], a[2]}; break;
    case GateId::DEPOLARIZE2:
    case GateId::PAULI_CHANNEL_2: {
      ch.qubits = 2;
      ch.probs.assign(16, 0.0);
      double total = 0;
      for (unsigned j = 1; j < 16; ++j) {
        // Stim's order: argument j-1 is (P1, P2) with j = 4 P1 + P2, P1 on the first target.
        const double p = g == GateId::DEPOLARIZE2 ? a[0] / 15 : a[j - 1];
        const unsigned p1 = j >> 2, p2 = j & 3u;
        ch.probs[p1 + 4 * p2] = p;
        total += p;
      }
      ch.probs[0] = 1 - total;
      break;
    }
    default: break;
  }
  return ch;
}

// Pauli code (0 I, 1 X, 2 Y, 3 Z) of the one-qubit Pauli with X bit x and Z bit z.
unsigned pauli_code(unsigned x, unsigned z) { return x ? (z ? 2u : 1u) : (z ? 3u : 0u); }

bool is_pauli_channel(GateId g) {
  return g == GateId::X_ERROR || g == GateId::Y_ERROR || g == GateId::Z_ERROR ||
         g == GateId::DEPOLARIZE1 || g == GateId::PAULI_CHANNEL_1 || g == GateId::DEPOLARIZE2 ||
         g == GateId::PAULI_CHANNEL_2;
}

std::vector<Mat2d> kraus_of(GateId g, std::span<const double> a, const DenseOptions& o) {
  if (g == GateId::KRAUS1) {
    std::vector<Mat2d> out;
    for (const auto& k : kraus_operators(g, a)) {
      Mat2d m{};
      for (int e = 0; e < 4; ++e) m.m[e] = {k[e].real(), k[e].imag()};
      out.push_back(m);
    }
    return out;
  }
  if (g == GateId::AMPLITUDE_DAMP) return amplitude_damping_kraus(a[0]);
  if (g == GateId::PHASE_DAMP) return phase_damping_kraus(a[0]);
  return idle_kraus(a[0], o.t1_s, o.t2_s);
}

// The fusion options of a dense run (host/fusion.h): a density matrix's block acts on 2k bits.
FusionOptions fusion_options(const DenseOptions& o, Rep rep, bool skip_collapse) {
  FusionOptions fo;
  fo.skip_collapse = skip_collapse;
  const bool dm = rep == Rep::DensityMatrix;
  fo.max_dense_qubits = o.fusion_max_qubits ? o.fusion_max_qubits : (dm ? 2u : 5u);
  const unsigned bits_per_qubit = dm ? 2u : 1u;
  fo.max_dense_qubits = std::min(fo.max_dense_qubits, fused::kMaxDenseQubits / bits_per_qubit);
  fo.max_diagonal_qubits = std::min(fo.max_diagonal_qubits, fused::kMaxDiagonalQubits / bits_per_qubit);
  return fo;
}

// ---- the batched executor --------------------------------------------------------------------

// The deliveries of LINK(name) for this instruction, or an error at the instruction when the run
// has no definition for the name.
const LinkDeliveries& link_deliveries_of(const Circuit& c, const Instruction& op, const CircuitLinks* links,
                                         const std::string& name) {
  if (!links || !links->deliveries.count(name)) {
    throw error_at(c, op, fmt::format("LINK({}) needs the link's definition (qweave sim --link {}=FILE.toml)",
                                      name, name));
  }
  return links->deliveries.at(name);
}

// The mean over the run's shots of the k-th delivered pair's weights (I, X, Y, Z on qubit a): what
// a density matrix applies for LINK.
PauliChannel mean_link_channel(const CircuitLinks& links, const LinkDeliveries& d, std::uint64_t k) {
  PauliChannel ch;
  ch.probs = {0, 0, 0, 0};
  for (std::uint64_t s = 0; s < links.shots; ++s)
    for (unsigned j = 0; j < 4; ++j) ch.probs[j] += d.state(s, k)[j] / static_cast<double>(links.shots);
  return ch;
}

constexpr const char* kLinkDensityWaitError =
    "LINK with decoherence of the waiting qubits (--t1/--t2) runs on trajectories (--engine sv) or "
    "frames: the density matrix would need every delivery time";

class Executor {
 public:
  Executor(const DenseOptions& o, Rep rep, unsigned n, index_t max_batch, std::uint64_t record_bits)
      : o_(o), rep_(rep), n_(n), L_(index_t{1} << (rep == Rep::DensityMatrix ? 2 * n : n)),
        maxB_(max_batch), M_(record_bits), amps_(max_batch * L_),
        record_(std::max<std::uint64_t>(1, max_batch * record_bits)), e_(max_batch),
        outcome_(max_batch), scale_(max_batch), on_(max_batch), code_(max_batch),
        fired_(max_batch), choice_(max_batch), norms_(4 * max_batch), ones_(max_batch) {
    std::vector<double> ones(max_batch, 1.0);
    copy_to_device(ones_.data(), ones.data(), ones.size() * sizeof(double));
  }

  index_t segment_length() const { return L_; }
  cplx* amps() { return amps_.data(); }
  const DeviceArray<std::uint8_t>& record() const { return record_; }

  // Starts a batch of B shots from first_shot, every segment a copy of `start` (L entries).
  void begin(index_t B, std::uint64_t first_shot, const cplx* start) {
    B_ = B;
    first_ = first_shot;
    draw_ = 0;
    column_ = 0;
    link_next_.clear();
    batch::broadcast(amps_.data(), B_, L_, start);
  }
  // Starts a single segment in |0><0| / |0>.
  void begin_zero() {
    B_ = 1;
    first_ = 0;
    draw_ = 0;
    column_ = 0;
    link_next_.clear();
    sv::set_basis_state(amps_.data(), L_, 0);
  }

  // Runs instructions [from, to); skip_collapse leaves out measurements and resets (the
  // deterministic part of a circuit whose measurements are all terminal). With fusion, a fused run
  // that starts at i and ends by `to` replaces its instructions.
  void run(const Circuit& c, std::size_t from = 0, bool skip_collapse = false,
           std::size_t to = static_cast<std::size_t>(-1)) {
    const auto ops = c.instructions();
    const FusionPlan* plan = o_.fusion ? &plan_for(c, skip_collapse) : nullptr;
    for (std::size_t i = from; i < std::min(to, ops.size()); ++i) {
      const auto& op = ops[i];
      if (plan) {
        const auto f = plan->run_at.find(i);
        if (f != plan->run_at.end() && plan->runs[f->second].end <= to) {
          run_fused(c, *plan, f->second);
          i = plan->runs[f->second].end - 1;
          continue;
        }
      }
      if (op.gate == GateId::REPEAT) {
        for (std::uint64_t r = 0; r < op.repeat_count; ++r) run(c.block(op), 0, skip_collapse);
        continue;
      }
      if (skip_collapse && gate_info(op.gate).kind == GateKind::Collapse) continue;
      if (op.gate == GateId::CORRELATED_ERROR && rep_ == Rep::DensityMatrix) {
        std::size_t j = i + 1;
        while (j < ops.size() && ops[j].gate == GateId::ELSE_CORRELATED_ERROR) ++j;
        correlated_chain_density(c, ops.subspan(i, j - i));
        i = j - 1;
        continue;
      }
      step(c, op);
    }
  }

  // Density matrices only: run every collapse and herald as its non-selective channel (averaged over
  // outcomes) instead of sampling it; records are not written.
  void set_averaging(bool on) { averaging_ = on; }

  void step(const Circuit& c, const Instruction& op) {
    const GateInfo& info = gate_info(op.gate);
    const auto ts = c.targets(op);
    const auto args = c.args(op);
    const double flip = args.empty() ? 0.0 : args[0];
    if (averaging_ && average_step(op.gate, ts, args)) return;
    switch (op.gate) {
      case GateId::M: case GateId::MX: case GateId::MY:
      case GateId::MR: case GateId::MRX: case GateId::MRY: {
        const char b = (op.gate == GateId::MX || op.gate == GateId::MRX) ? 'X'
                     : (op.gate == GateId::MY || op.gate == GateId::MRY) ? 'Y' : 'Z';
        const bool reset = op.gate == GateId::MR || op.gate == GateId::MRX || op.gate == GateId::MRY;
        for (const Target& t : ts) {
          measure(PauliProduct::single(b, t.value), t.inverted(), flip, true);
          if (reset) flip_where_outcome(b, t.value);
        }
        return;
      }
      case GateId::R: case GateId::RX: case GateId::RY: {
        const char b = op.gate == GateId::RX ? 'X' : op.gate == GateId::RY ? 'Y' : 'Z';
        for (const Target& t : ts) {
          measure(PauliProduct::single(b, t.value), false, 0.0, false);
          flip_where_outcome(b, t.value);
        }
        return;
      }
      case GateId::MXX: case GateId::MYY: case GateId::MZZ: {
        const char b = op.gate == GateId::MXX ? 'X' : op.gate == GateId::MYY ? 'Y' : 'Z';
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) {
          PauliProduct p = PauliProduct::single(b, ts[i].value);
          p.multiply(b, ts[i + 1].value);
          measure(p, ts[i].inverted() != ts[i + 1].inverted(), flip, true);
        }
        return;
      }
      case GateId::MPP:
        for (const auto& p : products_of(ts)) measure(p, p.inverted, flip, true);
        return;
      case GateId::BELL_PAIR:
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) bell_pair(ts[i].value, ts[i + 1].value, args);
        return;
      case GateId::LINK:
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) link_pair(c, op, ts[i].value, ts[i + 1].value);
        return;
      case GateId::MPAD:
        for (const Target& t : ts) {
          batch::MeasureDraw d{o_.seed, first_, draw_++, flip, t.value != 0, false, M_, column_++};
          batch::decide_measurement(ones_.data(), B_, d, record_.data(), outcome_.data(), scale_.data());
        }
        return;
      case GateId::SPP: case GateId::SPP_DAG:
        for (const auto& p : products_of(ts)) {
          // SPP(P) = (1+i)/2 I + (1-i)/2 P: the S gate in P's eigenbasis (Stim's convention).
          const bool dag = (op.gate == GateId::SPP_DAG) != p.inverted;
          const real h = real(0.5);
          const cplx alpha{h, dag ? -h : h}, beta{h, dag ? h : -h};
          sv::combine_pauli(amps_.data(), B_ * L_, p.x, p.z, p.k, alpha, beta);
          if (rep_ == Rep::DensityMatrix) {
            sv::combine_pauli(amps_.data(), B_ * L_, p.x << n_, p.z << n_, (4 - p.k) & 3u,
                              conj(alpha), conj(beta));
          }
        }
        return;
      default: break;
    }
    switch (info.kind) {
      case GateKind::Unitary: unitary(c, op, info, ts, args); return;
      case GateKind::Noise: noise(op.gate, ts, args); return;
      default: return;  // annotations
    }
  }

 private:
  // rho <- (rho + P rho P^dag) / 2: a measurement of P whose outcome is forgotten.
  void dephase(const PauliProduct& p) {
    if (!tmp_.size()) tmp_ = DeviceArray<cplx>(maxB_ * L_);
    const index_t N = B_ * L_;
    sv::copy(tmp_.data(), amps_.data(), N);
    sv::scale(amps_.data(), N, real(0.5));
    batch::add_pauli_conjugated(amps_.data(), tmp_.data(), N, p.x | (p.x << n_), p.z | (p.z << n_), real(0.5));
  }

  // Reset to the +1 eigenstate of basis b: Kraus |+b><+b| and |+b><-b|.
  void reset_channel(char b, unsigned q) {
    const double s = M_SQRT1_2;
    std::vector<Mat2d> k;
    if (b == 'Z') {
      k = {Mat2d{{{1, 0}, {0, 0}, {0, 0}, {0, 0}}}, Mat2d{{{0, 0}, {1, 0}, {0, 0}, {0, 0}}}};
    } else if (b == 'X') {  // |+><+| and |+><-|
      k = {Mat2d{{{0.5, 0}, {0.5, 0}, {0.5, 0}, {0.5, 0}}}, Mat2d{{{0.5, 0}, {-0.5, 0}, {0.5, 0}, {-0.5, 0}}}};
    } else {  // |+i> = (|0> + i|1>)/sqrt2: |+i><+i| and |+i><-i|
      k = {Mat2d{{{0.5, 0}, {0, -0.5}, {0, 0.5}, {0.5, 0}}}, Mat2d{{{0.5, 0}, {0, 0.5}, {0, 0.5}, {-0.5, 0}}}};
    }
    (void)s;
    sv::apply_2q(amps_.data(), B_ * L_, q, q + n_, superop_1q(k));
  }

  // The averaged form of collapses and heralds; false for everything else.
  bool average_step(GateId g, std::span<const Target> ts, std::span<const double> args) {
    auto basis = [](GateId id) {
      if (id == GateId::MX || id == GateId::MRX || id == GateId::RX) return 'X';
      if (id == GateId::MY || id == GateId::MRY || id == GateId::RY) return 'Y';
      return 'Z';
    };
    switch (g) {
      case GateId::M: case GateId::MX: case GateId::MY:
        for (const Target& t : ts) dephase(PauliProduct::single(basis(g), t.value));
        return true;
      case GateId::MR: case GateId::MRX: case GateId::MRY: case GateId::R: case GateId::RX: case GateId::RY:
        for (const Target& t : ts) reset_channel(basis(g), t.value);
        return true;
      case GateId::MXX: case GateId::MYY: case GateId::MZZ: {
        const char b = g == GateId::MXX ? 'X' : g == GateId::MYY ? 'Y' : 'Z';
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) {
          PauliProduct p = PauliProduct::single(b, ts[i].value);
          p.multiply(b, ts[i + 1].value);
          dephase(p);
        }
        return true;
      }
      case GateId::MPP:
        for (const auto& p : products_of(ts)) dephase(p);
        return true;
      case GateId::MPAD: return true;
      case GateId::HERALDED_ERASE: case GateId::HERALDED_PAULI_CHANNEL_1: {
        // Averaged over the herald: a Pauli channel (erasure = full depolarisation w.p. p).
        double w[4];
        for (int c = 0; c < 4; ++c) w[c] = g == GateId::HERALDED_ERASE ? args[0] / 4 : args[static_cast<std::size_t>(c)];
        PauliChannel ch;
        ch.probs = {1 - w[1] - w[2] - w[3], w[1], w[2], w[3]};
        for (const Target& t : ts) pauli_channel_density(ch, t.value, 0);
        return true;
      }
      default: return false;
    }
  }

  // Pauli product P on every segment where on[b]: P (x) P* = X^x' Z^z' on a density matrix.
  void pauli_where(const PauliProduct& p, const std::uint8_t* on) {
    if (rep_ == Rep::StateVector) {
      batch::pauli_where(amps_.data(), B_, L_, p.x, p.z, p.k, on);
    } else {
      batch::pauli_where(amps_.data(), B_, L_, p.x | (p.x << n_), p.z | (p.z << n_), 0, on);
    }
  }

  void measure(const PauliProduct& p, bool invert, double flip, bool record) {
    if (rep_ == Rep::StateVector) {
      batch::expectation_pauli(amps_.data(), B_, L_, p.x, p.z, p.k, e_.data());
    } else {
      batch::trace_pauli(amps_.data(), B_, n_, p.x, p.z, p.k, e_.data());
    }
    const batch::MeasureDraw d{o_.seed, first_, draw_++, flip, invert, rep_ == Rep::DensityMatrix,
                               M_, record ? column_++ : M_};
    batch::decide_measurement(e_.data(), B_, d, record_.data(), outcome_.data(), scale_.data());
    batch::project_pauli(amps_.data(), B_, L_, p.x, p.z, p.k, outcome_.data(), scale_.data());
    if (rep_ == Rep::DensityMatrix) {
      batch::project_pauli(amps_.data(), B_, L_, p.x << n_, p.z << n_, (4 - p.k) & 3u,
                           outcome_.data(), nullptr);
    }
  }

  // After measuring basis b on q: an anticommuting Pauli takes the -1 eigenstate to +1.
  void flip_where_outcome(char b, std::uint32_t q) {
    pauli_where(PauliProduct::single(b == 'Z' ? 'X' : 'Z', q), outcome_.data());
  }

  void unitary(const Circuit& c, const Instruction& op, const GateInfo& info,
               std::span<const Target> ts, std::span<const double> args) {
    for (std::size_t i = 0; i + info.group <= ts.size(); i += info.group) unitary_group(c, op, info, ts, args, i);
  }

  // The group of targets starting at ts[i].
  void unitary_group(const Circuit& c, const Instruction& op, const GateInfo& info,
                     std::span<const Target> ts, std::span<const double> args, std::size_t i) {
    const unsigned g = info.group;
    std::uint32_t qs[8];
    {
      bool classical = false;
      for (unsigned j = 0; j < g; ++j) classical |= !ts[i + j].is_qubit();
      if (!classical) {
        for (unsigned j = 0; j < g; ++j) qs[j] = ts[i + j].value;
        apply_unitary(amps_.data(), B_ * L_, op.gate, args, {qs, g});
        if (rep_ == Rep::DensityMatrix) {
          for (unsigned j = 0; j < g; ++j) qs[j] += n_;
          apply_unitary(amps_.data(), B_ * L_, op.gate, args, {qs, g}, true);
        }
        return;
      }
      // Classically controlled Pauli: the rec/sweep side is the Z control.
      const Target &a = ts[i], &b = ts[i + 1];
      const bool a_classical = !a.is_qubit();
      const Target& ctl = a_classical ? a : b;
      const Target& tgt = a_classical ? b : a;
      if (!tgt.is_qubit() || ctl.is_sweep()) return;  // no sweep data: sweep bits are 0
      if (ctl.value == 0 || ctl.value > column_) {
        throw error_at(c, op, fmt::format("rec[-{}] reaches before the first measurement", ctl.value));
      }
      char p = 'Z';
      if (op.gate == GateId::CX || op.gate == GateId::XCZ) p = 'X';
      if (op.gate == GateId::CY || op.gate == GateId::YCZ) p = 'Y';
      batch::gather_record(record_.data(), B_, M_, column_ - ctl.value, on_.data());
      pauli_where(PauliProduct::single(p, tgt.value), on_.data());
    }
  }

  void noise(GateId g, std::span<const Target> ts, std::span<const double> args) {
    if (g == GateId::I_ERROR || g == GateId::II_ERROR) return;
    if (g == GateId::CORRELATED_ERROR || g == GateId::ELSE_CORRELATED_ERROR) {
      // State vector (a density-matrix chain is handled whole in run()).
      const PauliProduct p = products_of(ts, true).at(0);
      batch::decide_correlated(B_, o_.seed, first_, draw_++, args[0],
                               g == GateId::ELSE_CORRELATED_ERROR, fired_.data(), on_.data());
      pauli_where(p, on_.data());
      return;
    }
    if (is_heralded(g)) {
      heralded(g, ts, args);
      return;
    }
    if (is_pauli_channel(g)) {
      const PauliChannel ch = pauli_channel_of(g, args);
      for (std::size_t i = 0; i + ch.qubits <= ts.size(); i += ch.qubits) {
        pauli_channel(ch, ts[i].value, ch.qubits == 2 ? ts[i + 1].value : 0);
      }
      return;
    }
    if (g == GateId::KRAUS2) {
      const auto kraus = kraus_operators(g, args);
      for (std::size_t i = 0; i + 1 < ts.size(); i += 2) kraus_2q(kraus, ts[i].value, ts[i + 1].value);
      return;
    }
    // General single-qubit Kraus maps: amplitude damping, phase damping, T1/T2 idling, KRAUS1.
    const std::vector<Mat2d> kraus = kraus_of(g, args, o_);
    for (const Target& t : ts) kraus_1q(kraus, t.value);
  }

  // A Pauli channel on q0 (and q1): exact on a density matrix, one drawn Pauli per trajectory.
  void pauli_channel(const PauliChannel& ch, unsigned q0, unsigned q1) {
    if (rep_ == Rep::DensityMatrix) {
      pauli_channel_density(ch, q0, q1);
      return;
    }
    batch::ChannelDraw d{o_.seed, first_, draw_++, {}, {}, 0};
    double acc = 0;
    for (unsigned c = 1; c < ch.probs.size(); ++c) {
      if (ch.probs[c] <= 0) continue;
      acc += ch.probs[c];
      d.cum[d.count] = acc;
      d.code[d.count] = static_cast<std::uint8_t>(c);
      ++d.count;
    }
    batch::decide_channel(B_, d, code_.data());
    if (ch.qubits == 1) {
      batch::pauli1_codes(amps_.data(), B_, L_, q0, code_.data());
    } else {
      batch::pauli2_codes(amps_.data(), B_, L_, q0, q1, code_.data());
    }
  }

  // BELL_PAIR a b: reset a and b to |0> (exact reset channels on a density matrix; a measurement
  // and a flip per qubit on trajectories, one draw each), H a, CX a b (|Phi+>), then sigma_k on a
  // with probability w_k, k = (I, X, Y, Z): X_a|Phi+> = |Psi+>, Z_a|Phi+> = |Phi->,
  // Y_a|Phi+> = -i|Psi->, the (Phi+, Psi+, Psi-, Phi-) order of kernels/link_maps.h. The Pauli is
  // exact on a density matrix and one draw on trajectories.
  void bell_pair(unsigned a, unsigned b, std::span<const double> args) {
    phi_plus(a, b);
    const auto w = bell_pair_weights(args);
    PauliChannel ch;
    ch.probs = {w[0], w[1], w[2], w[3]};
    pauli_channel(ch, a, 0);
  }

  // LINK(name) a b: |Phi+> on (a, b), then the pair this shot's link delivered (its Bell-diagonal
  // weights as a Pauli on a, one draw) and, while it was generated, the other qubits waited: each
  // gets the twirled T1/T2 channel of that shot's delivery time (host/link_deliveries.h). On a
  // density matrix (the average over shots) the pair is exact with the mean weights; waiting
  // qubits' decoherence, correlated through the shared delivery time, needs trajectories.
  void link_pair(const Circuit& c, const Instruction& op, unsigned a, unsigned b) {
    const std::string& name = c.link_names.at(static_cast<std::size_t>(c.args(op)[0]));
    const CircuitLinks* links = o_.links;
    const LinkDeliveries& d = link_deliveries_of(c, op, links, name);
    const std::uint64_t k = link_next_[name]++;
    phi_plus(a, b);
    if (rep_ == Rep::DensityMatrix) {
      if (links->waiting_decoheres() && n_ > 2) throw error_at(c, op, kLinkDensityWaitError);
      pauli_channel(mean_link_channel(*links, d, k), a, 0);
      return;
    }
    // One uniform per shot from the shot's own stream: code 0..3 = I, X, Y, Z.
    std::vector<std::uint8_t> codes(B_);
    auto decide = [&](auto probs_of) {
      const std::uint64_t draw = draw_++;
      for (index_t j = 0; j < B_; ++j) {
        const std::uint64_t shot = first_ + j;
        const auto p = probs_of(shot - links->first_shot);
        const double u = uniform01(o_.seed, shot, draw);
        double acc = 0;
        codes[j] = 0;
        for (unsigned c2 = 1; c2 < 4; ++c2) {
          acc += p[c2];
          if (u < acc) {
            codes[j] = static_cast<std::uint8_t>(c2);
            break;
          }
        }
      }
      copy_to_device(code_.data(), codes.data(), codes.size());
    };
    decide([&](std::uint64_t s) {
      const double* w = d.state(s, k);
      return std::array<double, 4>{w[0], w[1], w[2], w[3]};
    });
    batch::pauli1_codes(amps_.data(), B_, L_, a, code_.data());
    if (!links->waiting_decoheres()) return;
    for (unsigned q = 0; q < n_; ++q) {
      if (q == a || q == b) continue;
      decide([&](std::uint64_t s) { return waiting_pauli(*links, d.time(s, k)); });
      batch::pauli1_codes(amps_.data(), B_, L_, q, code_.data());
    }
  }

  // Resets a and b and prepares |Phi+> on them.
  void phi_plus(unsigned a, unsigned b) {
    for (const unsigned q : {a, b}) {
      if (rep_ == Rep::DensityMatrix) {
        reset_channel('Z', q);
      } else {
        measure(PauliProduct::single('Z', q), false, 0.0, false);
        flip_where_outcome('Z', q);
      }
    }
    const std::uint32_t qa[1] = {a}, qab[2] = {a, b};
    apply_unitary(amps_.data(), B_ * L_, GateId::H, {}, qa);
    apply_unitary(amps_.data(), B_ * L_, GateId::CX, {}, qab);
    if (rep_ == Rep::DensityMatrix) {
      const std::uint32_t ba[1] = {a + n_}, bab[2] = {a + n_, b + n_};
      apply_unitary(amps_.data(), B_ * L_, GateId::H, {}, ba, true);
      apply_unitary(amps_.data(), B_ * L_, GateId::CX, {}, bab, true);
    }
  }

  void kraus_2q(const std::vector<std::vector<cd>>& kraus, unsigned q0, unsigned q1) {
    if (rep_ == Rep::DensityMatrix) {
      apply_superop_2q(superop_2q(kraus), q0, q1, nullptr);
      return;
    }
    std::vector<Mat4> table(kraus.size());
    for (std::size_t i = 0; i < kraus.size(); ++i) {
      Mat4d k{}, kk{};
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) {
          k.m[r * 4 + c] = {kraus[i][r * 4 + c].real(), kraus[i][r * 4 + c].imag()};
          cd s = 0;
          for (int m = 0; m < 4; ++m) s += std::conj(kraus[i][m * 4 + r]) * kraus[i][m * 4 + c];
          kk.m[r * 4 + c] = {s.real(), s.imag()};
        }
      table[i] = to_kernel(k);
      batch::quadratic_form_2q(amps_.data(), B_, L_, q0, q1, to_kernel(kk), norms(kraus.size()) + i * B_);
    }
    DeviceArray<Mat4> dtable(table.size());
    copy_to_device(dtable.data(), table.data(), table.size() * sizeof(Mat4));
    batch::decide_kraus(norms(kraus.size()), static_cast<unsigned>(kraus.size()), B_, o_.seed, first_,
                        draw_++, choice_.data(), scale_.data());
    batch::apply_2q_table(amps_.data(), B_, L_, q0, q1, dtable.data(), choice_.data(), scale_.data());
  }

  // Scratch for count Kraus norms per segment.
  double* norms(std::size_t count) {
    if (norms_.size() < count * maxB_) norms_ = DeviceArray<double>(count * maxB_);
    return norms_.data();
  }

  void kraus_1q(const std::vector<Mat2d>& kraus, unsigned q) {
    if (rep_ == Rep::DensityMatrix) {
      sv::apply_2q(amps_.data(), B_ * L_, q, q + n_, superop_1q(kraus));
      return;
    }
    // Trajectories: pick K_i with probability ||K_i psi||^2, then psi <- K_i psi / ||K_i psi||.
    std::vector<Mat2> table(kraus.size());
    for (std::size_t i = 0; i < kraus.size(); ++i) {
      table[i] = to_kernel(kraus[i]);
      Mat2d kk{};  // K^dag K
      for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 2; ++c) {
          cd s = 0;
          for (int m = 0; m < 2; ++m) s += std::conj(c64(kraus[i].m[m * 2 + r])) * c64(kraus[i].m[m * 2 + c]);
          kk.m[r * 2 + c] = {s.real(), s.imag()};
        }
      batch::quadratic_form_1q(amps_.data(), B_, L_, q, to_kernel(kk), norms(kraus.size()) + i * B_);
    }
    DeviceArray<Mat2> dtable(table.size());
    copy_to_device(dtable.data(), table.data(), table.size() * sizeof(Mat2));
    batch::decide_kraus(norms(kraus.size()), static_cast<unsigned>(kraus.size()), B_, o_.seed, first_,
                        draw_++, choice_.data(), scale_.data());
    batch::apply_1q_table(amps_.data(), B_, L_, q, dtable.data(), choice_.data(), scale_.data());
  }

  // Exact Pauli channel on rho, sparse: out[k][b] = sum_x W[x][k ^ b] rho[k ^ x][b ^ x] on the
  // target bits with W[x][d] = sum_z p_(x,z) (-1)^{|z & d|} (kernels/batch.h), real weights.
  void pauli_channel_density(const PauliChannel& ch, unsigned q0, unsigned q1) {
    if (ch.qubits == 1) {
      double W[2][2] = {};
      for (unsigned x = 0; x < 2; ++x)
        for (unsigned z = 0; z < 2; ++z)
          for (unsigned d = 0; d < 2; ++d) W[x][d] += ((z & d) ? -1.0 : 1.0) * ch.probs[pauli_code(x, z)];
      batch::pauli_channel_density_1q(amps_.data(), B_, n_, q0, W);
      return;
    }
    double W[4][4] = {};
    for (unsigned x = 0; x < 4; ++x)
      for (unsigned z = 0; z < 4; ++z) {
        const double p = ch.probs[pauli_code(x & 1u, z & 1u) + 4 * pauli_code(x >> 1, z >> 1)];
        for (unsigned d = 0; d < 4; ++d) W[x][d] += (std::popcount(z & d) & 1u ? -1.0 : 1.0) * p;
      }
    batch::pauli_channel_density_2q(amps_.data(), B_, n_, q0, q1, W);
  }

  void apply_superop_2q(const std::vector<cplx>& s, unsigned q0, unsigned q1, const std::uint8_t* on) {
    DeviceArray<cplx> ds(s.size());
    copy_to_device(ds.data(), s.data(), s.size() * sizeof(cplx));
    const unsigned qs[4] = {q0, q1, q0 + n_, q1 + n_};
    batch::apply_dense(amps_.data(), B_, L_, 4, qs, ds.data(), on);
  }

  void heralded(GateId g, std::span<const Target> ts, std::span<const double> args) {
    // Herald probability h; given a herald, Pauli c with probability w[c] / h.
    double w[4];
    if (g == GateId::HERALDED_ERASE) {
      for (double& x : w) x = args[0] / 4;  // erased: fully depolarised (Stim's semantics)
    } else {
      for (int c = 0; c < 4; ++c) w[c] = args[static_cast<std::size_t>(c)];
    }
    batch::ChannelDraw d{o_.seed, first_, 0, {}, {}, 4};
    double acc = 0;
    for (unsigned c = 0; c < 4; ++c) {
      acc += w[c];
      d.cum[c] = acc;
      d.code[c] = static_cast<std::uint8_t>(c);
    }
    for (const Target& t : ts) {
      d.draw = draw_++;
      const index_t col = column_++;
      batch::decide_heralded(B_, d, code_.data(), record_.data(), M_, col);
      if (rep_ == Rep::StateVector) {
        batch::pauli1_codes(amps_.data(), B_, L_, t.value, code_.data());
        continue;
      }
      if (acc <= 0) continue;
      std::vector<Mat2d> kraus;
      for (unsigned c = 0; c < 4; ++c) {
        Mat2d k = pauli2x2(c);
        for (auto& e : k.m) e = std::sqrt(w[c] / acc) * e;
        kraus.push_back(k);
      }
      // The conditional channel, as a 4-qubit-index dense superoperator on (ket q, bra q) only
      // where the herald fired.
      const Mat4 s = superop_1q(kraus);
      DeviceArray<cplx> ds(16);
      copy_to_device(ds.data(), s.m, sizeof(s.m));
      batch::gather_record(record_.data(), B_, M_, col, on_.data());
      const unsigned qs[2] = {t.value, t.value + n_};
      batch::apply_dense(amps_.data(), B_, L_, 2, qs, ds.data(), on_.data());
    }
  }

  // E(p1) P1; ELSE(p2) P2; ... on a density matrix: rho <- q0 rho + sum_i q_i P_i rho P_i with
  // q_i = p_i prod_{j<i} (1 - p_j).
  void correlated_chain_density(const Circuit& c, std::span<const Instruction> chain) {
    if (!tmp_.size()) tmp_ = DeviceArray<cplx>(maxB_ * L_);
    const index_t N = B_ * L_;
    sv::copy(tmp_.data(), amps_.data(), N);
    double none = 1;
    std::vector<std::pair<PauliProduct, double>> terms;
    for (const auto& op : chain) {
      const double p = c.args(op)[0];
      terms.push_back({products_of(c.targets(op), true).at(0), none * p});
      none *= 1 - p;
    }
    sv::scale(amps_.data(), N, static_cast<real>(none));
    for (const auto& [p, q] : terms) {
      if (q <= 0) continue;
      batch::add_pauli_conjugated(amps_.data(), tmp_.data(), N, p.x | (p.x << n_), p.z | (p.z << n_),
                                  static_cast<real>(q));
    }
  }

  // The fused runs of one block, their matrices in device memory once (no copy per gate).
  struct FusionPlan {
    std::vector<FusedRun> runs;
    std::unordered_map<std::size_t, std::size_t> run_at;  // first instruction -> run
    std::vector<std::vector<std::size_t>> offset;          // per run, per step: into `matrices`
    DeviceArray<real> matrices;  // dense: column-major re then im; diagonal: re, im pairs
  };

  const FusionPlan& plan_for(const Circuit& c, bool skip_collapse) {
    auto& slot = plans_[{&c, skip_collapse}];
    if (slot) return *slot;
    slot = std::make_unique<FusionPlan>();
    FusionPlan& p = *slot;
    const bool dm = rep_ == Rep::DensityMatrix;
    p.runs = fuse_block(c, fusion_options(o_, rep_, skip_collapse));
    std::vector<real> host;
    for (std::size_t r = 0; r < p.runs.size(); ++r) {
      p.run_at[p.runs[r].begin] = r;
      p.offset.emplace_back();
      for (FusedStep& st : p.runs[r].steps) {
        if (dm) st = density_step(st, n_);
        p.offset.back().push_back(host.size());
        if (st.kind == FusedStep::Kind::Dense) {
          const std::size_t D = std::size_t{1} << st.qubits.size();
          const std::size_t base = host.size();
          host.resize(base + 2 * D * D);
          for (std::size_t row = 0; row < D; ++row)
            for (std::size_t col = 0; col < D; ++col) {
              host[base + col * D + row] = static_cast<real>(st.matrix[row * D + col].real());
              host[base + D * D + col * D + row] = static_cast<real>(st.matrix[row * D + col].imag());
            }
        } else if (st.kind == FusedStep::Kind::Diagonal) {
          for (const auto& v : st.matrix) {
            host.push_back(static_cast<real>(v.real()));
            host.push_back(static_cast<real>(v.imag()));
          }
        }
        std::vector<std::complex<double>>().swap(st.matrix);  // the device copy is the one used
      }
    }
    // Device memory for the matrices of every block of this circuit block (16 KiB per 5-qubit
    // dense block in double precision), held for the whole run.
    p.matrices = DeviceArray<real>(host.size());
    if (!host.empty()) copy_to_device(p.matrices.data(), host.data(), host.size() * sizeof(real));
    return p;
  }

  void run_fused(const Circuit& c, const FusionPlan& p, std::size_t r) {
    const FusedRun& run = p.runs[r];
    const auto ops = c.instructions();
    for (std::size_t s = 0; s < run.steps.size(); ++s) {
      const FusedStep& st = run.steps[s];
      const unsigned k = static_cast<unsigned>(st.qubits.size());
      const real* m = p.matrices.data() + p.offset[r][s];
      switch (st.kind) {
        case FusedStep::Kind::Gate: {
          const Instruction& op = ops[st.op];
          unitary_group(c, op, gate_info(op.gate), c.targets(op), c.args(op), st.target);
          break;
        }
        case FusedStep::Kind::Dense:
          sv::apply_dense(amps_.data(), B_ * L_, k, st.qubits.data(), m);
          break;
        case FusedStep::Kind::Diagonal:
          sv::apply_diagonal(amps_.data(), B_ * L_, k, st.qubits.data(), reinterpret_cast<const cplx*>(m));
          break;
      }
    }
  }

  const DenseOptions& o_;
  Rep rep_;
  unsigned n_;
  index_t L_, maxB_, B_ = 1;
  std::uint64_t M_;
  std::uint64_t first_ = 0, draw_ = 0, column_ = 0;
  std::map<std::string, std::uint64_t> link_next_;  // executions of LINK(name) so far in this batch
  DeviceArray<cplx> amps_;
  DeviceArray<std::uint8_t> record_;
  DeviceArray<double> e_;
  DeviceArray<std::uint8_t> outcome_;
  DeviceArray<real> scale_;
  DeviceArray<std::uint8_t> on_, code_, fired_, choice_;
  DeviceArray<double> norms_, ones_;
  DeviceArray<cplx> tmp_;
  bool averaging_ = false;
  std::map<std::pair<const Circuit*, bool>, std::unique_ptr<FusionPlan>> plans_;
};

bool has_feedback(const Circuit& c) {
  for (const auto& op : c.instructions()) {
    if (op.gate == GateId::REPEAT) {
      if (has_feedback(c.block(op))) return true;
      continue;
    }
    if (gate_info(op.gate).kind != GateKind::Unitary) continue;
    for (const Target& t : c.targets(op)) {
      if (t.is_rec() || t.is_sweep()) return true;
    }
  }
  return false;
}

std::uint64_t segment_bytes(std::uint32_t n, Rep rep) {
  const unsigned bits = rep == Rep::DensityMatrix ? 2 * n : n;
  return (std::uint64_t{1} << bits) * sizeof(cplx);
}

void pack_records(const std::vector<std::uint8_t>& bytes, std::uint64_t B, std::uint64_t M,
                  std::uint64_t first_shot, std::uint64_t bytes_per_shot, std::vector<std::uint8_t>& out) {
  for (std::uint64_t b = 0; b < B; ++b) {
    std::uint8_t* row = out.data() + (first_shot + b) * bytes_per_shot;
    for (std::uint64_t j = 0; j < M; ++j) {
      if (bytes[b * M + j]) row[j / 8] |= static_cast<std::uint8_t>(1u << (j % 8));
    }
  }
}

// Density matrix in memory (ket + dim * bra) to row-major rho[ket][bra].
std::vector<cplx> density_to_row_major(const std::vector<cplx>& mem, unsigned n) {
  const index_t dim = index_t{1} << n;
  std::vector<cplx> out(mem.size());
  for (index_t ket = 0; ket < dim; ++ket)
    for (index_t bra = 0; bra < dim; ++bra) out[ket * dim + bra] = mem[ket + dim * bra];
  return out;
}


// ---- sharded state vector over MPI ranks -----------------------------------------------------

// The second uniform of a Philox block (words 2, 3), as kernels/batch.cu draws noisy-result flips
// and herald Paulis: the same draws as the batched engine, so a sharded run samples the same shots.
double second_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t draw) {
  const auto r = philox_block(seed, stream, draw);
  const std::uint64_t bits = (static_cast<std::uint64_t>(r.v[2]) << 32) | r.v[3];
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

// One shot on a sharded state; every rank runs it with the same draws (same seed, shot and draw
// counter), so every collective call happens in the same order on every rank.
class ShardedShot {
 public:
  ShardedShot(ShardedStateVector& sv, std::uint64_t seed, std::uint64_t shot, const DenseOptions& opt)
      : sv_(sv), seed_(seed), shot_(shot), opt_(opt) {}
  std::vector<std::uint8_t> record;

  void run(const Circuit& c) {
    for (const auto& op : c.instructions()) {
      if (op.gate == GateId::REPEAT) {
        for (std::uint64_t r = 0; r < op.repeat_count; ++r) run(c.block(op));
      } else {
        step(c, op);
      }
    }
  }

  // Unitaries only (the deterministic part of a circuit with terminal measurements).
  void run_unitaries(const Circuit& c) {
    for (const auto& op : c.instructions()) {
      if (op.gate == GateId::REPEAT) {
        for (std::uint64_t r = 0; r < op.repeat_count; ++r) run_unitaries(c.block(op));
      } else if (gate_info(op.gate).kind == GateKind::Unitary) {
        step(c, op);
      }
    }
  }

  void step(const Circuit& c, const Instruction& op) {
    const GateInfo& info = gate_info(op.gate);
    const auto ts = c.targets(op);
    const auto args = c.args(op);
    const double flip = args.empty() ? 0.0 : args[0];
    auto basis = [](GateId g) {
      if (g == GateId::MX || g == GateId::MRX || g == GateId::RX) return 'X';
      if (g == GateId::MY || g == GateId::MRY || g == GateId::RY) return 'Y';
      return 'Z';
    };
    switch (op.gate) {
      case GateId::M: case GateId::MX: case GateId::MY: case GateId::MR: case GateId::MRX:
      case GateId::MRY: case GateId::R: case GateId::RX: case GateId::RY: {
        const bool records = op.gate != GateId::R && op.gate != GateId::RX && op.gate != GateId::RY;
        const bool reset = !(op.gate == GateId::M || op.gate == GateId::MX || op.gate == GateId::MY);
        for (const Target& t : ts) {
          const std::uint64_t d = draw_++;
          const bool r = measure(basis(op.gate), t.value, uniform01(seed_, shot_, d));
          if (records) {
            bool bit = r != t.inverted();
            if (flip > 0 && second_uniform(seed_, shot_, d) < flip) bit = !bit;
            record.push_back(bit);
          }
          if (reset && r) pauli(basis(op.gate) == 'Z' ? 'X' : 'Z', t.value);
        }
        return;
      }
      case GateId::MPAD:
        for (const Target& t : ts) {
          const std::uint64_t d = draw_++;
          bool bit = t.value != 0;
          if (flip > 0 && second_uniform(seed_, shot_, d) < flip) bit = !bit;
          record.push_back(bit);
        }
        return;
      case GateId::I_ERROR: case GateId::II_ERROR: return;
      case GateId::CORRELATED_ERROR: case GateId::ELSE_CORRELATED_ERROR: {
        const bool is_else = op.gate == GateId::ELSE_CORRELATED_ERROR;
        const bool allowed = !is_else || !fired_;
        const double u = uniform01(seed_, shot_, draw_++);  // drawn whether or not it may fire
        const bool fire = allowed && u < args[0];
        fired_ = (is_else && fired_) || fire;
        if (fire) {
          for (const Target& t : ts) pauli(t.pauli_char(), t.value);
        }
        return;
      }
      case GateId::HERALDED_ERASE: case GateId::HERALDED_PAULI_CHANNEL_1: {
        double w[4];
        for (int k = 0; k < 4; ++k) w[k] = op.gate == GateId::HERALDED_ERASE ? args[0] / 4 : args[static_cast<std::size_t>(k)];
        const double total = w[0] + w[1] + w[2] + w[3];
        for (const Target& t : ts) {
          const std::uint64_t d = draw_++;
          const bool herald = uniform01(seed_, shot_, d) < total;
          record.push_back(herald);
          if (!herald) continue;
          const double v = second_uniform(seed_, shot_, d) * total;
          double acc = 0;
          unsigned code = 3;
          for (unsigned k = 0; k < 4; ++k) {
            acc += w[k];
            if (v < acc) { code = k; break; }
          }
          pauli("IXYZ"[code], t.value);
        }
        return;
      }
      case GateId::BELL_PAIR:
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) {
          phi_plus(ts[i].value, ts[i + 1].value);
          const auto w = bell_pair_weights(args);
          PauliChannel ch;
          ch.probs = {w[0], w[1], w[2], w[3]};
          pauli_channel(ch, ts[i].value, 0);
        }
        return;
      case GateId::LINK:
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) link_pair(c, op, ts[i].value, ts[i + 1].value);
        return;
      default: break;
    }
    if (info.kind == GateKind::Unitary && info.group > 0) {
      const unsigned g = info.group;
      for (std::size_t i = 0; i + g <= ts.size(); i += g) {
        bool classical = false;
        for (unsigned j = 0; j < g; ++j) classical |= !ts[i + j].is_qubit();
        if (!classical) {
          std::vector<unsigned> qs;
          for (unsigned j = 0; j < g; ++j) qs.push_back(ts[i + j].value);
          sv_.apply_gate(op.gate, args, qs);
          continue;
        }
        const Target &a = ts[i], &b = ts[i + 1];
        const Target& ctl = a.is_qubit() ? b : a;
        const Target& tgt = a.is_qubit() ? a : b;
        if (!tgt.is_qubit() || ctl.is_sweep()) continue;
        if (ctl.value == 0 || ctl.value > record.size()) {
          throw error_at(c, op, fmt::format("rec[-{}] reaches before the first measurement", ctl.value));
        }
        if (!record[record.size() - ctl.value]) continue;
        char p = 'Z';
        if (op.gate == GateId::CX || op.gate == GateId::XCZ) p = 'X';
        if (op.gate == GateId::CY || op.gate == GateId::YCZ) p = 'Y';
        pauli(p, tgt.value);
      }
      return;
    }
    if (is_pauli_channel(op.gate)) {
      const PauliChannel ch = pauli_channel_of(op.gate, args);
      for (std::size_t i = 0; i + ch.qubits <= ts.size(); i += ch.qubits) {
        pauli_channel(ch, ts[i].value, ch.qubits == 2 ? ts[i + 1].value : 0);
      }
      return;
    }
    if (op.gate == GateId::AMPLITUDE_DAMP || op.gate == GateId::PHASE_DAMP || op.gate == GateId::IDLE ||
        op.gate == GateId::KRAUS1) {
      std::vector<std::vector<cd>> kraus;
      for (const Mat2d& k : kraus_of(op.gate, args, opt_)) {
        kraus.push_back({c64(k.m[0]), c64(k.m[1]), c64(k.m[2]), c64(k.m[3])});
      }
      for (const Target& t : ts) kraus_step(kraus, {t.value});
      return;
    }
    if (op.gate == GateId::KRAUS2) {
      const auto kraus = kraus_operators(op.gate, args);
      for (std::size_t i = 0; i + 1 < ts.size(); i += 2) kraus_step(kraus, {ts[i].value, ts[i + 1].value});
      return;
    }
    if (info.kind == GateKind::Annotation) return;
    throw error_at(c, op, fmt::format("{} is not supported on a state sharded over MPI ranks yet "
                                      "(unitaries, Z/X/Y measurements and resets, Pauli, heralded and "
                                      "Kraus channels, BELL_PAIR, LINK are); run it on one rank", info.name));
  }

 private:
  // Resets a and b (a measurement and a flip each, one draw each) and prepares |Phi+>.
  void phi_plus(unsigned a, unsigned b) {
    for (const unsigned q : {a, b}) {
      if (measure('Z', q, uniform01(seed_, shot_, draw_++))) pauli('X', q);
    }
    gate(GateId::H, {}, {a});
    gate(GateId::CX, {}, {a, b});
  }

  // LINK(name) a b as the batched trajectories run it (Executor::link_pair), with the same draws:
  // |Phi+>, this shot's delivered pair as a Pauli on a, then each other qubit's twirled wait.
  void link_pair(const Circuit& c, const Instruction& op, unsigned a, unsigned b) {
    const std::string& name = c.link_names.at(static_cast<std::size_t>(c.args(op)[0]));
    const CircuitLinks* links = opt_.links;
    const LinkDeliveries& d = link_deliveries_of(c, op, links, name);
    const std::uint64_t k = link_next_[name]++;
    const std::uint64_t s = shot_ - links->first_shot;
    phi_plus(a, b);
    PauliChannel ch;
    const double* w = d.state(s, k);
    ch.probs = {w[0], w[1], w[2], w[3]};
    pauli_channel(ch, a, 0);
    if (!links->waiting_decoheres()) return;
    const auto wait = waiting_pauli(*links, d.time(s, k));
    ch.probs = {wait[0], wait[1], wait[2], wait[3]};
    for (unsigned q = 0; q < sv_.num_qubits(); ++q) {
      if (q != a && q != b) pauli_channel(ch, q, 0);
    }
  }

  // Norm-weighted choice of a Kraus operator, with the batched engine's draw and rule
  // (kernels/batch.cu DecideKraus): u * total against the running sum; psi <- K psi / sqrt(p).
  void kraus_step(const std::vector<std::vector<cd>>& kraus, std::vector<unsigned> qs) {
    const std::size_t dim = qs.size() == 1 ? 2 : 4;
    std::vector<double> norms;
    for (const auto& k : kraus) {
      std::vector<cplx> m(dim * dim);
      for (std::size_t r = 0; r < dim; ++r)
        for (std::size_t c = 0; c < dim; ++c) {
          cd acc = 0;
          for (std::size_t j = 0; j < dim; ++j) acc += std::conj(k[j * dim + r]) * k[j * dim + c];
          m[r * dim + c] = {static_cast<real>(acc.real()), static_cast<real>(acc.imag())};
        }
      norms.push_back(sv_.kraus_norm(qs, m));
    }
    double total = 0;
    for (double x : norms) total += x;
    const double u = uniform01(seed_, shot_, draw_++) * total;
    double acc = 0;
    std::size_t pick = kraus.size() - 1;
    for (std::size_t i = 0; i < kraus.size(); ++i) {
      acc += norms[i];
      if (u < acc && norms[i] > 0) { pick = i; break; }
    }
    while (pick > 0 && !(norms[pick] > 0)) --pick;
    const double p = norms[pick] / total;
    const double scale = p > 0 ? 1 / std::sqrt(p) : 0;
    std::vector<cplx> m(dim * dim);
    for (std::size_t i = 0; i < dim * dim; ++i) {
      m[i] = {static_cast<real>(scale * kraus[pick][i].real()), static_cast<real>(scale * kraus[pick][i].imag())};
    }
    sv_.apply_matrix(static_cast<unsigned>(qs.size()), qs, m);
  }

  void gate(GateId g, std::vector<double> args, std::vector<unsigned> qs) { sv_.apply_gate(g, args, qs); }
  void pauli(char p, unsigned q) {
    if (p == 'X') gate(GateId::X, {}, {q});
    if (p == 'Y') gate(GateId::Y, {}, {q});
    if (p == 'Z') gate(GateId::Z, {}, {q});
  }
  // Measures qubit q in basis b: rotate to Z, measure (result 1 when u < P(1), as the batched
  // engine), rotate back.
  bool measure(char b, unsigned q, double u) {
    if (b == 'X') gate(GateId::H, {}, {q});
    if (b == 'Y') { gate(GateId::S_DAG, {}, {q}); gate(GateId::H, {}, {q}); }
    const bool r = sv_.measure(q, u) != 0;
    if (b == 'X') gate(GateId::H, {}, {q});
    if (b == 'Y') { gate(GateId::H, {}, {q}); gate(GateId::S, {}, {q}); }
    return r;
  }
  void pauli_channel(const PauliChannel& ch, unsigned q0, unsigned q1) {
    const double u = uniform01(seed_, shot_, draw_++);
    double acc = 0;
    for (unsigned c = 1; c < ch.probs.size(); ++c) {
      if (ch.probs[c] <= 0) continue;
      acc += ch.probs[c];
      if (u < acc) {
        pauli("IXYZ"[c & 3u], q0);
        if (ch.qubits == 2) pauli("IXYZ"[c >> 2], q1);
        return;
      }
    }
  }

  ShardedStateVector& sv_;
  std::uint64_t seed_, shot_, draw_ = 0;
  const DenseOptions& opt_;
  bool fired_ = false;
  std::map<std::string, std::uint64_t> link_next_;  // executions of LINK(name) so far in this shot
};

// This rank's slab in the natural order (global qubits back on top), for a collective write.
void keep_slab(ShardedStateVector& sv, DenseResult& res) {
  sv.canonicalize();
  res.state.resize(sv.slab_size());
  copy_to_host(res.state.data(), sv.slab(), res.state.size() * sizeof(cplx));
  res.state_is_slab = true;
  res.state_first = static_cast<std::uint64_t>(mpi::rank()) * sv.slab_size();
}

DenseResult run_sharded(const Circuit& circuit, const DenseOptions& opt, DenseResult res) {
  const std::uint32_t n = circuit.num_qubits();
  TerminalAnalysis terminal(n, Rep::StateVector);
  res.sampled_from_final_state = terminal.visit(circuit);
  res.batch = 1;
  if (res.sampled_from_final_state) {
    res.state_point = "before terminal measurements";
    ShardedStateVector sv(n);
    sv.relabel_initial(module_layout(n, opt.modules));
    ShardedShot(sv, opt.seed, 0, opt).run_unitaries(circuit);
    if (opt.keep_state) keep_slab(sv, res);
    for (std::uint32_t q = 0; q < n; ++q) {
      if (terminal.basis[q] == 2) sv.apply_gate(GateId::S_DAG, {}, std::vector<unsigned>{q});
      if (terminal.basis[q] == 1 || terminal.basis[q] == 2) sv.apply_gate(GateId::H, {}, std::vector<unsigned>{q});
    }
    const auto idx = sv.sample(opt.seed, opt.first_shot, opt.shots);
    const std::uint64_t M = terminal.records.size();
    std::vector<std::uint8_t> bits(opt.shots * M);
    for (std::uint64_t s = 0; s < opt.shots; ++s)
      for (std::uint64_t j = 0; j < M; ++j) {
        const auto& e = terminal.records[j];
        bits[s * M + j] = static_cast<std::uint8_t>(((idx[s] >> e.qubit) & 1u) ^ (e.inverted ? 1u : 0u));
      }
    pack_records(bits, opt.shots, M, 0, res.bytes_per_shot, res.measurements);
    return res;
  }
  res.state_point = "end of shot 0";
  const std::uint64_t total = std::max<std::uint64_t>(opt.shots, opt.keep_state ? 1 : 0);
  for (std::uint64_t s = 0; s < total; ++s) {
    ShardedStateVector sv(n);
    sv.relabel_initial(module_layout(n, opt.modules));
    ShardedShot shot(sv, opt.seed, opt.first_shot + s, opt);
    shot.run(circuit);
    if (s < opt.shots) pack_records(shot.record, 1, shot.record.size(), s, res.bytes_per_shot, res.measurements);
    if (s == 0 && opt.keep_state) keep_slab(sv, res);
    if (opt.progress && (s + 1) % 64 == 0) opt.progress(s + 1, opt.shots);
  }
  return res;
}


// ---- density matrix sharded over MPI ranks -----------------------------------------------------
// rho of n qubits is a 2n-bit ShardedStateVector (memory index ket + 2^n bra): its top bits, the
// global ones, are bra bits, so the ket bits stay local. Gates act as U on ket bit q and U* on bra
// bit n + q; channels as dense superoperators on (ket, bra) bits; a shot draws exactly as the
// batched density-matrix Executor does, so its records equal the single-rank `--engine dm` run.

std::vector<cplx> to_cplx_vector(const std::vector<cd>& s) {
  std::vector<cplx> out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = {static_cast<real>(s[i].real()), static_cast<real>(s[i].imag())};
  return out;
}

std::vector<cplx> superop_entries(const Mat4& m) { return std::vector<cplx>(m.m, m.m + 16); }

// sum_c p_c P_c (x) P_c*: 4 x 4 on (ket q, bra q) or 16 x 16 on (ket q0, ket q1, bra q0, bra q1).
std::vector<cplx> pauli_superop(const PauliChannel& ch) {
  const int d = ch.qubits == 1 ? 2 : 4;
  std::vector<cd> s(static_cast<std::size_t>(d * d * d * d), 0.0);
  for (unsigned code = 0; code < ch.probs.size(); ++code) {
    const double p = ch.probs[code];
    if (p == 0) continue;
    const Mat2d p0 = pauli2x2(code & 3u), p1 = pauli2x2(code >> 2);
    auto K = [&](int o, int i) {
      if (d == 2) return c64(p0.m[o * 2 + i]);
      return c64(p0.m[(o & 1) * 2 + (i & 1)]) * c64(p1.m[(o >> 1) * 2 + (i >> 1)]);
    };
    for (int ko = 0; ko < d; ++ko)
      for (int bo = 0; bo < d; ++bo)
        for (int ki = 0; ki < d; ++ki)
          for (int bi = 0; bi < d; ++bi)
            s[static_cast<std::size_t>((ko + d * bo) * d * d + ki + d * bi)] += p * K(ko, ki) * std::conj(K(bo, bi));
  }
  return to_cplx_vector(s);
}

// Kraus operators of a reset to the +1 eigenstate of basis b (as Executor::reset_channel).
std::vector<Mat2d> reset_kraus(char b) {
  if (b == 'Z') return {Mat2d{{{1, 0}, {0, 0}, {0, 0}, {0, 0}}}, Mat2d{{{0, 0}, {1, 0}, {0, 0}, {0, 0}}}};
  if (b == 'X') return {Mat2d{{{0.5, 0}, {0.5, 0}, {0.5, 0}, {0.5, 0}}}, Mat2d{{{0.5, 0}, {-0.5, 0}, {0.5, 0}, {-0.5, 0}}}};
  return {Mat2d{{{0.5, 0}, {0, -0.5}, {0, 0.5}, {0.5, 0}}}, Mat2d{{{0.5, 0}, {0, 0.5}, {0, 0.5}, {-0.5, 0}}}};
}

// The projectors (I +- P)/2 of basis b: a measurement whose outcome is forgotten.
std::vector<Mat2d> dephase_kraus(char b) {
  std::vector<Mat2d> out;
  for (const double s : {0.5, -0.5}) {
    Mat2d m = pauli2x2(b == 'X' ? 1u : b == 'Y' ? 2u : 3u);
    for (auto& e : m.m) e = {e.re * s, e.im * s};
    m.m[0] = {m.m[0].re + 0.5, m.m[0].im};
    m.m[3] = {m.m[3].re + 0.5, m.m[3].im};
    out.push_back(m);
  }
  return out;
}

class ShardedDensityShot {
 public:
  // averaging: collapses as their non-selective channels, no records (the exact averaged state).
  ShardedDensityShot(ShardedStateVector& rho, const DenseOptions& o, std::uint64_t shot, bool averaging)
      : rho_(rho), o_(o), n_(rho.num_qubits() / 2), shot_(shot), averaging_(averaging) {}
  std::vector<std::uint8_t> record;

  // skip_collapse: the deterministic part of a circuit whose measurements are all terminal.
  void run(const Circuit& c, bool skip_collapse = false) {
    for (const auto& op : c.instructions()) {
      if (op.gate == GateId::REPEAT) {
        for (std::uint64_t r = 0; r < op.repeat_count; ++r) run(c.block(op), skip_collapse);
      } else if (!(skip_collapse && gate_info(op.gate).kind == GateKind::Collapse)) {
        step(c, op);
      }
    }
  }

  void step(const Circuit& c, const Instruction& op) {
    const GateInfo& info = gate_info(op.gate);
    const auto ts = c.targets(op);
    const auto args = c.args(op);
    const double flip = args.empty() ? 0.0 : args[0];
    auto basis = [](GateId g) {
      if (g == GateId::MX || g == GateId::MRX || g == GateId::RX) return 'X';
      if (g == GateId::MY || g == GateId::MRY || g == GateId::RY) return 'Y';
      return 'Z';
    };
    switch (op.gate) {
      case GateId::M: case GateId::MX: case GateId::MY: case GateId::MR: case GateId::MRX:
      case GateId::MRY: case GateId::R: case GateId::RX: case GateId::RY: {
        const bool records = op.gate != GateId::R && op.gate != GateId::RX && op.gate != GateId::RY;
        const bool reset = !(op.gate == GateId::M || op.gate == GateId::MX || op.gate == GateId::MY);
        for (const Target& t : ts) {
          if (averaging_) {
            channel_1q(reset ? reset_kraus(basis(op.gate)) : dephase_kraus(basis(op.gate)), t.value);
            continue;
          }
          const std::uint64_t d = draw_++;
          const bool r = measure(basis(op.gate), t.value, uniform01(o_.seed, shot_, d));
          if (records) {
            bool bit = r != t.inverted();
            if (flip > 0 && second_uniform(o_.seed, shot_, d) < flip) bit = !bit;
            record.push_back(bit);
          }
          if (reset && r) pauli(basis(op.gate) == 'Z' ? 'X' : 'Z', t.value);
        }
        return;
      }
      case GateId::MPAD:
        if (averaging_) return;
        for (const Target& t : ts) {
          const std::uint64_t d = draw_++;
          bool bit = t.value != 0;
          if (flip > 0 && second_uniform(o_.seed, shot_, d) < flip) bit = !bit;
          record.push_back(bit);
        }
        return;
      case GateId::I_ERROR: case GateId::II_ERROR: return;
      case GateId::BELL_PAIR:
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) {
          const auto w = bell_pair_weights(args);
          PauliChannel ch;
          ch.probs = {w[0], w[1], w[2], w[3]};
          place_pair(ts[i].value, ts[i + 1].value, ch);
        }
        return;
      case GateId::LINK:
        // As the single-rank density matrix: the pair with the weights averaged over the shots.
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) {
          const std::string& name = c.link_names.at(static_cast<std::size_t>(args[0]));
          const LinkDeliveries& d = link_deliveries_of(c, op, o_.links, name);
          if (o_.links->waiting_decoheres() && n_ > 2) throw error_at(c, op, kLinkDensityWaitError);
          place_pair(ts[i].value, ts[i + 1].value, mean_link_channel(*o_.links, d, link_next_[name]++));
        }
        return;
      case GateId::KRAUS2: {
        const auto s = superop_2q(kraus_operators(op.gate, args));
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) {
          const unsigned q0 = ts[i].value, q1 = ts[i + 1].value;
          rho_.apply_matrix(4, std::vector<unsigned>{q0, q1, q0 + n_, q1 + n_}, s);
        }
        return;
      }
      case GateId::KRAUS1: case GateId::AMPLITUDE_DAMP: case GateId::PHASE_DAMP: case GateId::IDLE: {
        const auto kraus = kraus_of(op.gate, args, o_);
        for (const Target& t : ts) channel_1q(kraus, t.value);
        return;
      }
      default: break;
    }
    if (info.kind == GateKind::Unitary && info.group > 0) {
      const unsigned g = info.group;
      for (std::size_t i = 0; i + g <= ts.size(); i += g) {
        bool classical = false;
        for (unsigned j = 0; j < g; ++j) classical |= !ts[i + j].is_qubit();
        if (!classical) {
          std::vector<unsigned> qs;
          for (unsigned j = 0; j < g; ++j) qs.push_back(ts[i + j].value);
          gate(op.gate, std::vector<double>(args.begin(), args.end()), qs);
          continue;
        }
        const Target &a = ts[i], &b = ts[i + 1];
        const Target& ctl = a.is_qubit() ? b : a;
        const Target& tgt = a.is_qubit() ? a : b;
        if (!tgt.is_qubit() || ctl.is_sweep()) continue;  // no sweep data: sweep bits are 0
        if (averaging_) throw error_at(c, op, "classical feedback in an averaged run");  // not reached
        if (ctl.value == 0 || ctl.value > record.size()) {
          throw error_at(c, op, fmt::format("rec[-{}] reaches before the first measurement", ctl.value));
        }
        if (!record[record.size() - ctl.value]) continue;
        char p = 'Z';
        if (op.gate == GateId::CX || op.gate == GateId::XCZ) p = 'X';
        if (op.gate == GateId::CY || op.gate == GateId::YCZ) p = 'Y';
        pauli(p, tgt.value);
      }
      return;
    }
    if (is_pauli_channel(op.gate)) {
      const PauliChannel ch = pauli_channel_of(op.gate, args);
      const auto s = pauli_superop(ch);
      for (std::size_t i = 0; i + ch.qubits <= ts.size(); i += ch.qubits) {
        const unsigned q0 = ts[i].value;
        if (ch.qubits == 1) {
          rho_.apply_matrix(2, std::vector<unsigned>{q0, q0 + n_}, s);
        } else {
          const unsigned q1 = ts[i + 1].value;
          rho_.apply_matrix(4, std::vector<unsigned>{q0, q1, q0 + n_, q1 + n_}, s);
        }
      }
      return;
    }
    if (info.kind == GateKind::Annotation) return;
    throw error_at(c, op, fmt::format("{} is not supported on a density matrix sharded over MPI ranks "
                                      "yet (unitaries, Z/X/Y measurements and resets, MPAD, Pauli "
                                      "channels, AMPLITUDE_DAMP, PHASE_DAMP, IDLE, KRAUS1/2, "
                                      "BELL_PAIR and LINK are); run it on one rank", info.name));
  }

 private:
  // U on the ket bits, U* on the bra bits.
  void gate(GateId g, std::vector<double> args, std::vector<unsigned> qs) {
    rho_.apply_gate(g, args, qs, false);
    for (unsigned& q : qs) q += n_;
    rho_.apply_gate(g, args, qs, true);
  }
  void pauli(char p, unsigned q) {
    if (p == 'X') gate(GateId::X, {}, {q});
    if (p == 'Y') gate(GateId::Y, {}, {q});
    if (p == 'Z') gate(GateId::Z, {}, {q});
  }
  void channel_1q(const std::vector<Mat2d>& kraus, unsigned q) {
    rho_.apply_matrix(2, std::vector<unsigned>{q, q + n_}, superop_entries(superop_1q(kraus)));
  }
  // Resets a and b, prepares |Phi+>, then the Pauli channel ch on a (the pair's Bell weights).
  void place_pair(unsigned a, unsigned b, const PauliChannel& ch) {
    channel_1q(reset_kraus('Z'), a);
    channel_1q(reset_kraus('Z'), b);
    gate(GateId::H, {}, {a});
    gate(GateId::CX, {}, {a, b});
    rho_.apply_matrix(2, std::vector<unsigned>{a, a + n_}, pauli_superop(ch));
  }
  // Measures qubit q in basis b: rotate to Z on both sides, outcome 1 when u < P(1) as the batched
  // engine decides, project ket and bra bits and rescale by 1 / (the kept branch's own diagonal
  // mass), rotate back. Not 1 / (1 - p1): in single precision the trace drifts from 1 by rounding,
  // and 1 - p1 would carry that drift into every later measurement (1 - 4.4e-6 after five).
  bool measure(char b, unsigned q, double u) {
    if (b == 'X') gate(GateId::H, {}, {q});
    if (b == 'Y') { gate(GateId::S_DAG, {}, {q}); gate(GateId::H, {}, {q}); }
    const index_t bit = index_t{1} << q;
    const double p1 = std::clamp(rho_.diagonal_sum(bit, bit), 0.0, 1.0);
    const bool r = u < p1;
    const double pr = r ? p1 : rho_.diagonal_sum(bit, 0);
    rho_.project(q, r ? 1u : 0u, static_cast<real>(pr > 0 ? 1 / pr : 0));
    rho_.project(q + n_, r ? 1u : 0u, real(1));
    if (b == 'X') gate(GateId::H, {}, {q});
    if (b == 'Y') { gate(GateId::H, {}, {q}); gate(GateId::S, {}, {q}); }
    return r;
  }

  ShardedStateVector& rho_;
  const DenseOptions& o_;
  unsigned n_;
  std::uint64_t shot_, draw_ = 0;
  bool averaging_;
  std::map<std::string, std::uint64_t> link_next_;  // executions of LINK(name) so far in this shot
};

// Rank 0 gets the whole density matrix, row-major (row = ket) as the single-rank engine returns it;
// the other ranks an empty state (cmd_sim writes /state/density from rank 0). A first version: the
// whole 4^n entries pass through rank 0's host memory.
void keep_density(const ShardedStateVector& rho, unsigned n, DenseResult& res) {
  const std::vector<cplx> all = rho.gather_state();
  if (mpi::rank() == 0) res.state = density_to_row_major(all, n);
}

DenseResult run_sharded_density(const Circuit& circuit, const DenseOptions& opt, DenseResult res) {
  const std::uint32_t n = circuit.num_qubits();
  TerminalAnalysis terminal(n, Rep::DensityMatrix);
  res.sampled_from_final_state = terminal.visit(circuit);
  res.batch = 1;
  if (res.sampled_from_final_state) {
    res.state_point = "before terminal measurements";
    ShardedStateVector rho(2 * n);
    ShardedDensityShot(rho, opt, 0, false).run(circuit, true);
    if (opt.keep_state) keep_density(rho, n, res);
    for (std::uint32_t q = 0; q < n; ++q) {
      for (const GateId g : {GateId::S_DAG, GateId::H}) {
        if (terminal.basis[q] == 0 || terminal.basis[q] == 3) break;
        if (g == GateId::S_DAG && terminal.basis[q] != 2) continue;
        rho.apply_gate(g, {}, std::vector<unsigned>{q}, false);
        rho.apply_gate(g, {}, std::vector<unsigned>{q + n}, true);
      }
    }
    // The diagonal on every rank; shots sampled from it as batch::sample_diagonal does.
    const std::vector<double> diag = rho.diagonal();
    DeviceArray<double> w(diag.size());
    copy_to_device(w.data(), diag.data(), diag.size() * sizeof(double));
    const std::uint64_t chunk = std::uint64_t{1} << 20, M = terminal.records.size();
    std::vector<index_t> idx;
    std::vector<std::uint8_t> bits;
    for (std::uint64_t s0 = 0; s0 < opt.shots; s0 += chunk) {
      const std::uint64_t cnt = std::min(chunk, opt.shots - s0);
      idx.resize(cnt);
      shard::sample_weights(w.data(), diag.size(), opt.seed, opt.first_shot + s0, cnt, idx.data());
      bits.assign(cnt * M, 0);
      for (std::uint64_t s = 0; s < cnt; ++s)
        for (std::uint64_t j = 0; j < M; ++j) {
          const auto& e = terminal.records[j];
          bits[s * M + j] = static_cast<std::uint8_t>(((idx[s] >> e.qubit) & 1u) ^ (e.inverted ? 1u : 0u));
        }
      pack_records(bits, cnt, M, s0, res.bytes_per_shot, res.measurements);
      if (opt.progress) opt.progress(s0 + cnt, opt.shots);
    }
    return res;
  }
  res.state_point = "end of shot 0";
  const bool averaged = opt.keep_state && !has_feedback(circuit);
  if (averaged) {  // as the single-rank engine: the exact average over outcomes
    ShardedStateVector rho(2 * n);
    ShardedDensityShot(rho, opt, 0, true).run(circuit);
    keep_density(rho, n, res);
    res.state_point = "end of the circuit, averaged over measurement outcomes and heralds";
  }
  const std::uint64_t total = std::max<std::uint64_t>(opt.shots, opt.keep_state && !averaged ? 1 : 0);
  for (std::uint64_t s = 0; s < total; ++s) {
    ShardedStateVector rho(2 * n);
    ShardedDensityShot shot(rho, opt, opt.first_shot + s, false);
    shot.run(circuit);
    if (s < opt.shots) pack_records(shot.record, 1, shot.record.size(), s, res.bytes_per_shot, res.measurements);
    if (s == 0 && opt.keep_state && !averaged) keep_density(rho, n, res);
    if (opt.progress && (s + 1) % 64 == 0) opt.progress(s + 1, opt.shots);
  }
  return res;
}

}  // namespace

// ---- public ------------------------------------------------------------------------------------

std::vector<Mat2d> amplitude_damping_kraus(double g) {
  // Nielsen & Chuang, Eq. (8.108): K0 = [[1, 0], [0, sqrt(1-g)]], K1 = [[0, sqrt(g)], [0, 0]].
  return {Mat2d{{{1, 0}, {0, 0}, {0, 0}, {std::sqrt(1 - g), 0}}},
          Mat2d{{{0, 0}, {std::sqrt(g), 0}, {0, 0}, {0, 0}}}};
}

std::vector<Mat2d> phase_damping_kraus(double l) {
  // Nielsen & Chuang, Eq. (8.127): K0 = [[1, 0], [0, sqrt(1-l)]], K1 = [[0, 0], [0, sqrt(l)]].
  return {Mat2d{{{1, 0}, {0, 0}, {0, 0}, {std::sqrt(1 - l), 0}}},
          Mat2d{{{0, 0}, {0, 0}, {0, 0}, {std::sqrt(l), 0}}}};
}

std::vector<Mat2d> idle_kraus(double t, double t1, double t2) {
  // Amplitude damping gamma = 1 - e^{-t/T1} leaves coherence sqrt(1-gamma) = e^{-t/(2 T1)}; phase
  // damping lambda then multiplies it by sqrt(1-lambda) = e^{-t/T2 + t/(2 T1)}, so the coherence
  // decays as e^{-t/T2} in all: lambda = 1 - e^{-2t/T2 + t/T1} (needs T2 <= 2 T1).
  const double gamma = std::isinf(t1) ? 0.0 : 1 - std::exp(-t / t1);
  const double rate = (std::isinf(t2) ? 0.0 : 2 / t2) - (std::isinf(t1) ? 0.0 : 1 / t1);
  const double lambda = std::max(0.0, 1 - std::exp(-t * rate));
  const auto ad = amplitude_damping_kraus(gamma), pd = phase_damping_kraus(lambda);
  std::vector<Mat2d> out;
  for (const auto& p : pd)
    for (const auto& a : ad) {
      Mat2d m{};
      for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 2; ++c) {
          cd s = 0;
          for (int k = 0; k < 2; ++k) s += c64(p.m[r * 2 + k]) * c64(a.m[k * 2 + c]);
          m.m[r * 2 + c] = {s.real(), s.imag()};
        }
      out.push_back(m);
    }
  return out;
}

void apply_unitary(cplx* p, index_t n, GateId gate, std::span<const double> args,
                   std::span<const std::uint32_t> q, bool conjugate) {
  using F = GateAction::Form;
  GateAction a = gate_action(gate, args);
  if (conjugate) {
    for (auto& d : a.diag) d = conj(d);
    for (auto& e : a.m2.m) e = conj(e);
    for (auto& e : a.m4.m) e = conj(e);
  }
  index_t cm = 0;
  for (unsigned j = 0; j < a.controls; ++j) cm |= index_t{1} << q[j];
  const unsigned t0 = q.size() > a.controls ? q[a.controls] : 0;
  const unsigned t1 = q.size() > a.controls + 1 ? q[a.controls + 1] : 0;
  switch (a.form) {
    case F::Identity: return;
    case F::Pauli: {
      const index_t b = index_t{1} << t0;
      const std::uint8_t pc = a.pauli[0];
      const index_t x = (pc == 1 || pc == 2) ? b : 0, z = (pc == 2 || pc == 3) ? b : 0;
      // Y = i X Z; Y* = -i X Z.
      sv::apply_pauli(p, n, x, z, pc == 2 ? (conjugate ? 3u : 1u) : 0u, cm, cm);
      return;
    }
    case F::Diagonal1:
      sv::apply_1q_diagonal(p, n, t0, to_cplx(a.diag[0]), to_cplx(a.diag[1]), cm, cm);
      return;
    case F::Diagonal2: {
      const cplx d[4] = {to_cplx(a.diag[0]), to_cplx(a.diag[1]), to_cplx(a.diag[2]), to_cplx(a.diag[3])};
      sv::apply_2q_diagonal(p, n, t0, t1, d, cm, cm);
      return;
    }
#if !defined(QWEAVE_BACKEND_CUDA)
    // cpu: uncontrolled 2x2 / 4x4 matrices through the fused-block loops, which compute the same
    // products in the same order (FusedKernel.OneAndTwoQubitBlocksEqualTheGateKernelsBitForBit) and
    // vectorise; host memory is device memory here, so the matrix can live on the stack.
    case F::Matrix1:
    case F::Matrix2:
      if (cm == 0) {
        const unsigned k = a.form == F::Matrix1 ? 1u : 2u;
        const unsigned D = 1u << k;
        real m[2 * 16];
        for (unsigned r = 0; r < D; ++r)
          for (unsigned c = 0; c < D; ++c) {
            const cplx64 v = k == 1 ? a.m2.m[r * D + c] : a.m4.m[r * D + c];
            m[c * D + r] = static_cast<real>(v.re);
            m[D * D + c * D + r] = static_cast<real>(v.im);
          }
        const unsigned qs[2] = {t0, t1};
        sv::apply_dense(p, n, k, qs, m);
        return;
      }
      if (a.form == F::Matrix1) {
        sv::apply_1q(p, n, t0, to_kernel(a.m2), cm, cm);
      } else {
        sv::apply_2q(p, n, t0, t1, to_kernel(a.m4), cm, cm);
      }
      return;
#else
    case F::Matrix1: sv::apply_1q(p, n, t0, to_kernel(a.m2), cm, cm); return;
    case F::Matrix2: sv::apply_2q(p, n, t0, t1, to_kernel(a.m4), cm, cm); return;
#endif
    case F::Swap: sv::apply_swap(p, n, t0, t1, cm, cm); return;
  }
}

StateVector::StateVector(std::uint32_t n) : n_(n), amps_(index_t{1} << n) {
  sv::set_basis_state(amps_.data(), size(), 0);
}

std::vector<cplx> StateVector::to_host() const {
  std::vector<cplx> out(size());
  copy_to_host(out.data(), amps_.data(), size() * sizeof(cplx));
  return out;
}

void StateVector::from_host(std::span<const cplx> a) {
  copy_to_device(amps_.data(), a.data(), std::min<std::size_t>(a.size(), size()) * sizeof(cplx));
}

std::uint64_t dense_required_bytes(std::uint32_t n, Rep rep, std::uint64_t batch) {
  const std::uint64_t seg = segment_bytes(n, rep);
  const std::uint64_t entries = seg / sizeof(cplx);
  // batch segments + the prefix state + reduction scratch (1/128 of the entries, twice).
  return seg * (batch + 1) + entries / 128 * 8 * 2 * std::max<std::uint64_t>(1, batch) + (1u << 20);
}

std::vector<unsigned> module_layout(std::uint32_t n, const std::vector<std::vector<unsigned>>& modules) {
  std::vector<unsigned> order;
  std::vector<int> owner(n, -1);
  for (std::size_t m = 0; m < modules.size(); ++m) {
    for (unsigned q : modules[m]) {
      if (q >= n) {
        throw InputError(fmt::format("module {} names qubit {}, but the circuit has {} qubits (0-{})", m, q, n, n - 1));
      }
      if (owner[q] >= 0) throw InputError(fmt::format("qubit {} is in module {} and in module {}", q, owner[q], m));
      owner[q] = static_cast<int>(m);
      order.push_back(q);
    }
  }
  for (unsigned q = 0; q < n; ++q) {
    if (owner[q] < 0) order.push_back(q);
  }
  std::vector<unsigned> phys(n);
  for (unsigned p = 0; p < n; ++p) phys[order[p]] = p;
  return phys;
}

namespace {
// Gates on the given qubits that are not diagonal (each may need an exchange when sharded).
// Per TICK layer of the top level (REPEAT bodies counted as their own layers, times their count):
// the number of targets of non-diagonal operations on qubits that start out global.
void global_touches_per_layer(const Circuit& c, const std::vector<bool>& global, std::vector<std::uint64_t>& layers,
                              std::uint64_t times = 1) {
  if (layers.empty()) layers.push_back(0);
  for (const auto& op : c.instructions()) {
    if (op.gate == GateId::REPEAT) {
      std::vector<std::uint64_t> inner;
      global_touches_per_layer(c.block(op), global, inner);
      for (std::uint64_t x : inner) layers.push_back(x * op.repeat_count * times);
      layers.push_back(0);
      continue;
    }
    if (op.gate == GateId::TICK) {
      layers.push_back(0);
      continue;
    }
    const GateInfo& info = gate_info(op.gate);
    if (info.kind == GateKind::Annotation) continue;
    if (info.kind == GateKind::Unitary && info.group > 0) {
      const auto form = gate_action(op.gate, c.args(op)).form;
      if (form == GateAction::Form::Diagonal1 || form == GateAction::Form::Diagonal2 ||
          op.gate == GateId::Z || op.gate == GateId::CZ || op.gate == GateId::CCZ) {
        continue;
      }
    }
    for (const Target& t : c.targets(op)) {
      if (t.is_qubit() && !t.is_combiner() && t.value < global.size() && global[t.value]) layers.back() += times;
    }
  }
}

}  // namespace

std::string dense_plan(const Circuit& circuit, const DenseOptions& opt) {
  const Rep rep = opt.representation;
  const bool dm = rep == Rep::DensityMatrix;
  const std::uint32_t n = circuit.num_qubits();
  const std::uint64_t ranks = static_cast<std::uint64_t>(mpi::size());
  const std::uint64_t avail = opt.memory_limit_bytes ? opt.memory_limit_bytes : device_available_bytes();
  std::string out = fmt::format("plan: {} qubits, {} ({} precision), backend {}, {} rank{}\n", n,
                                dm ? "density matrix" : "state vector", kPrecisionName, backend_name(),
                                ranks, ranks == 1 ? "" : "s");
  const std::uint64_t seg = n <= (dm ? 31u : 62u) ? segment_bytes(n, rep) : ~std::uint64_t{0};
  out += fmt::format("  state: {} ({} entries of {} bytes)\n", human(seg), seg / sizeof(cplx), sizeof(cplx));
  TerminalAnalysis terminal(n, rep);
  const bool sampled = terminal.visit(circuit);
  if (opt.shard) {
    unsigned k = 0;
    while ((std::uint64_t{1} << k) < ranks) ++k;
    if ((std::uint64_t{1} << k) != ranks) {
      out += fmt::format("  sharded: impossible: {} ranks is not a power of two\n", ranks);
      return out;
    }
    const std::uint64_t slab = seg >> k;
    const std::uint64_t chunk = std::min<std::uint64_t>(slab / 2 / sizeof(cplx), std::uint64_t{1} << 24) * sizeof(cplx);
    out += fmt::format("  sharded over {} ranks: slab {} per rank, exchange buffers 2 x {}\n", ranks, human(slab), human(chunk));
    if (k > 0 && dm) {
      out += fmt::format("  global bits: the bra bits of qubits {}-{} (the top {} of the 2n = {} bits); every "
                         "ket bit stays local, so ket-side gates never exchange\n", n - k, n - 1, k, 2 * n);
    } else if (k > 0) {
      const std::vector<unsigned> phys = module_layout(n, opt.modules);
      std::vector<bool> global(n, false);
      std::string names;
      for (unsigned q = 0; q < n; ++q) {
        if (phys[q] >= n - k) {
          global[q] = true;
          names += fmt::format("{}{}", names.empty() ? "" : ",", q);
        }
      }
      out += fmt::format("  global qubits (start): {} (top {} physical bits{})\n", names, k,
                         opt.modules.empty() ? "" : "; modules placed in the order given, the first local");
      for (std::size_t m = 0; m < opt.modules.size(); ++m) {
        unsigned g = 0;
        for (unsigned q : opt.modules[m]) g += global[q] ? 1u : 0u;
        out += fmt::format("    module {} ({} qubits): {}\n", m, opt.modules[m].size(),
                           g == 0 ? std::string("local") : fmt::format("{} of its qubits global", g));
      }
      std::vector<std::uint64_t> layers;
      global_touches_per_layer(circuit, global, layers);
      std::uint64_t total = 0, worst = 0, busy = 0;
      for (std::uint64_t x : layers) {
        total += x;
        worst = std::max(worst, x);
        busy += x > 0 ? 1 : 0;
      }
      out += fmt::format("  non-diagonal operations on qubits that start global: {} in {} of {} layers (at most "
                         "{} in one); each may exchange half a slab, {} per rank each way, fewer with the lazy "
                         "layout: at most {} per rank per layer\n", total, busy, layers.size(), worst,
                         human(slab / 2), human(worst * (slab / 2)));
    }
    out += fmt::format("  memory per rank: {} needed, {} available{}\n", human(slab + slab / 64 + 2 * chunk),
                       human(avail), slab + slab / 64 + 2 * chunk > avail ? "  -- DOES NOT FIT" : "");
  } else {
    const std::uint64_t need = dense_required_bytes(n, rep, 1);
    out += fmt::format("  every rank holds the whole {}; shots split between {} rank{}\n",
                       dm ? "density matrix" : "state", ranks, ranks == 1 ? "" : "s");
    out += fmt::format("  memory per rank: {} needed (state, working copy, scratch), {} available{}\n",
                       human(need), human(avail), need > avail ? "  -- DOES NOT FIT" : "");
  }
  out += sampled ? "  shots: all measurements terminal: one run, every shot sampled from the final state\n"
                 : "  shots: run one by one (mid-circuit measurement, feedback or noise), in batches\n";
  if (!opt.fusion || opt.shard) {
    out += opt.shard ? "  fusion: none (not on a sharded state yet)\n" : "  fusion: off (--no-fusion)\n";
    return out;
  }
  // Gate applications fused, and the passes that replace them (REPEAT bodies times their count).
  const FusionOptions fo = fusion_options(opt, rep, sampled);
  std::uint64_t gates = 0, passes = 0, diagonal = 0, single = 0;
  std::vector<std::uint64_t> dense(fused::kMaxDenseQubits + 1, 0);
  std::function<void(const Circuit&, std::uint64_t)> visit = [&](const Circuit& c, std::uint64_t times) {
    for (const auto& op : c.instructions()) {
      if (op.gate == GateId::REPEAT) visit(c.block(op), times * op.repeat_count);
    }
    for (const FusedRun& r : fuse_block(c, fo)) {
      for (const FusedStep& st : r.steps) {
        gates += st.gates * times;
        passes += times;
        if (st.kind == FusedStep::Kind::Gate) single += times;
        if (st.kind == FusedStep::Kind::Diagonal) diagonal += times;
        if (st.kind == FusedStep::Kind::Dense) dense[st.qubits.size()] += times;
      }
    }
  };
  visit(circuit, 1);
  std::string sizes;
  for (std::size_t k = 2; k < dense.size(); ++k) {
    if (dense[k]) sizes += fmt::format("{}{} of {} qubits", sizes.empty() ? "" : ", ", dense[k], k);
  }
  out += fmt::format("  fusion: {} gate applications in fused runs become {} passes: {} dense blocks ({}), "
                     "{} diagonal, {} gates on their own (largest dense block {} qubits{})\n", gates, passes,
                     passes - diagonal - single, sizes.empty() ? "none" : sizes, diagonal, single,
                     fo.max_dense_qubits, dm ? ", as U (x) U* on ket and bra bits" : "");
  return out;
}

DenseResult run_dense(const Circuit& circuit, const DenseOptions& opt) {
  check_supported(circuit, opt);
  const Rep rep = opt.representation;
  const bool dm = rep == Rep::DensityMatrix;
  if (!(opt.t1_s > 0) || !(opt.t2_s > 0)) {
    throw InputError(fmt::format("coherence times must be positive, got T1 = {} s, T2 = {} s", opt.t1_s, opt.t2_s));
  }
  if (opt.t2_s > 2 * opt.t1_s) {
    throw InputError(fmt::format("T2 = {} s exceeds 2 T1 = {} s, which no physical qubit allows",
                                 opt.t2_s, 2 * opt.t1_s));
  }
  DenseResult res;
  const std::uint32_t n = circuit.num_qubits();
  res.num_qubits = n;
  res.num_measurements = circuit.num_measurements();
  res.bytes_per_shot = (res.num_measurements + 7) / 8;

  const std::uint32_t limit_qubits = dm ? kMaxQubits / 2 : kMaxQubits;
  if (n > limit_qubits) {
    throw InputError(fmt::format("a {} of {} qubits cannot be addressed (at most {} qubits)",
                                 dm ? "density matrix" : "state", n, limit_qubits));
  }
  const std::uint64_t avail = opt.memory_limit_bytes ? opt.memory_limit_bytes : device_available_bytes();
  const std::uint64_t need1 = dense_required_bytes(n, rep, 1);
  if (opt.shard) {
    const std::uint64_t ranks = static_cast<std::uint64_t>(mpi::size());
    const std::uint64_t slab = segment_bytes(n, rep) / std::max<std::uint64_t>(1, ranks);
    const std::uint64_t chunk = std::min<std::uint64_t>(slab / 2, (std::uint64_t{1} << 24) * sizeof(cplx));
    const std::uint64_t per_rank = slab + slab / 64 + 2 * chunk + (1u << 20);
    if (per_rank > avail) {
      throw InputError(fmt::format("a {}-qubit state over {} ranks needs {} per rank (slab {} plus exchange "
                                   "buffers), {} available", n, ranks, human(per_rank), human(slab), human(avail)));
    }
  } else if (need1 > avail) {
    throw InputError(fmt::format(
        "a {}-qubit {} needs {} ({} of {}-bit complex entries plus a working copy), {} available "
        "on the {} backend", n, dm ? "density matrix" : "state", gib(need1), gib(segment_bytes(n, rep)),
        16 * sizeof(real), gib(avail), backend_name()));
  }
  const long double record_bytes = static_cast<long double>(opt.shots) * res.bytes_per_shot;
  if (record_bytes > static_cast<long double>(avail) / 2) {
    throw InputError(fmt::format("{} shots of {} measurement bits need {:.1f} GiB for the records, "
                                 "more than half of the {} available; run fewer shots per call",
                                 opt.shots, res.num_measurements, record_bytes / 1073741824.0, gib(avail)));
  }
  res.measurements.assign(opt.shots * res.bytes_per_shot, 0);
  if (opt.shard) {
    return dm ? run_sharded_density(circuit, opt, std::move(res)) : run_sharded(circuit, opt, std::move(res));
  }

  TerminalAnalysis terminal(n, rep);
  const bool sampled = terminal.visit(circuit);
  res.sampled_from_final_state = sampled;

  const index_t L = segment_bytes(n, rep) / sizeof(cplx);
  if (sampled) {
    res.state_point = "before terminal measurements";
    // One run of the deterministic part, then every shot sampled from the final state.
    Executor ex(opt, rep, n, 1, 0);
    ex.begin_zero();
    ex.run(circuit, 0, true);
    std::vector<cplx> host;
    if (opt.keep_state) {
      host.resize(L);
      copy_to_host(host.data(), ex.amps(), L * sizeof(cplx));
      res.state = dm ? density_to_row_major(host, n) : host;
    }
    // Rotate X- and Y-measured qubits so that a Z-basis sample measures them.
    for (std::uint32_t q = 0; q < n; ++q) {
      for (const GateId g : {GateId::S_DAG, GateId::H}) {
        if (terminal.basis[q] == 0 || terminal.basis[q] == 3) break;
        if (g == GateId::S_DAG && terminal.basis[q] != 2) continue;
        std::uint32_t qs[1] = {q};
        apply_unitary(ex.amps(), L, g, {}, qs);
        if (dm) {
          qs[0] = q + n;
          apply_unitary(ex.amps(), L, g, {}, qs, true);
        }
      }
    }
    const std::uint64_t chunk = std::uint64_t{1} << 20;
    std::vector<index_t> idx;
    std::vector<std::uint8_t> bits;
    for (std::uint64_t s0 = 0; s0 < opt.shots; s0 += chunk) {
      const std::uint64_t cnt = std::min(chunk, opt.shots - s0);
      idx.resize(cnt);
      if (dm) {
        batch::sample_diagonal(ex.amps(), n, opt.seed, opt.first_shot + s0, cnt, idx.data());
      } else {
        sv::sample_indices(ex.amps(), L, opt.seed, opt.first_shot + s0, cnt, idx.data());
      }
      const std::uint64_t M = terminal.records.size();
      bits.assign(cnt * M, 0);
      for (std::uint64_t s = 0; s < cnt; ++s)
        for (std::uint64_t j = 0; j < M; ++j) {
          const auto& e = terminal.records[j];
          bits[s * M + j] = static_cast<std::uint8_t>(((idx[s] >> e.qubit) & 1u) ^ (e.inverted ? 1u : 0u));
        }
      pack_records(bits, cnt, M, s0, res.bytes_per_shot, res.measurements);
      if (opt.progress) opt.progress(s0 + cnt, opt.shots);
    }
    return res;
  }

  // Shot by shot, in batches. The deterministic prefix runs once and seeds every batch.
  res.state_point = "end of shot 0";
  const bool averaged_state = dm && opt.keep_state && !has_feedback(circuit);
  if (averaged_state) {
    // The exact final density matrix: measurements and heralds as their non-selective channels.
    Executor avg(opt, rep, n, 1, 0);
    avg.set_averaging(true);
    avg.begin_zero();
    avg.run(circuit);
    std::vector<cplx> host(L);
    copy_to_host(host.data(), avg.amps(), L * sizeof(cplx));
    res.state = density_to_row_major(host, n);
    res.state_point = "end of the circuit, averaged over measurement outcomes and heralds";
  }
  const auto ops = circuit.instructions();
  std::size_t prefix = 0;
  for (; prefix < ops.size(); ++prefix) {
    const auto& op = ops[prefix];
    if (op.gate == GateId::REPEAT || op.gate == GateId::CORRELATED_ERROR) break;
    const GateInfo& info = gate_info(op.gate);
    const bool deterministic = info.kind == GateKind::Annotation ||
                               (info.kind == GateKind::Unitary) ||
                               (dm && exact_on_density(op.gate) && op.gate != GateId::ELSE_CORRELATED_ERROR);
    if (!deterministic) break;
    bool classical = false;
    for (const Target& t : circuit.targets(op)) classical |= t.is_rec() || t.is_sweep();
    if (classical) break;
  }
  const std::uint64_t total = std::max<std::uint64_t>(opt.shots, opt.keep_state && !averaged_state ? 1 : 0);
  const std::uint64_t seg = segment_bytes(n, rep);
  std::uint64_t budget = std::min<std::uint64_t>(avail / 4, std::uint64_t{1} << 30);
  std::uint64_t B = std::max<std::uint64_t>(1, budget / (seg * (dm ? 2 : 1)));
  B = std::min<std::uint64_t>(B, std::max<std::uint64_t>(1, total));
  if (opt.max_batch) B = std::min(B, opt.max_batch);
  while (B > 1 && dense_required_bytes(n, rep, B) + (dm ? seg * B : 0) > avail) B /= 2;
  res.batch = B;

  DeviceArray<cplx> start(L);
  {
    Executor pre(opt, rep, n, 1, 0);
    pre.begin_zero();
    pre.run(circuit, 0, false, prefix);
    copy_device_to_device(start.data(), pre.amps(), L * sizeof(cplx));
  }
  Executor ex(opt, rep, n, B, res.num_measurements);
  std::vector<std::uint8_t> bytes;
  for (std::uint64_t first = 0; first < total; first += B) {
    const std::uint64_t cnt = std::min<std::uint64_t>(B, total - first);
    ex.begin(cnt, opt.first_shot + first, start.data());
    ex.run(circuit, prefix);
    if (first < opt.shots && res.num_measurements > 0) {
      const std::uint64_t keep = std::min<std::uint64_t>(cnt, opt.shots - first);
      bytes.resize(keep * res.num_measurements);
      copy_to_host(bytes.data(), ex.record().data(), bytes.size());
      pack_records(bytes, keep, res.num_measurements, first, res.bytes_per_shot, res.measurements);
    }
    if (first == 0 && opt.keep_state && !averaged_state) {  // the batch's first shot
      std::vector<cplx> host(L);
      copy_to_host(host.data(), ex.amps(), L * sizeof(cplx));
      res.state = dm ? density_to_row_major(host, n) : host;
    }
    if (opt.progress) opt.progress(std::min<std::uint64_t>(first + cnt, opt.shots), opt.shots);
  }
  return res;
}

}  // namespace qw
