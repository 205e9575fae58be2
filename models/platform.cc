#include "models/platform.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "host/errors.h"

#ifndef QWEAVE_MODELS_DIR
#define QWEAVE_MODELS_DIR "models/presets"
#endif

namespace qw::models {

std::string presets_dir() { return QWEAVE_MODELS_DIR; }

// ---- TOML schema ------------------------------------------------------------------------------

namespace {

enum class Check { Time, Duration, Probability };

struct NumberKey {
  const char* key;
  double Platform::*field;
  Check check;
};

constexpr NumberKey kNumberKeys[] = {
    {"t1_s", &Platform::t1_s, Check::Time},
    {"t2_s", &Platform::t2_s, Check::Time},
    {"gate1_duration_s", &Platform::gate1_duration_s, Check::Duration},
    {"gate2_duration_s", &Platform::gate2_duration_s, Check::Duration},
    {"measure_duration_s", &Platform::measure_duration_s, Check::Duration},
    {"reset_duration_s", &Platform::reset_duration_s, Check::Duration},
    {"gate1_error", &Platform::gate1_error, Check::Probability},
    {"gate2_error", &Platform::gate2_error, Check::Probability},
    {"measure_error", &Platform::measure_error, Check::Probability},
    {"reset_error", &Platform::reset_error, Check::Probability},
};
constexpr const char* kStringKeys[] = {"name", "source"};

std::string known_keys() {
  std::string s;
  for (const char* k : kStringKeys) s += fmt::format("{}{}", s.empty() ? "" : ", ", k);
  for (const auto& k : kNumberKeys) s += fmt::format(", {}", k.key);
  return s;
}

const char* type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

[[noreturn]] void fail_at(const std::string& file, const toml::source_region& where,
                          const std::string& what) {
  throw InputError(file, static_cast<unsigned>(where.begin.line),
                   static_cast<unsigned>(where.begin.column), what);
}

}  // namespace

Platform parse_platform(const std::string& toml_text, const std::string& source_name) {
  toml::table table;
  try {
    table = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    fail_at(source_name, e.source(), std::string(e.description()));
  }

  Platform p;
  p.name = std::filesystem::path(source_name).stem().string();
  std::vector<bool> seen(std::size(kNumberKeys), false);
  std::vector<toml::source_region> where(std::size(kNumberKeys));

  for (auto&& [key, node] : table) {
    const std::string k(key.str());
    if (k == "name" || k == "source") {
      if (!node.is_string()) {
        fail_at(source_name, node.source(),
                fmt::format("{} must be a string, got {}", k, type_name(node.type())));
      }
      (k == "name" ? p.name : p.source) = node.as_string()->get();
      continue;
    }
    const auto it = std::find_if(std::begin(kNumberKeys), std::end(kNumberKeys),
                                 [&](const NumberKey& n) { return k == n.key; });
    if (it == std::end(kNumberKeys)) {
      fail_at(source_name, key.source(),
              fmt::format("unknown key '{}' (platform keys: {})", k, known_keys()));
    }
    const auto i = static_cast<std::size_t>(it - std::begin(kNumberKeys));
    double v = 0;
    if (node.is_floating_point()) {
      v = node.as_floating_point()->get();
    } else if (node.is_integer()) {
      v = static_cast<double>(node.as_integer()->get());
    } else {
      fail_at(source_name, node.source(),
              fmt::format("{} must be a number, got {}", k, type_name(node.type())));
    }
    const auto bad = [&](const std::string& why) {
      fail_at(source_name, node.source(), fmt::format("{} = {} {}", k, v, why));
    };
    if (std::isnan(v)) bad("is not a number");
    switch (it->check) {
      case Check::Time:  // a coherence time: > 0, inf allowed (no decay)
        if (!(v > 0)) bad("must be > 0 (inf for no decay)");
        break;
      case Check::Duration:
        if (v < 0) bad("is negative; durations are in seconds, >= 0");
        if (std::isinf(v)) bad("must be finite");
        break;
      case Check::Probability:
        if (v < 0 || v > 1) bad("must be a probability in [0, 1]");
        break;
    }
    p.*(it->field) = v;
    seen[i] = true;
    where[i] = node.source();
  }

  std::string missing;
  for (std::size_t i = 0; i < std::size(kNumberKeys); ++i) {
    if (!seen[i]) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", kNumberKeys[i].key);
  }
  if (!missing.empty()) {
    throw InputError(source_name, 0, 0, "missing required platform keys: " + missing);
  }
  // |rho01| decays as exp(-t/T2) and cannot decay slower than relaxation allows: 1/T2 >= 1/(2 T1).
  if (p.t2_s > 2 * p.t1_s) {
    fail_at(source_name, where[1],
            fmt::format("t2_s = {} exceeds 2*t1_s = {} (T2 <= 2 T1 for any qubit)", p.t2_s,
                        2 * p.t1_s));
  }
  return p;
}

Platform load_platform(const std::string& name_or_path) {
  const bool is_name =
      !name_or_path.empty() && std::all_of(name_or_path.begin(), name_or_path.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
      });
  std::string path = name_or_path;
  if (is_name) {
    path = presets_dir() + "/" + name_or_path + ".toml";
    if (!std::filesystem::exists(path)) {
      std::vector<std::string> names;
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(presets_dir(), ec)) {
        if (e.path().extension() == ".toml") names.push_back(e.path().stem().string());
      }
      std::sort(names.begin(), names.end());
      std::string list;
      for (const auto& n : names) list += fmt::format("{}{}", list.empty() ? "" : ", ", n);
      throw InputError(fmt::format(
          "unknown platform '{}': the presets in {} are {}; or give a path to a TOML file",
          name_or_path, presets_dir(), list.empty() ? "(none found)" : list));
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  Platform p = parse_platform(text.str(), path);
  if (is_name && p.name.empty()) p.name = name_or_path;
  return p;
}

// ---- Idle channels ------------------------------------------------------------------------------
//
// AMPLITUDE_DAMP(gamma) maps rho11 -> (1-gamma) rho11 and rho01 -> sqrt(1-gamma) rho01;
// PHASE_DAMP(lambda) maps rho01 -> sqrt(1-lambda) rho01 and leaves the populations alone.
// T1 decay of the population: 1 - gamma = exp(-t/T1).
// T2 decay of the coherence: sqrt((1-gamma)(1-lambda)) = exp(-t/T2)
//   => 1 - lambda = exp(-2t/T2) / exp(-t/T1) = exp(-t (2/T2 - 1/T1)) = exp(-2t/T_phi),
// with the pure-dephasing rate 1/T_phi = 1/T2 - 1/(2 T1) >= 0, i.e. T2 <= 2 T1.
// expm1 keeps the small probabilities of short idles accurate; 1/inf = 0 handles T1 or T2 = inf.

double idle_amplitude_damping(double t, double t1) {
  if (!(t >= 0)) throw std::invalid_argument(fmt::format("idle time {} must be >= 0", t));
  if (!(t1 > 0)) throw std::invalid_argument(fmt::format("T1 = {} must be > 0", t1));
  return -std::expm1(-t / t1);
}

double idle_phase_damping(double t, double t1, double t2) {
  if (!(t >= 0)) throw std::invalid_argument(fmt::format("idle time {} must be >= 0", t));
  if (!(t1 > 0) || !(t2 > 0)) {
    throw std::invalid_argument(fmt::format("T1 = {} and T2 = {} must be > 0", t1, t2));
  }
  const double rate = 2 / t2 - 1 / t1;  // 2 / T_phi
  if (rate < 0) {
    throw std::invalid_argument(fmt::format("T2 = {} exceeds 2*T1 = {}", t2, 2 * t1));
  }
  return -std::expm1(-t * rate);
}

// ---- Noise insertion -------------------------------------------------------------------------

namespace {

// What the platform does with one instruction.
enum class Role {
  Keep,          // annotations, existing noise, MPAD: copied, take no time
  Unitary,       // gate error after, gate duration
  Wait,          // I, II: an explicit wait of one gate duration (no gate error, idle channels)
  Idle,          // IDLE(t): replaced by the idle channels for t
  Measure,       // result flip folded into the (p) argument
  MeasureReset,  // MR*: result flip, then the reset's bit flip
  Reset,         // R*: bit flip after
};

Role role_of(GateId g) {
  switch (g) {
    case GateId::I: case GateId::II: return Role::Wait;
    case GateId::IDLE: return Role::Idle;
    case GateId::M: case GateId::MX: case GateId::MY: case GateId::MPP:
    case GateId::MXX: case GateId::MYY: case GateId::MZZ: return Role::Measure;
    case GateId::MR: case GateId::MRX: case GateId::MRY: return Role::MeasureReset;
    case GateId::R: case GateId::RX: case GateId::RY: return Role::Reset;
    default: break;
  }
  return gate_info(g).kind == GateKind::Unitary ? Role::Unitary : Role::Keep;
}

// The flip that undoes a reset: X for |0> (R) and for |+i> (RY: X maps +i to -i), Z for |+> (RX).
GateId reset_flip(GateId g) {
  return (g == GateId::RX || g == GateId::MRX) ? GateId::Z_ERROR : GateId::X_ERROR;
}

struct Group {
  std::uint32_t begin = 0, end = 0;   // range in the instruction's targets
  std::vector<std::uint32_t> qubits;  // distinct qubits, in target order
  bool classical = false;             // has a rec[-k] control: waits for measurement results
};

std::vector<Group> groups_of(const Circuit& c, const Instruction& op) {
  const auto& info = gate_info(op.gate);
  const auto ts = c.targets(op);
  std::vector<Group> out;
  const auto add_target = [](Group& g, const Target& t) {
    if (t.is_rec()) {
      g.classical = true;
    } else if (t.is_sweep()) {
      // sweep bits are known before the run: no wait
    } else if (t.is_qubit() &&
               std::find(g.qubits.begin(), g.qubits.end(), t.value) == g.qubits.end()) {
      g.qubits.push_back(t.value);
    }
  };
  std::uint32_t i = 0;
  const auto n = static_cast<std::uint32_t>(ts.size());
  while (i < n) {
    Group g;
    g.begin = i;
    if (info.flags & kTargetsPauliProducts) {  // a product: P, then (*, P)*
      add_target(g, ts[i++]);
      while (i + 1 < n && ts[i].is_combiner()) {
        add_target(g, ts[i + 1]);
        i += 2;
      }
    } else {
      const std::uint32_t size = std::max<std::uint32_t>(info.group, 1);
      for (std::uint32_t j = 0; j < size && i < n; ++j) add_target(g, ts[i++]);
    }
    g.end = i;
    out.push_back(std::move(g));
  }
  return out;
}

class NoisePass {
 public:
  NoisePass(const Platform& p, std::uint32_t num_qubits)
      : p_(p), free_at_(num_qubits, 0.0), mark_(num_qubits, 0) {}

  Circuit run(const Circuit& c) {
    Circuit out;
    out.link_names = c.link_names;  // LINK's argument indexes them
    for (const auto& op : c.instructions()) {
      if (op.gate == GateId::REPEAT) {
        // A block boundary closes the layer: every iteration then gets the same noise.
        close_layer(out, op.where);
        const double before = elapsed_;
        Circuit body = run(c.block(op));
        elapsed_ = before + (elapsed_ - before) * static_cast<double>(op.repeat_count);
        out.append_repeat(op.repeat_count, std::move(body), op.where);
        continue;
      }
      if (op.gate == GateId::TICK) {
        close_layer(out, op.where);
        out.append(op.gate, c.args(op), c.targets(op), op.where);
        continue;
      }
      const Role role = role_of(op.gate);
      if (role == Role::Keep || (gate_info(op.gate).flags & kValueTargets)) {
        out.append(op.gate, c.args(op), c.targets(op), op.where);
        continue;
      }
      transform(c, op, role, out);
    }
    close_layer(out, {});
    return out;
  }

 private:
  using Idles = std::vector<std::pair<std::uint32_t, double>>;  // (qubit, idle seconds)

  // Durations below this fraction of the layer time are rounding, not idling.
  static constexpr double kRelTol = 1e-9;

  double duration(Role role, const Group& g, double idle_arg) const {
    const auto k = g.qubits.size();
    switch (role) {
      case Role::Unitary:
        if (k <= 1) return p_.gate1_duration_s;  // incl. a rec/sweep-controlled Pauli
        return static_cast<double>(k - 1) * p_.gate2_duration_s;
      case Role::Wait: return k <= 1 ? p_.gate1_duration_s : p_.gate2_duration_s;
      case Role::Idle: return idle_arg;
      case Role::Measure: return p_.measure_duration_s;
      case Role::MeasureReset: return p_.measure_duration_s + p_.reset_duration_s;
      case Role::Reset: return p_.reset_duration_s;
      case Role::Keep: break;
    }
    return 0;
  }

  void transform(const Circuit& c, const Instruction& op, Role role, Circuit& out) {
    const auto groups = groups_of(c, op);
    const double idle_arg = role == Role::Idle ? c.args(op)[0] : 0.0;
    // Split into segments in which no qubit appears twice, so that each segment's gate noise
    // lands right after the segment and each group's waiting time before it.
    std::size_t seg_begin = 0;
    ++epoch_;
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      bool clash = false;
      for (auto q : groups[gi].qubits) clash |= mark_[q] == epoch_;
      if (clash) {
        emit_segment(c, op, role, idle_arg, groups, seg_begin, gi, out);
        seg_begin = gi;
        ++epoch_;
      }
      for (auto q : groups[gi].qubits) mark_[q] = epoch_;
    }
    if (seg_begin < groups.size() || groups.empty()) {
      emit_segment(c, op, role, idle_arg, groups, seg_begin, groups.size(), out);
    }
  }

  void emit_segment(const Circuit& c, const Instruction& op, Role role, double idle_arg,
                    const std::vector<Group>& groups, std::size_t gb, std::size_t ge,
                    Circuit& out) {
    // Schedule: each group starts as soon as its qubits (and, for feedback, the results) are ready.
    Idles waits;
    for (std::size_t gi = gb; gi < ge; ++gi) {
      const Group& g = groups[gi];
      double start = g.classical ? results_at_ : 0.0;
      for (auto q : g.qubits) start = std::max(start, free_at_[q]);
      for (auto q : g.qubits) {
        const double gap = start - free_at_[q];
        if (gap > kRelTol * start) waits.emplace_back(q, gap);
      }
      const double end = start + duration(role, g, idle_arg);
      for (auto q : g.qubits) free_at_[q] = end;
      if (role == Role::Measure || role == Role::MeasureReset) {
        results_at_ = std::max(results_at_, start + p_.measure_duration_s);
      }
    }
    emit_idles(waits, out, op.where);

    const auto all_targets = c.targets(op);
    const std::uint32_t tb = gb < groups.size() ? groups[gb].begin : 0;
    const std::uint32_t te = ge > gb ? groups[ge - 1].end : tb;
    const auto seg_targets = all_targets.subspan(tb, te - tb);
    std::vector<Target> qs;  // the segment's qubits, for channels on each
    for (std::size_t gi = gb; gi < ge; ++gi) {
      for (auto q : groups[gi].qubits) qs.push_back(Target::qubit(q));
    }

    switch (role) {
      case Role::Unitary: {
        out.append(op.gate, c.args(op), seg_targets, op.where);
        std::vector<Target> pairs, singles;
        for (std::size_t gi = gb; gi < ge; ++gi) {
          const auto& q = groups[gi].qubits;
          if (q.size() == 1) singles.push_back(Target::qubit(q[0]));
          // 2 qubits: the pair; g >= 3 qubits: the chain (q0 q1), (q1 q2), ... (docs/models.md).
          for (std::size_t j = 0; j + 1 < q.size(); ++j) {
            pairs.push_back(Target::qubit(q[j]));
            pairs.push_back(Target::qubit(q[j + 1]));
          }
        }
        emit_channel(GateId::DEPOLARIZE2, p_.gate2_error, pairs, out, op.where);
        emit_channel(GateId::DEPOLARIZE1, p_.gate1_error, singles, out, op.where);
        break;
      }
      case Role::Wait:
      case Role::Idle: {
        if (role == Role::Wait) out.append(op.gate, c.args(op), seg_targets, op.where);
        Idles idles;
        for (std::size_t gi = gb; gi < ge; ++gi) {
          const double d = duration(role, groups[gi], idle_arg);
          for (auto q : groups[gi].qubits) idles.emplace_back(q, d);
        }
        emit_idles(idles, out, op.where);
        break;
      }
      case Role::Measure:
      case Role::MeasureReset: {
        const auto args = c.args(op);
        if (p_.measure_error > 0) {
          // Two independent flips: p' = p1 (1 - p2) + p2 (1 - p1).
          const double p1 = args.empty() ? 0.0 : args[0], p2 = p_.measure_error;
          const double combined[1] = {p1 + p2 - 2 * p1 * p2};
          out.append(op.gate, combined, seg_targets, op.where);
        } else {
          out.append(op.gate, args, seg_targets, op.where);
        }
        if (role == Role::MeasureReset) {
          emit_channel(reset_flip(op.gate), p_.reset_error, qs, out, op.where);
        }
        break;
      }
      case Role::Reset:
        out.append(op.gate, c.args(op), seg_targets, op.where);
        emit_channel(reset_flip(op.gate), p_.reset_error, qs, out, op.where);
        break;
      case Role::Keep: break;
    }
  }

  static void emit_channel(GateId g, double p, const std::vector<Target>& ts, Circuit& out,
                           SourceLocation where) {
    if (p <= 0 || ts.empty()) return;
    const double args[1] = {p};
    out.append(g, args, ts, where);
  }

  // AMPLITUDE_DAMP then PHASE_DAMP for each idle time, qubits with equal times sharing one pair of
  // instructions, in the order the times first appear.
  void emit_idles(const Idles& idles, Circuit& out, SourceLocation where) const {
    std::vector<bool> done(idles.size(), false);
    for (std::size_t i = 0; i < idles.size(); ++i) {
      if (done[i]) continue;
      const double t = idles[i].second;
      std::vector<Target> ts;
      for (std::size_t j = i; j < idles.size(); ++j) {
        if (!done[j] && idles[j].second == t) {
          ts.push_back(Target::qubit(idles[j].first));
          done[j] = true;
        }
      }
      emit_channel(GateId::AMPLITUDE_DAMP, idle_amplitude_damping(t, p_.t1_s), ts, out, where);
      emit_channel(GateId::PHASE_DAMP, idle_phase_damping(t, p_.t1_s, p_.t2_s), ts, out, where);
    }
  }

  // End of a layer: every qubit idles from when it became free to the end of the layer's longest
  // schedule; then the clock restarts.
  void close_layer(Circuit& out, SourceLocation where) {
    double layer = 0;
    for (double t : free_at_) layer = std::max(layer, t);
    elapsed_ += layer;
    Idles idles;
    for (std::uint32_t q = 0; q < free_at_.size(); ++q) {
      const double idle = layer - free_at_[q];
      if (idle > kRelTol * layer) idles.emplace_back(q, idle);
    }
    emit_idles(idles, out, where);
    std::fill(free_at_.begin(), free_at_.end(), 0.0);
    results_at_ = 0;
  }

  const Platform& p_;
  std::vector<double> free_at_;  // when each qubit is next free, seconds from the layer's start
  double results_at_ = 0;        // when this layer's latest measurement result is known
  std::vector<std::uint32_t> mark_;
  std::uint32_t epoch_ = 0;

 public:
  double elapsed_ = 0;  // summed layer durations so far (REPEAT bodies times their counts)
};

}  // namespace

double circuit_duration_s(const Circuit& c, const Platform& p) {
  NoisePass pass(p, c.num_qubits());
  (void)pass.run(c);
  return pass.elapsed_;
}

Circuit add_platform_noise(const Circuit& c, const Platform& p) {
  // load_platform has checked these for files; a Platform built in code gets the same check here.
  if (!(p.t1_s > 0) || !(p.t2_s > 0) || p.t2_s > 2 * p.t1_s) {
    throw std::invalid_argument(
        fmt::format("platform '{}': need 0 < T2 <= 2 T1, got T1 = {}, T2 = {}", p.name, p.t1_s,
                    p.t2_s));
  }
  NoisePass pass(p, c.num_qubits());
  Circuit out = pass.run(c);
  out.source_name = c.source_name;
  out.source_text = c.source_text;
  return out;
}

}  // namespace qw::models
