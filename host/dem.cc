#include "host/dem.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "host/errors.h"
#include "host/frame_engine.h"

namespace qw {
namespace {

// A set of symptoms: sorted detector ids, then observables as kObs | index.
using Sym = std::vector<std::uint64_t>;
constexpr std::uint64_t kObs = std::uint64_t{1} << 63;

void xor_into(Sym& a, const Sym& b) {
  if (b.empty()) return;
  if (a.empty()) { a = b; return; }
  Sym out;
  out.reserve(a.size() + b.size());
  std::set_symmetric_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  a = std::move(out);
}

Sym xor_of(const Sym& a, const Sym& b) {
  Sym out = a;
  xor_into(out, b);
  return out;
}

std::string describe(const Sym& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < 8; ++i) {
    out += (s[i] & kObs) ? fmt::format(" L{}", s[i] & ~kObs) : fmt::format(" D{}", s[i]);
  }
  if (s.size() > 8) out += " ...";
  return out;
}

// A Pauli factor of a product: qubit with X and/or Z part.
struct Factor {
  std::uint32_t q;
  bool x, z;
};

std::vector<std::vector<Factor>> products_of(std::span<const Target> ts) {
  std::vector<std::vector<Factor>> out;
  bool join = false;
  for (const Target& t : ts) {
    if (t.is_combiner()) { join = true; continue; }
    if (out.empty() || !join) out.emplace_back();
    join = false;
    const char p = t.pauli_char() ? t.pauli_char() : 'Z';
    out.back().push_back({t.value, p == 'X' || p == 'Y', p == 'Z' || p == 'Y'});
  }
  return out;
}

// Backward propagation of error sensitivities, as Stim's ErrorAnalyzer: sx[q] (sz[q]) is the set of
// detectors and observables an X (Z) error on q at the current point of the circuit would flip.
class Analyzer {
 public:
  Analyzer(const Circuit& c)
      : src_(c.source_name), sx_(c.num_qubits()), sz_(c.num_qubits()),
        results_left_(c.num_measurements()), dets_left_(c.num_detectors()) {}

  void run(const Circuit& c) {
    const auto ops = c.instructions();
    for (std::size_t i = ops.size(); i-- > 0;) {
      const Instruction& op = ops[i];
      if (op.gate == GateId::REPEAT) {
        for (std::uint64_t k = 0; k < op.repeat_count; ++k) run(c.block(op));
        continue;
      }
      step(c, op);
    }
  }

  void check_initial_state() {
    for (std::uint32_t q = 0; q < sz_.size(); ++q) {
      if (!sz_[q].empty()) {
        throw InputError(fmt::format(
            "{}: dem: the initialization of qubit {} into |0> at the start of the circuit anticommutes "
            "with{}: the circuit has non-deterministic detectors or observables",
            src_.empty() ? std::string("<circuit>") : src_, q, describe(sz_[q])));
      }
    }
  }

  std::map<Sym, double> errors;

 private:
  InputError error_at(const Instruction& op, const std::string& what) const {
    return InputError(src_, op.where.line, op.where.column, what);
  }

  void add_error(double p, const Sym& s) {
    if (s.empty() || p == 0) return;
    double& old = errors[s];
    old = old * (1 - p) + (1 - old) * p;
  }

  void gauge_check(const Instruction& op, const Sym& s, std::uint32_t q) const {
    if (s.empty()) return;
    throw error_at(op, fmt::format("{} on qubit {} anticommutes with{}: the circuit has non-deterministic "
                                   "detectors or observables (dem needs deterministic ones)",
                                   gate_info(op.gate).name, q, describe(s)));
  }

  std::uint64_t record_index(const Instruction& op, std::uint32_t lookback) const {
    if (lookback == 0 || lookback > results_left_) {
      throw error_at(op, fmt::format("rec[-{}] reaches before the first measurement", lookback));
    }
    return results_left_ - lookback;
  }

  // The symptoms of the newest not yet processed result (and forget them).
  Sym take_result() {
    const std::uint64_t m = --results_left_;
    auto it = rec_.find(m);
    if (it == rec_.end()) return {};
    Sym s = std::move(it->second);
    rec_.erase(it);
    return s;
  }

  Sym pauli_sym(std::uint32_t q, bool x, bool z) const {
    if (x && z) return xor_of(sx_[q], sz_[q]);
    if (x) return sx_[q];
    if (z) return sz_[q];
    return {};
  }

  // A Pauli-product measurement (no qubits: MPAD) with result-flip probability p.
  void measure_product(const Instruction& op, const std::vector<Factor>& product, double p) {
    const Sym d = take_result();
    add_error(p, d);
    // An error anticommuting with the product flips the result: X_q anticommutes with a Z part.
    for (const Factor& f : product) {
      if (f.z) xor_into(sx_[f.q], d);
      if (f.x) xor_into(sz_[f.q], d);
    }
    // Right after the measurement the product is a stabiliser: no deterministic symptom may see it.
    Sym s;
    for (const Factor& f : product) xor_into(s, pauli_sym(f.q, f.x, f.z));
    if (!product.empty()) gauge_check(op, s, product.front().q);
  }

  void reset(const Instruction& op, std::uint32_t q, bool x, bool z) {
    gauge_check(op, pauli_sym(q, x, z), q);
    sx_[q].clear();
    sz_[q].clear();
  }

  // Backward action of a Clifford with frame action m on generators (x0, z0[, x1, z1]).
  void apply_backward(const frame::Gf2Map& m, std::uint32_t a, std::uint32_t b, unsigned group) {
    Sym* s[4] = {&sx_[a], &sz_[a], group == 2 ? &sx_[b] : nullptr, group == 2 ? &sz_[b] : nullptr};
    const unsigned n = 2 * group;
    Sym next[4];
    // An error g_i before the gate is U g_i U^dag after it: the XOR of the generators in column i.
    for (unsigned i = 0; i < n; ++i) {
      for (unsigned j = 0; j < n; ++j) {
        if ((m.rows[j] >> i) & 1) xor_into(next[i], *s[j]);
      }
    }
    for (unsigned i = 0; i < n; ++i) *s[i] = std::move(next[i]);
  }

  frame::Gf2Map clifford(const Instruction& op, std::span<const double> args) {
    auto key = std::make_pair(op.gate, std::vector<double>(args.begin(), args.end()));
    auto it = cliffords_.find(key);
    if (it == cliffords_.end()) {
      const GateInfo& info = gate_info(op.gate);
      std::optional<frame::Gf2Map> m;
      if (info.group >= 1 && info.group <= 2) m = clifford_frame_action(op.gate, args);
      it = cliffords_.emplace(key, m).first;
    }
    if (!it->second) {
      throw error_at(op, fmt::format("{} is not a Clifford gate: dem needs a Clifford circuit with Pauli noise",
                                     gate_info(op.gate).name));
    }
    return *it->second;
  }

  void step(const Circuit& c, const Instruction& op) {
    const GateInfo& info = gate_info(op.gate);
    const auto ts = c.targets(op);
    const auto args = c.args(op);
    switch (info.kind) {
      case GateKind::Unitary: return unitary(op, info, ts, args);
      case GateKind::Collapse: return collapse(op, ts, args);
      case GateKind::Noise: return noise(op, info, ts, args);
      case GateKind::Annotation: return annotation(op, info, ts, args);
      case GateKind::Block: return;
    }
  }

  void unitary(const Instruction& op, const GateInfo& info, std::span<const Target> ts,
               std::span<const double> args) {
    if (op.gate == GateId::I || op.gate == GateId::II) return;
    if (op.gate == GateId::SPP || op.gate == GateId::SPP_DAG) {
      // exp(-+i pi/4 P): an error Q before it is Q (commuting) or Q P (anticommuting) after it.
      const auto products = products_of(ts);
      for (std::size_t i = products.size(); i-- > 0;) {
        Sym sp;
        for (const Factor& f : products[i]) xor_into(sp, pauli_sym(f.q, f.x, f.z));
        for (const Factor& f : products[i]) {
          if (f.z) xor_into(sx_[f.q], sp);
          if (f.x) xor_into(sz_[f.q], sp);
        }
      }
      return;
    }
    const frame::Gf2Map m = clifford(op, args);
    if (info.group == 1) {
      for (std::size_t i = ts.size(); i-- > 0;) apply_backward(m, ts[i].value, 0, 1);
      return;
    }
    for (std::size_t i = ts.size(); i >= 2; i -= 2) {
      const Target &a = ts[i - 2], &b = ts[i - 1];
      if (a.is_qubit() && b.is_qubit()) {
        apply_backward(m, a.value, b.value, 2);
        continue;
      }
      // Classically controlled Pauli (the rec side is the control, as in the frame engine).
      const Target& ctl = a.is_qubit() ? b : a;
      const Target& tgt = a.is_qubit() ? a : b;
      if (!tgt.is_qubit() || ctl.is_sweep()) continue;  // sweep bits have no effect on errors
      char p = 'Z';
      if (op.gate == GateId::CX || op.gate == GateId::XCZ) p = 'X';
      if (op.gate == GateId::CY || op.gate == GateId::YCZ) p = 'Y';
      const Sym s = pauli_sym(tgt.value, p != 'Z', p != 'X');
      xor_into(rec_[record_index(op, ctl.value)], s);
    }
  }

  void collapse(const Instruction& op, std::span<const Target> ts, std::span<const double> args) {
    const double p = args.empty() ? 0.0 : args[0];
    bool x = false, z = true;  // measured basis
    switch (op.gate) {
      case GateId::MX: case GateId::MRX: case GateId::RX: case GateId::MXX: x = true; z = false; break;
      case GateId::MY: case GateId::MRY: case GateId::RY: case GateId::MYY: x = true; z = true; break;
      default: break;
    }
    switch (op.gate) {
      case GateId::MPP: {
        const auto products = products_of(ts);
        for (std::size_t i = products.size(); i-- > 0;) measure_product(op, products[i], p);
        return;
      }
      case GateId::MPAD:
        for (std::size_t i = ts.size(); i-- > 0;) measure_product(op, {}, p);
        return;
      case GateId::MXX: case GateId::MYY: case GateId::MZZ:
        for (std::size_t i = ts.size(); i >= 2; i -= 2) {
          measure_product(op, {{ts[i - 2].value, x, z}, {ts[i - 1].value, x, z}}, p);
        }
        return;
      case GateId::R: case GateId::RX: case GateId::RY:
        for (std::size_t i = ts.size(); i-- > 0;) reset(op, ts[i].value, x, z);
        return;
      case GateId::MR: case GateId::MRX: case GateId::MRY:
        for (std::size_t i = ts.size(); i-- > 0;) {
          reset(op, ts[i].value, x, z);
          measure_product(op, {{ts[i].value, x, z}}, p);
        }
        return;
      default:  // M, MX, MY
        for (std::size_t i = ts.size(); i-- > 0;) measure_product(op, {{ts[i].value, x, z}}, p);
        return;
    }
  }

  void noise(const Instruction& op, const GateInfo& info, std::span<const Target> ts,
             std::span<const double> args) {
    // Pauli code 0 I, 1 X, 2 Y, 3 Z.
    auto single = [&](std::uint32_t q, unsigned code) {
      return pauli_sym(q, code == 1 || code == 2, code >= 2);
    };
    switch (op.gate) {
      case GateId::I_ERROR: case GateId::II_ERROR: return;
      case GateId::X_ERROR: for (const Target& t : ts) add_error(args[0], single(t.value, 1)); return;
      case GateId::Y_ERROR: for (const Target& t : ts) add_error(args[0], single(t.value, 2)); return;
      case GateId::Z_ERROR: for (const Target& t : ts) add_error(args[0], single(t.value, 3)); return;
      case GateId::DEPOLARIZE1: {
        if (args[0] >= 0.75) throw error_at(op, "dem: DEPOLARIZE1 with p >= 3/4 (over-mixing) is not supported");
        // Independent X, Y, Z errors of probability q each compose to DEPOLARIZE1(p) exactly (as Stim).
        const double q = 0.5 - 0.5 * std::sqrt(1 - 4 * args[0] / 3);
        for (const Target& t : ts)
          for (unsigned code = 1; code < 4; ++code) add_error(q, single(t.value, code));
        return;
      }
      case GateId::PAULI_CHANNEL_1:
        for (const Target& t : ts)
          for (unsigned code = 1; code < 4; ++code) add_error(args[code - 1], single(t.value, code));
        return;
      case GateId::DEPOLARIZE2: case GateId::PAULI_CHANNEL_2: {
        double q = 0;
        if (op.gate == GateId::DEPOLARIZE2) {
          if (args[0] >= 15.0 / 16) {
            throw error_at(op, "dem: DEPOLARIZE2 with p >= 15/16 (over-mixing) is not supported");
          }
          q = 0.5 - 0.5 * std::pow(1 - 16 * args[0] / 15, 0.125);
        }
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) {
          for (unsigned c = 1; c < 16; ++c) {
            // Stim's order IX, IY, IZ, XI, ...: outcome 4a + b is Pauli a on the first target.
            Sym s = xor_of(single(ts[i].value, c / 4), single(ts[i + 1].value, c % 4));
            add_error(op.gate == GateId::DEPOLARIZE2 ? q : args[c - 1], s);
          }
        }
        return;
      }
      case GateId::CORRELATED_ERROR: {
        Sym s;
        for (const auto& product : products_of(ts))
          for (const Factor& f : product) xor_into(s, pauli_sym(f.q, f.x, f.z));
        add_error(args[0], s);
        return;
      }
      case GateId::ELSE_CORRELATED_ERROR:
        throw error_at(op, "dem: ELSE_CORRELATED_ERROR chains are not supported (their branches are not "
                           "independent mechanisms; Stim too needs approximate_disjoint_errors)");
      case GateId::HERALDED_ERASE: case GateId::HERALDED_PAULI_CHANNEL_1:
        throw error_at(op, fmt::format("dem: {} (heralded noise) is not supported yet", info.name));
      default:
        throw error_at(op, fmt::format("{} is not a Pauli channel: dem needs a Clifford circuit with Pauli "
                                       "noise", info.name));
    }
  }

  void annotation(const Instruction& op, const GateInfo& info, std::span<const Target> ts,
                  std::span<const double> args) {
    if (op.gate != GateId::DETECTOR && op.gate != GateId::OBSERVABLE_INCLUDE) return;
    std::uint64_t id;
    if (op.gate == GateId::DETECTOR) {
      id = --dets_left_;
    } else {
      id = kObs | static_cast<std::uint64_t>(args[0]);
    }
    const Sym one{id};
    for (const Target& t : ts) {
      if (t.is_rec()) {
        xor_into(rec_[record_index(op, t.value)], one);
      } else if (op.gate == GateId::OBSERVABLE_INCLUDE && t.pauli_char()) {
        // The observable includes the Pauli here: the errors anticommuting with it flip it.
        const char p = t.pauli_char();
        if (p == 'Z' || p == 'Y') xor_into(sx_[t.value], one);
        if (p == 'X' || p == 'Y') xor_into(sz_[t.value], one);
      } else {
        throw error_at(op, fmt::format("dem: {} needs rec[-k] targets", info.name));
      }
    }
  }

  std::string src_;
  std::vector<Sym> sx_, sz_;
  std::unordered_map<std::uint64_t, Sym> rec_;  // absolute result index -> symptoms of its flip
  std::uint64_t results_left_, dets_left_;
  std::map<std::pair<GateId, std::vector<double>>, std::optional<frame::Gf2Map>> cliffords_;
};

void collect_coords(const Circuit& c, std::vector<double>& shift, std::vector<std::vector<double>>& out) {
  for (const Instruction& op : c.instructions()) {
    if (op.gate == GateId::REPEAT) {
      for (std::uint64_t k = 0; k < op.repeat_count; ++k) collect_coords(c.block(op), shift, out);
    } else if (op.gate == GateId::SHIFT_COORDS) {
      const auto a = c.args(op);
      if (shift.size() < a.size()) shift.resize(a.size(), 0.0);
      for (std::size_t i = 0; i < a.size(); ++i) shift[i] += a[i];
    } else if (op.gate == GateId::DETECTOR) {
      const auto a = c.args(op);
      std::vector<double> v(a.begin(), a.end());
      for (std::size_t i = 0; i < v.size() && i < shift.size(); ++i) v[i] += shift[i];
      out.push_back(std::move(v));
    }
  }
}

}  // namespace

DetectorErrorModel detector_error_model(const Circuit& circuit) {
  Analyzer an(circuit);
  an.run(circuit);
  an.check_initial_state();
  DetectorErrorModel dem;
  dem.num_detectors = circuit.num_detectors();
  dem.num_observables = circuit.num_observables();
  for (const auto& [sym, p] : an.errors) {
    if (p == 0) continue;
    DemError e;
    e.probability = p;
    for (std::uint64_t t : sym) {
      if (t & kObs) e.observables.push_back(t & ~kObs);
      else e.detectors.push_back(t);
    }
    dem.errors.push_back(std::move(e));
  }
  std::vector<double> shift;
  dem.detector_coords.reserve(dem.num_detectors);
  collect_coords(circuit, shift, dem.detector_coords);
  dem.detector_coords.resize(dem.num_detectors);
  return dem;
}

std::string DetectorErrorModel::str() const {
  std::string out;
  std::vector<bool> det_seen(num_detectors, false), obs_seen(num_observables, false);
  for (const DemError& e : errors) {
    out += fmt::format("error({})", e.probability);
    for (std::uint64_t d : e.detectors) {
      out += fmt::format(" D{}", d);
      if (d < det_seen.size()) det_seen[d] = true;
    }
    for (std::uint64_t l : e.observables) {
      out += fmt::format(" L{}", l);
      if (l < obs_seen.size()) obs_seen[l] = true;
    }
    out += '\n';
  }
  for (std::uint64_t d = 0; d < num_detectors; ++d) {
    const bool has = d < detector_coords.size() && !detector_coords[d].empty();
    if (has) {
      out += fmt::format("detector({}) D{}\n", fmt::join(detector_coords[d], ", "), d);
    } else if (!det_seen[d]) {
      out += fmt::format("detector D{}\n", d);
    }
  }
  for (std::uint64_t l = 0; l < num_observables; ++l) {
    if (!obs_seen[l]) out += fmt::format("logical_observable L{}\n", l);
  }
  return out;
}

}  // namespace qw
