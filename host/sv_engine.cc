#include "host/sv_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <fmt/format.h>

#include "host/errors.h"
#include "kernels/rng.h"
#include "kernels/statevec.h"

namespace qw {
namespace {

constexpr std::uint32_t kMaxQubits = 62;

std::string gib(std::uint64_t bytes) { return fmt::format("{:.1f} GiB", bytes / 1073741824.0); }

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
    PauliProduct f;
    if (p == 'X' || p == 'Y') f.x = b;
    if (p == 'Z' || p == 'Y') f.z = b;
    if (p == 'Y') f.k = 1;
    // (i^k1 X^x1 Z^z1)(i^k2 X^x2 Z^z2) = i^(k1+k2) (-1)^|z1 & x2| X^(x1^x2) Z^(z1^z2)
    k = (k + f.k + 2 * popcount64(z & f.x)) & 3u;
    x ^= f.x;
    z ^= f.z;
  }
  // Hermitian iff i^k X^x Z^z squares to +I: k - |x & z| even.
  bool hermitian() const { return ((k + 4 - (popcount64(x & z) & 3u)) & 1u) == 0; }
};

// Splits Pauli-product targets (X0*Y1 Z2) into products.
std::vector<PauliProduct> products_of(std::span<const Target> ts) {
  std::vector<PauliProduct> out;
  bool join = false;
  for (const Target& t : ts) {
    if (t.is_combiner()) {
      join = true;
      continue;
    }
    if (!join || out.empty()) out.emplace_back();
    join = false;
    out.back().multiply(t.pauli_char(), t.value);
    out.back().inverted ^= t.inverted();
  }
  return out;
}

struct RecordEntry {
  std::uint32_t qubit;
  bool inverted;
};

// If every measurement is a terminal single-qubit measurement (nothing acts on a qubit after it
// is measured, no resets, no classical control, no noise), returns the record layout and fills
// basis[q] (0 none, 1 X, 2 Y, 3 Z); otherwise nullopt.
class TerminalAnalysis {
 public:
  explicit TerminalAnalysis(std::uint32_t n) : basis(n, 0) {}
  std::vector<std::uint8_t> basis;
  std::vector<RecordEntry> records;

  bool visit(const Circuit& c) {
    for (const auto& op : c.instructions()) {
      if (op.gate == GateId::REPEAT) {
        // Two iterations expose every conflict a later iteration could have.
        const std::uint64_t reps = op.repeat_count;
        for (std::uint64_t r = 0; r < reps; ++r) {
          if (!visit(c.block(op))) return false;
          if (r >= 1 && !c.block(op).has_kind(GateKind::Collapse)) break;
        }
        continue;
      }
      const GateInfo& info = gate_info(op.gate);
      const auto ts = c.targets(op);
      switch (info.kind) {
        case GateKind::Annotation: break;
        case GateKind::Unitary:
          for (const Target& t : ts) {
            if (!t.is_qubit() || t.pauli_char() || basis[t.value] != 0) return false;
          }
          break;
        case GateKind::Collapse: {
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
          break;
        }
        default: return false;
      }
    }
    return true;
  }
};

void check_supported(const Circuit& c) {
  for (const auto& op : c.instructions()) {
    if (op.gate == GateId::REPEAT) {
      check_supported(c.block(op));
      continue;
    }
    const GateInfo& info = gate_info(op.gate);
    if (info.kind == GateKind::Noise && op.gate != GateId::I_ERROR && op.gate != GateId::II_ERROR) {
      throw error_at(c, op, fmt::format("{} is a noise channel; the noiseless sv engine does not run "
                                        "noise channels yet (they come with the noise engines)",
                                        info.name));
    }
    if (info.flags & kTargetsPauliProducts) {
      for (const auto& p : products_of(c.targets(op))) {
        if (info.kind != GateKind::Annotation && !p.hermitian()) {
          throw error_at(c, op, fmt::format("{} product is anti-Hermitian (a qubit appears with "
                                            "anticommuting Paulis)", info.name));
        }
      }
    }
  }
}

// Runs instructions for one shot.
struct ShotRunner {
  StateVector& sv;
  RngStream rng;
  std::vector<std::uint8_t> record;
  const Circuit* top;

  bool rec_bit(const Circuit& c, const Instruction& op, const Target& t) const {
    if (t.is_sweep()) return false;  // no sweep data: sweep bits are 0
    if (t.value == 0 || t.value > record.size()) {
      throw error_at(c, op, fmt::format("rec[-{}] reaches before the first measurement", t.value));
    }
    return record[record.size() - t.value] != 0;
  }

  void add_result(bool bit, std::span<const double> args) {
    if (!args.empty() && args[0] > 0 && rng.uniform() < args[0]) bit = !bit;
    record.push_back(bit ? 1 : 0);
  }

  bool measure(const PauliProduct& p) { return sv.measure_pauli(p.x, p.z, p.k, rng.uniform()); }

  static PauliProduct single(char p, std::uint32_t q) {
    PauliProduct pp;
    pp.multiply(p, q);
    return pp;
  }

  void flip_to_plus(char basis, std::uint32_t q) {
    // An anticommuting Pauli maps the -1 eigenstate to the +1 eigenstate.
    const std::uint32_t qs[1] = {q};
    sv.apply_gate(basis == 'Z' ? GateId::X : GateId::Z, {}, qs);
  }

  void run(const Circuit& c) {
    for (const auto& op : c.instructions()) {
      if (op.gate == GateId::REPEAT) {
        for (std::uint64_t r = 0; r < op.repeat_count; ++r) run(c.block(op));
        continue;
      }
      step(c, op);
    }
  }

  void step(const Circuit& c, const Instruction& op) {
    const GateInfo& info = gate_info(op.gate);
    const auto ts = c.targets(op);
    const auto args = c.args(op);
    switch (op.gate) {
      case GateId::M: case GateId::MX: case GateId::MY:
      case GateId::MR: case GateId::MRX: case GateId::MRY: {
        const char b = (op.gate == GateId::MX || op.gate == GateId::MRX) ? 'X'
                     : (op.gate == GateId::MY || op.gate == GateId::MRY) ? 'Y' : 'Z';
        const bool reset = op.gate == GateId::MR || op.gate == GateId::MRX || op.gate == GateId::MRY;
        for (const Target& t : ts) {
          const bool r = measure(single(b, t.value));
          add_result(r ^ t.inverted(), args);
          if (reset && r) flip_to_plus(b, t.value);
        }
        return;
      }
      case GateId::R: case GateId::RX: case GateId::RY: {
        const char b = op.gate == GateId::RX ? 'X' : op.gate == GateId::RY ? 'Y' : 'Z';
        for (const Target& t : ts) {
          if (measure(single(b, t.value))) flip_to_plus(b, t.value);
        }
        return;
      }
      case GateId::MXX: case GateId::MYY: case GateId::MZZ: {
        const char b = op.gate == GateId::MXX ? 'X' : op.gate == GateId::MYY ? 'Y' : 'Z';
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) {
          PauliProduct p = single(b, ts[i].value);
          p.multiply(b, ts[i + 1].value);
          add_result(measure(p) ^ ts[i].inverted() ^ ts[i + 1].inverted(), args);
        }
        return;
      }
      case GateId::MPP:
        for (const auto& p : products_of(ts)) add_result(measure(p) ^ p.inverted, args);
        return;
      case GateId::MPAD:
        for (const Target& t : ts) add_result(t.value != 0, args);
        return;
      case GateId::SPP: case GateId::SPP_DAG: {
        // SPP(P) = (1+i)/2 I + (1-i)/2 P: the S gate in P's eigenbasis (Stim's convention).
        const real hf = real(0.5);
        for (const auto& p : products_of(ts)) {
          const bool dag = (op.gate == GateId::SPP_DAG) != p.inverted;
          const cplx a{hf, dag ? -hf : hf}, b{hf, dag ? hf : -hf};
          combine_pauli(sv.data(), sv.size(), p.x, p.z, p.k, a, b);
        }
        return;
      }
      default: break;
    }
    if (info.kind == GateKind::Unitary) {
      unitary(c, op, info, ts, args);
    }
    // Annotations and identity channels: nothing to do.
  }

  static void combine_pauli(cplx* a, index_t n, index_t x, index_t z, unsigned k, cplx al,
                            cplx be) {
    sv::combine_pauli(a, n, x, z, k, al, be);
  }

  void unitary(const Circuit& c, const Instruction& op, const GateInfo& info,
               std::span<const Target> ts, std::span<const double> args) {
    const unsigned g = info.group;
    std::uint32_t qs[8];
    for (std::size_t i = 0; i + g <= ts.size(); i += g) {
      bool classical = false;
      for (unsigned j = 0; j < g; ++j) classical |= !ts[i + j].is_qubit();
      if (!classical) {
        for (unsigned j = 0; j < g; ++j) qs[j] = ts[i + j].value;
        sv.apply_gate(op.gate, args, {qs, g});
        continue;
      }
      // Classically controlled Pauli: the rec/sweep side is the Z control.
      const Target &a = ts[i], &b = ts[i + 1];
      const bool a_classical = !a.is_qubit();
      const Target& ctl = a_classical ? a : b;
      const Target& tgt = a_classical ? b : a;
      if (!tgt.is_qubit()) continue;  // both classical: only a phase
      if (!rec_bit(c, op, ctl)) continue;
      GateId p = GateId::Z;
      if (op.gate == GateId::CX || op.gate == GateId::XCZ) p = GateId::X;
      if (op.gate == GateId::CY || op.gate == GateId::YCZ) p = GateId::Y;
      const std::uint32_t q1[1] = {tgt.value};
      sv.apply_gate(p, {}, q1);
    }
  }
};

std::uint64_t state_bytes(std::uint32_t n) { return (std::uint64_t{1} << n) * sizeof(cplx); }

void check_fits(std::uint32_t n, bool per_shot, std::uint64_t limit) {
  if (n > kMaxQubits) {
    throw InputError(fmt::format("a state of {} qubits cannot be addressed (at most {} qubits)", n,
                                 kMaxQubits));
  }
  const std::uint64_t need = sv_required_bytes(n, per_shot);
  const std::uint64_t avail = limit ? limit : device_available_bytes();
  if (need > avail) {
    throw InputError(fmt::format(
        "a {}-qubit state needs {} ({} of {}-bit complex amplitudes{}), {} available on the {} "
        "backend", n, gib(need), gib(state_bytes(n)), 16 * sizeof(real),
        per_shot ? " plus a copy for per-shot runs" : "", gib(avail), backend_name()));
  }
}

void pack_record(const std::vector<std::uint8_t>& bits, std::uint8_t* row) {
  for (std::size_t j = 0; j < bits.size(); ++j) {
    if (bits[j]) row[j / 8] |= static_cast<std::uint8_t>(1u << (j % 8));
  }
}

}  // namespace

std::uint64_t sv_required_bytes(std::uint32_t n, bool per_shot) {
  const std::uint64_t s = state_bytes(n);
  const std::uint64_t scratch = (std::uint64_t{1} << n) / 128 * 8 * 2 + (std::uint64_t{1} << n) / 1024 * 16;
  return s * (per_shot ? 2 : 1) + scratch + (1u << 20);
}

StateVector::StateVector(std::uint32_t n) : n_(n), amps_(index_t{1} << n) { set_basis(0); }

void StateVector::set_basis(index_t basis) { sv::set_basis_state(amps_.data(), size(), basis); }

void StateVector::copy_from(const StateVector& o) { sv::copy(amps_.data(), o.amps_.data(), size()); }

std::vector<cplx> StateVector::to_host() const {
  std::vector<cplx> out(size());
  copy_to_host(out.data(), amps_.data(), size() * sizeof(cplx));
  return out;
}

void StateVector::from_host(std::span<const cplx> a) {
  copy_to_device(amps_.data(), a.data(), std::min<std::size_t>(a.size(), size()) * sizeof(cplx));
}

void StateVector::apply_gate(GateId gate, std::span<const double> args,
                             std::span<const std::uint32_t> q) {
  using F = GateAction::Form;
  const GateAction a = gate_action(gate, args);
  index_t cm = 0;
  for (unsigned j = 0; j < a.controls; ++j) cm |= index_t{1} << q[j];
  const unsigned t0 = q.size() > a.controls ? q[a.controls] : 0;
  const unsigned t1 = q.size() > a.controls + 1 ? q[a.controls + 1] : 0;
  cplx* p = amps_.data();
  const index_t n = size();
  switch (a.form) {
    case F::Identity: return;
    case F::Pauli: {
      const index_t b = index_t{1} << t0;
      const std::uint8_t pc = a.pauli[0];
      const index_t x = (pc == 1 || pc == 2) ? b : 0, z = (pc == 2 || pc == 3) ? b : 0;
      sv::apply_pauli(p, n, x, z, pc == 2 ? 1u : 0u, cm, cm);
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
    case F::Matrix1: sv::apply_1q(p, n, t0, to_kernel(a.m2), cm, cm); return;
    case F::Matrix2: sv::apply_2q(p, n, t0, t1, to_kernel(a.m4), cm, cm); return;
    case F::Swap: sv::apply_swap(p, n, t0, t1, cm, cm); return;
  }
}

bool StateVector::measure_pauli(index_t x, index_t z, unsigned k, double u) {
  const double e = std::clamp(sv::expectation_pauli(amps_.data(), size(), x, z, k), -1.0, 1.0);
  const double p1 = (1.0 - e) / 2;  // probability of result 1 (eigenvalue -1)
  const bool r = u < p1;
  const double pr = r ? p1 : 1.0 - p1;
  sv::project_pauli(amps_.data(), size(), x, z, k, r ? -1 : 1, static_cast<real>(1.0 / std::sqrt(pr)));
  return r;
}

SvResult run_sv(const Circuit& circuit, const SvOptions& opt) {
  check_supported(circuit);
  SvResult res;
  const std::uint32_t n = circuit.num_qubits();
  res.num_qubits = n;
  res.num_measurements = circuit.num_measurements();
  res.bytes_per_shot = (res.num_measurements + 7) / 8;

  TerminalAnalysis terminal(n);
  const bool sampled = terminal.visit(circuit);
  res.sampled_from_final_state = sampled;
  check_fits(n, !sampled, opt.memory_limit_bytes);
  const long double record_bytes = static_cast<long double>(opt.shots) * res.bytes_per_shot;
  const std::uint64_t avail = opt.memory_limit_bytes ? opt.memory_limit_bytes : device_available_bytes();
  if (record_bytes > static_cast<long double>(avail) / 2) {
    throw InputError(fmt::format("{} shots of {} measurement bits need {:.1f} GiB for the records, "
                                 "more than half of the {} available; run fewer shots per call",
                                 opt.shots, res.num_measurements, record_bytes / 1073741824.0,
                                 gib(avail)));
  }
  res.measurements.assign(opt.shots * res.bytes_per_shot, 0);

  StateVector state(n);
  if (sampled) {
    res.state_point = "before terminal measurements";
    // All measurements terminal: one run of the unitary part, then every shot sampled from it.
    ShotRunner runner{state, RngStream{opt.seed, 0}, {}, &circuit};
    struct UnitaryOnly {
      ShotRunner& r;
      void run(const Circuit& c) {
        for (const auto& op : c.instructions()) {
          if (op.gate == GateId::REPEAT) {
            for (std::uint64_t k = 0; k < op.repeat_count; ++k) run(c.block(op));
          } else if (gate_info(op.gate).kind == GateKind::Unitary) {
            r.step(c, op);
          }
        }
      }
    } unitary{runner};
    unitary.run(circuit);
    if (opt.keep_state) res.state = state.to_host();
    // Rotate X- and Y-measured qubits so that a Z-basis sample measures them.
    for (std::uint32_t q = 0; q < n; ++q) {
      const std::uint32_t qs[1] = {q};
      if (terminal.basis[q] == 2) state.apply_gate(GateId::S_DAG, {}, qs);
      if (terminal.basis[q] == 1 || terminal.basis[q] == 2) state.apply_gate(GateId::H, {}, qs);
    }
    const std::uint64_t batch = std::uint64_t{1} << 20;
    std::vector<index_t> idx;
    std::vector<std::uint8_t> bits(terminal.records.size());
    for (std::uint64_t s0 = 0; s0 < opt.shots; s0 += batch) {
      const std::uint64_t cnt = std::min(batch, opt.shots - s0);
      idx.resize(cnt);
      sv::sample_indices(state.data(), state.size(), opt.seed, s0, cnt, idx.data());
      for (std::uint64_t s = 0; s < cnt; ++s) {
        for (std::size_t j = 0; j < bits.size(); ++j) {
          const auto& e = terminal.records[j];
          bits[j] = static_cast<std::uint8_t>(((idx[s] >> e.qubit) & 1u) ^ (e.inverted ? 1u : 0u));
        }
        pack_record(bits, res.measurements.data() + (s0 + s) * res.bytes_per_shot);
      }
      if (opt.progress) opt.progress(s0 + cnt, opt.shots);
    }
    return res;
  }

  // Per-shot simulation. The unitary prefix (before the first non-unitary instruction) runs once.
  res.state_point = "end of shot 0";
  const auto ops = circuit.instructions();
  std::size_t prefix = 0;
  {
    ShotRunner runner{state, RngStream{opt.seed, 0}, {}, &circuit};
    for (; prefix < ops.size(); ++prefix) {
      const auto& op = ops[prefix];
      if (op.gate == GateId::REPEAT) break;
      const GateInfo& info = gate_info(op.gate);
      if (info.kind != GateKind::Unitary && info.kind != GateKind::Annotation) break;
      bool classical = false;
      for (const Target& t : circuit.targets(op)) classical |= t.is_rec() || t.is_sweep();
      if (classical) break;
      runner.step(circuit, op);
    }
  }
  StateVector work(n);
  for (std::uint64_t s = 0; s < std::max<std::uint64_t>(opt.shots, opt.keep_state ? 1 : 0); ++s) {
    work.copy_from(state);
    ShotRunner runner{work, RngStream{opt.seed, s}, {}, &circuit};
    runner.record.reserve(res.num_measurements);
    for (std::size_t i = prefix; i < ops.size(); ++i) {
      const auto& op = ops[i];
      if (op.gate == GateId::REPEAT) {
        for (std::uint64_t r = 0; r < op.repeat_count; ++r) runner.run(circuit.block(op));
      } else {
        runner.step(circuit, op);
      }
    }
    if (s < opt.shots) pack_record(runner.record, res.measurements.data() + s * res.bytes_per_shot);
    if (s == 0 && opt.keep_state) res.state = work.to_host();
    if (opt.progress && (s + 1) % 64 == 0) opt.progress(s + 1, opt.shots);
  }
  return res;
}

}  // namespace qw
