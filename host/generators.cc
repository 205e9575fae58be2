#include "host/generators.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "host/errors.h"
#include "host/experiment.h"
#include "host/parse.h"
#include "models/platform.h"

namespace qw::gen {

namespace {

constexpr int kNone = -1;

// One stabiliser and the qubits that measure it.
struct Check {
  char basis = 'Z';  // 'X' | 'Z'
  double x = 0, y = 0;
  // Data qubit coupled to the check in coupling layer k, or kNone (the CX schedule).
  std::vector<int> data_at_layer;
  unsigned ancilla = 0;  // local measurement: the measure qubit
  // GHZ measurement ("distributed"): ghz[i] sits next to data_order[i]; link[i - 1] is the half of
  // the Bell pair (link[i - 1], ghz[i]) that sits next to ghz[i - 1].
  std::vector<unsigned> data_order, ghz, link;

  std::vector<unsigned> data() const {
    std::vector<unsigned> out;
    for (int q : data_at_layer)
      if (q != kNone) out.push_back(static_cast<unsigned>(q));
    return out;
  }
};

struct Layout {
  unsigned layers = 0;  // coupling layers per round
  std::vector<std::array<double, 2>> coords;
  std::vector<unsigned> data;
  std::vector<Check> checks;
  std::vector<unsigned> logical;  // data qubits of the observable (memory basis)
  std::vector<unsigned> module;   // module of each qubit
  unsigned num_modules = 1;
  bool distributed = false;
};

// Rotated surface code: data (x, y), 0 <= x, y < d, at coordinates (2x + 1, 2y + 1), qubit y·d + x;
// the check of plaquette (i, j), 0 <= i, j <= d, at (2i, 2j) touches the data at x in {i - 1, i},
// y in {j - 1, j}. X checks where i + j is even, Z checks where it is odd; weight-2 checks are kept
// on the left/right edges for Z and the top/bottom edges for X. Then Z_L = Z on the row y = 0 and
// X_L = X on the column x = 0.
//
// CX order (offsets from the check in coordinate units, y down): X checks (-1,-1) (+1,-1) (-1,+1)
// (+1,+1), Z checks (-1,-1) (-1,+1) (+1,-1) (+1,+1), the "Z"/"N" orders of Tomita & Svore, PRA 90,
// 062320 (2014), Fig. 2 (also Fowler et al., PRA 86, 032324 (2012)). Overlapping X and Z checks
// visit both shared qubits in the same relative order, so all checks commute with the schedule, and
// the two qubits a mid-circuit ancilla fault spreads to (the hook) lie perpendicular to the logical
// operator that fault chain would build, so the circuit keeps distance d.
Layout surface_layout(unsigned d, char basis) {
  Layout L;
  L.layers = 4;
  for (unsigned y = 0; y < d; ++y)
    for (unsigned x = 0; x < d; ++x) {
      L.data.push_back(y * d + x);
      L.coords.push_back({2.0 * x + 1, 2.0 * y + 1});
    }
  constexpr int kXOrder[4][2] = {{-1, -1}, {1, -1}, {-1, 1}, {1, 1}};
  constexpr int kZOrder[4][2] = {{-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
  for (unsigned j = 0; j <= d; ++j)
    for (unsigned i = 0; i <= d; ++i) {
      const bool x_type = (i + j) % 2 == 0;
      const bool side = i == 0 || i == d, top = j == 0 || j == d;
      if ((side && top) || (side && x_type) || (top && !x_type)) continue;
      Check c;
      c.basis = x_type ? 'X' : 'Z';
      c.x = 2.0 * i;
      c.y = 2.0 * j;
      for (const auto& off : x_type ? kXOrder : kZOrder) {
        const int dx = static_cast<int>(i) + (off[0] - 1) / 2, dy = static_cast<int>(j) + (off[1] - 1) / 2;
        const bool inside = dx >= 0 && dy >= 0 && dx < static_cast<int>(d) && dy < static_cast<int>(d);
        c.data_at_layer.push_back(inside ? dy * static_cast<int>(d) + dx : kNone);
      }
      L.checks.push_back(std::move(c));
    }
  for (unsigned k = 0; k < d; ++k) L.logical.push_back(basis == 'Z' ? k : k * d);
  return L;
}

// Repetition code: data i at (2i, 0), check i between data i and i + 1 at (2i + 1, 0), all checks
// of the memory basis (Z: the bit-flip code, X: the phase-flip code); the observable is data 0.
Layout repetition_layout(unsigned d, char basis) {
  Layout L;
  L.layers = 2;
  for (unsigned i = 0; i < d; ++i) {
    L.data.push_back(i);
    L.coords.push_back({2.0 * i, 0});
  }
  for (unsigned i = 0; i + 1 < d; ++i) {
    Check c;
    c.basis = basis;
    c.x = 2.0 * i + 1;
    c.data_at_layer = {static_cast<int>(i), static_cast<int>(i + 1)};
    L.checks.push_back(std::move(c));
  }
  L.logical = {0};
  return L;
}

// Column of a data qubit (the direction of the vertical cuts).
unsigned column_of(const MemorySpec& s, unsigned data_qubit) {
  return s.code == "surface" ? data_qubit % s.distance : data_qubit;
}

// Module of column c when d columns are cut into k contiguous blocks (sizes differ by at most 1).
unsigned column_module(unsigned c, unsigned d, unsigned k) {
  return static_cast<unsigned>((static_cast<unsigned long long>(c) * k) / d);
}

Layout build_layout(const MemorySpec& s) {
  Layout L = s.code == "surface" ? surface_layout(s.distance, s.basis) : repetition_layout(s.distance, s.basis);
  const unsigned n_data = static_cast<unsigned>(L.data.size());
  if (s.partition == "distributed") {
    // One data qubit per module; the GHZ qubit of each check sits next to its data qubit, and the
    // link qubit of Bell pair i next to GHZ qubit i - 1.
    L.distributed = true;
    L.num_modules = n_data;
    L.module.resize(n_data);
    for (unsigned q = 0; q < n_data; ++q) L.module[q] = q;
    for (Check& c : L.checks) {
      // The fusion chain follows the schedule order: an X on the middle Bell pair of a weight-4 check
      // acts on the data as X (CX) or Z (CZ) on q0 q1 (= q2 q3 times the check), a row for X checks and
      // a column for Z checks, the orientation in which two-qubit faults keep the distance d.
      c.data_order = c.data();
      for (unsigned dq : c.data_order) {
        c.ghz.push_back(static_cast<unsigned>(L.coords.size()));
        const auto& dc = L.coords[dq];
        L.coords.push_back({(3 * dc[0] + c.x) / 4, (3 * dc[1] + c.y) / 4});
        L.module.push_back(dq);
      }
      for (std::size_t i = 1; i < c.data_order.size(); ++i) {
        c.link.push_back(static_cast<unsigned>(L.coords.size()));
        const auto& dc = L.coords[c.data_order[i - 1]];
        L.coords.push_back({(dc[0] + c.x) / 2, (dc[1] + c.y) / 2});
        L.module.push_back(c.data_order[i - 1]);
      }
    }
    return L;
  }
  L.num_modules = s.modules;
  L.module.resize(n_data);
  for (unsigned q = 0; q < n_data; ++q) L.module[q] = column_module(column_of(s, q), s.distance, s.modules);
  for (Check& c : L.checks) {
    c.ancilla = static_cast<unsigned>(L.coords.size());
    L.coords.push_back({c.x, c.y});
    // A seam check's ancilla belongs to the module of its rightmost data column.
    unsigned col = 0;
    for (unsigned dq : c.data()) col = std::max(col, column_of(s, dq));
    L.module.push_back(column_module(col, s.distance, s.modules));
  }
  return L;
}

// Local noise of one kind of operation; idle noise is a Pauli channel per layer kind.
enum class LayerKind { Gate1, Gate2, MeasureReset };

struct LocalNoise {
  double gate1 = 0, gate2 = 0, measure = 0, reset = 0;
  std::array<std::array<double, 3>, 3> idle{};  // (pX, pY, pZ) per LayerKind
  bool idle_depolarizing = true;                 // SD6: DEPOLARIZE1(idle[k][0]) instead
  std::array<double, 3> link_wait{};             // waiting for links, once per round
};

// Pauli twirl of T1/T2 decay for t seconds (Ghosh, Fowler & Geller, PRA 86, 062318 (2012)): the
// Bloch components shrink by lambda_X = lambda_Y = e^(-t/T2), lambda_Z = e^(-t/T1) (the twirl drops
// the shift towards |0>), so pX = pY = (1 - e^(-t/T1))/4, pZ = (1 + e^(-t/T1) - 2e^(-t/T2))/4, which is
// (1 - e^(-t/T2))/2 - (1 - e^(-t/T1))/4 and >= 0 for T2 <= 2 T1.
std::array<double, 3> twirled_idle(double t, double t1, double t2) {
  if (t <= 0) return {0, 0, 0};
  const double a = std::isinf(t1) ? 0 : 1 - std::exp(-t / t1);
  const double b = std::isinf(t2) ? 0 : 1 - std::exp(-t / t2);
  return {a / 4, a / 4, std::max(0.0, b / 2 - a / 4)};
}

LocalNoise local_noise(const MemorySpec& s) {
  LocalNoise n;
  if (s.platform.empty()) {
    n.gate1 = n.gate2 = n.measure = n.reset = s.p;
    for (auto& k : n.idle) k = {s.p, 0, 0};
    return n;
  }
  const models::Platform pf = models::load_platform(s.platform);
  n.gate1 = pf.gate1_error;
  n.gate2 = pf.gate2_error;
  n.measure = pf.measure_error;
  n.reset = pf.reset_error;
  n.idle_depolarizing = false;
  n.idle[0] = twirled_idle(pf.gate1_duration_s, pf.t1_s, pf.t2_s);
  n.idle[1] = twirled_idle(pf.gate2_duration_s, pf.t1_s, pf.t2_s);
  n.idle[2] = twirled_idle(pf.measure_duration_s + pf.reset_duration_s, pf.t1_s, pf.t2_s);
  n.link_wait = twirled_idle(s.link_wait_s, pf.t1_s, pf.t2_s);
  return n;
}

class Writer {
 public:
  explicit Writer(LocalNoise noise) : noise_(noise) {}
  std::string text;

  void op(std::string_view name, const std::vector<unsigned>& targets) {
    if (targets.empty()) return;
    text += name;
    for (unsigned q : targets) fmt::format_to(std::back_inserter(text), " {}", q);
    text += '\n';
  }
  void channel(std::string_view name, double p, const std::vector<unsigned>& targets) {
    if (p <= 0 || targets.empty()) return;
    fmt::format_to(std::back_inserter(text), "{}({})", name, p);
    for (unsigned q : targets) fmt::format_to(std::back_inserter(text), " {}", q);
    text += '\n';
  }
  // Idle noise on every qubit of `all` not in `busy`.
  void idle(LayerKind kind, const std::vector<unsigned>& all, const std::vector<unsigned>& busy) {
    std::vector<char> is_busy(all.empty() ? 0 : *std::max_element(all.begin(), all.end()) + 1, 0);
    for (unsigned q : busy)
      if (q < is_busy.size()) is_busy[q] = 1;
    std::vector<unsigned> idle;
    for (unsigned q : all)
      if (!is_busy[q]) idle.push_back(q);
    const auto& p = noise_.idle[static_cast<int>(kind)];
    if (noise_.idle_depolarizing) channel("DEPOLARIZE1", p[0], idle);
    else pauli_channel(p, idle);
  }
  // The wait for links once per round: interface_idle as DEPOLARIZE1, the platform's T1/T2 for
  // link_wait_s as a Pauli channel.
  void link_wait(double interface_idle, const std::vector<unsigned>& qubits) {
    channel("DEPOLARIZE1", interface_idle, qubits);
    pauli_channel(noise_.link_wait, qubits);
  }
  // A Pauli channel with disjoint probabilities (pX, pY, pZ), written exactly as independent
  // X_ERROR(qX), Y_ERROR(qY), Z_ERROR(qZ) where that is possible (so the DEM needs no approximation),
  // else as PAULI_CHANNEL_1. A channel shrinks the Bloch components by lambda_X = 1 - 2(pY + pZ),
  // lambda_Y = 1 - 2(pX + pZ), lambda_Z = 1 - 2(pX + pY); independent flips multiply them:
  // lambda_X = (1 - 2qY)(1 - 2qZ) etc., so 1 - 2qX = sqrt(lambda_Y lambda_Z / lambda_X) and cyclically.
  void pauli_channel(const std::array<double, 3>& p, const std::vector<unsigned>& qubits) {
    if ((p[0] <= 0 && p[1] <= 0 && p[2] <= 0) || qubits.empty()) return;
    const double lx = 1 - 2 * (p[1] + p[2]), ly = 1 - 2 * (p[0] + p[2]), lz = 1 - 2 * (p[0] + p[1]);
    if (lx > 0 && ly > 0 && lz > 0) {
      std::array<double, 3> q = {(1 - std::sqrt(ly * lz / lx)) / 2, (1 - std::sqrt(lx * lz / ly)) / 2,
                                 (1 - std::sqrt(lx * ly / lz)) / 2};
      // Rounding can leave -1e-17 where the exact value is 0.
      for (double& v : q)
        if (v < 0 && v > -1e-15) v = 0;
      if (q[0] >= 0 && q[1] >= 0 && q[2] >= 0) {
        channel("X_ERROR", q[0], qubits);
        channel("Y_ERROR", q[1], qubits);
        channel("Z_ERROR", q[2], qubits);
        return;
      }
    }
    fmt::format_to(std::back_inserter(text), "PAULI_CHANNEL_1({}, {}, {})", p[0], p[1], p[2]);
    for (unsigned q : qubits) fmt::format_to(std::back_inserter(text), " {}", q);
    text += '\n';
  }
  void tick() { text += "TICK\n"; }
  const LocalNoise& noise() const { return noise_; }

 private:
  LocalNoise noise_;
};

std::vector<unsigned> iota(unsigned n) {
  std::vector<unsigned> v(n);
  for (unsigned i = 0; i < n; ++i) v[i] = i;
  return v;
}

// What one round appended to the record: its length, and per check the offsets (within the round)
// of the results whose parity is the check's value.
struct RoundResults {
  unsigned count = 0;
  std::vector<std::vector<unsigned>> of_check;
};

// Local measurement with an ancilla per check: H on X ancillas, the CX layers, H, MR.
RoundResults emit_local_round(Writer& w, const Layout& L, const MemorySpec& s,
                              const std::vector<unsigned>& seam_qubits) {
  const LocalNoise& n = w.noise();
  const std::vector<unsigned> all = iota(static_cast<unsigned>(L.coords.size()));
  // A teleported CX (Eisert et al. 2000; host/circuit.h) through a Werner pair: X on the pair's far
  // half becomes X on the target, Z flips the MX that drives the CZ correction and becomes Z on the
  // control, Y both.
  const double bell_error = 1 - purified_werner_fidelity(s.bell_fidelity, s.purification_rounds);
  // Waiting for the link's Bell pairs before the remote gates of this round.
  w.link_wait(s.interface_idle, seam_qubits);
  std::vector<unsigned> x_anc, anc;
  for (const Check& c : L.checks) {
    anc.push_back(c.ancilla);
    if (c.basis == 'X') x_anc.push_back(c.ancilla);
  }
  auto hadamards = [&] {
    if (x_anc.empty()) return;
    w.op("H", x_anc);
    w.channel("DEPOLARIZE1", n.gate1, x_anc);
    w.idle(LayerKind::Gate1, all, x_anc);
    w.tick();
  };
  hadamards();
  for (unsigned k = 0; k < L.layers; ++k) {
    std::vector<unsigned> pairs, remote;
    for (const Check& c : L.checks) {
      const int dq = c.data_at_layer[k];
      if (dq == kNone) continue;
      const unsigned a = c.ancilla, q = static_cast<unsigned>(dq);
      const unsigned ctrl = c.basis == 'X' ? a : q, targ = c.basis == 'X' ? q : a;
      pairs.insert(pairs.end(), {ctrl, targ});
      if (L.module[a] != L.module[q]) remote.insert(remote.end(), {ctrl, targ});
    }
    w.op("CX", pairs);
    w.channel("DEPOLARIZE2", n.gate2, pairs);
    w.channel("DEPOLARIZE2", s.interface_error, remote);
    if (bell_error > 0 && !remote.empty()) {
      // X_t, Z_c and Z_c X_t, each with (1 - F)/3, disjoint. These three and I form a group like the
      // single-qubit Paulis, so the channel is exactly three independent mechanisms of probability
      // q = (1 - sqrt(1 - 4(1 - F)/3))/2, as DEPOLARIZE1 (docs/dem.md).
      const double q = (1 - std::sqrt(1 - 4 * bell_error / 3)) / 2;
      std::vector<unsigned> controls, targets;
      for (std::size_t i = 0; i < remote.size(); i += 2) {
        controls.push_back(remote[i]);
        targets.push_back(remote[i + 1]);
      }
      w.channel("X_ERROR", q, targets);
      w.channel("Z_ERROR", q, controls);
      for (std::size_t i = 0; i < remote.size(); i += 2)
        fmt::format_to(std::back_inserter(w.text), "E({}) Z{} X{}\n", q, remote[i], remote[i + 1]);
    }
    w.idle(LayerKind::Gate2, all, pairs);
    w.tick();
  }
  hadamards();
  w.channel("X_ERROR", n.measure, anc);
  w.op("MR", anc);
  w.channel("X_ERROR", n.reset, anc);
  w.idle(LayerKind::MeasureReset, all, anc);
  RoundResults r;
  r.count = static_cast<unsigned>(anc.size());
  for (unsigned i = 0; i < anc.size(); ++i) r.of_check.push_back({i});
  return r;
}

// GHZ measurement (Nickerson, Li & Benjamin, Nat. Commun. 4, 1756 (2013); Singh et al.,
// arXiv:2408.02837): per check a w-qubit GHZ state is fused from w - 1 Bell pairs, coupled to the data
// (CX GHZ->data for X checks, CZ for Z checks) in the four-layer schedule, and read out in the X basis.
RoundResults emit_ghz_round(Writer& w, const Layout& L, const MemorySpec& s) {
  const LocalNoise& n = w.noise();
  const std::vector<unsigned> all = iota(static_cast<unsigned>(L.coords.size()));
  const double bell_error = 1 - purified_werner_fidelity(s.bell_fidelity, s.purification_rounds);
  // Link generation: the data wait.
  w.link_wait(s.interface_idle, L.data);
  // Bell pairs (link[i-1], ghz[i]) delivered as Werner pairs: an ideal |Phi+> then DEPOLARIZE1(1 - F)
  // on one half, which is exactly the Werner state of fidelity F. The root ghz[0] starts in |+>.
  std::vector<unsigned> roots, halves, links, pair_targets, busy;
  for (const Check& c : L.checks) {
    roots.push_back(c.ghz[0]);
    for (std::size_t i = 1; i < c.ghz.size(); ++i) {
      links.push_back(c.link[i - 1]);
      halves.push_back(c.ghz[i]);
      pair_targets.insert(pair_targets.end(), {c.link[i - 1], c.ghz[i]});
    }
  }
  std::vector<unsigned> fresh = links;
  fresh.insert(fresh.end(), halves.begin(), halves.end());
  w.op("RX", roots);
  w.channel("Z_ERROR", n.reset, roots);
  w.op("R", fresh);
  w.op("H", links);
  w.op("CX", pair_targets);
  w.channel("DEPOLARIZE1", bell_error, halves);
  busy = roots;
  busy.insert(busy.end(), fresh.begin(), fresh.end());
  // The layer that resets the GHZ roots idles the others as long as a reset (with a platform: the
  // measure + reset duration); the wait for the pairs themselves is link_wait above.
  w.idle(LayerKind::MeasureReset, all, busy);
  w.tick();
  // Fusion: CX ghz[i-1] -> link[i-1] (local to ghz[i-1]'s module), measure link[i-1] = m_i; then
  // ghz[i] gets X when m_1 xor ... xor m_i = 1, which turns the chain into (|0...0> + |1...1>)/sqrt2.
  std::vector<unsigned> fuse;
  for (const Check& c : L.checks)
    for (std::size_t i = 1; i < c.ghz.size(); ++i) fuse.insert(fuse.end(), {c.ghz[i - 1], c.link[i - 1]});
  w.op("CX", fuse);
  w.channel("DEPOLARIZE2", n.gate2, fuse);
  w.idle(LayerKind::Gate2, all, fuse);
  w.tick();
  w.channel("X_ERROR", n.measure, links);
  w.op("M", links);
  {
    // links were measured in check order, link[i-1] of each check in turn.
    const unsigned total = static_cast<unsigned>(links.size());
    unsigned pos = 0;
    for (const Check& c : L.checks) {
      for (std::size_t i = 1; i < c.ghz.size(); ++i)
        for (std::size_t j = 1; j <= i; ++j)
          fmt::format_to(std::back_inserter(w.text), "CX rec[-{}] {}\n", total - (pos + j - 1), c.ghz[i]);
      pos += static_cast<unsigned>(c.ghz.size() - 1);
    }
  }
  w.idle(LayerKind::MeasureReset, all, links);
  w.tick();
  for (unsigned k = 0; k < L.layers; ++k) {
    std::vector<unsigned> cx, cz;
    for (const Check& c : L.checks) {
      const int dq = c.data_at_layer[k];
      if (dq == kNone) continue;
      const auto it = std::find(c.data_order.begin(), c.data_order.end(), static_cast<unsigned>(dq));
      const unsigned g = c.ghz[static_cast<std::size_t>(it - c.data_order.begin())];
      std::vector<unsigned>& gates = c.basis == 'X' ? cx : cz;
      gates.insert(gates.end(), {g, static_cast<unsigned>(dq)});
    }
    w.op("CX", cx);
    w.op("CZ", cz);
    w.channel("DEPOLARIZE2", n.gate2, cx);
    w.channel("DEPOLARIZE2", n.gate2, cz);
    std::vector<unsigned> pairs = cx;
    pairs.insert(pairs.end(), cz.begin(), cz.end());
    w.idle(LayerKind::Gate2, all, pairs);
    w.tick();
  }
  std::vector<unsigned> ghz;
  RoundResults r;
  r.count = static_cast<unsigned>(links.size());
  for (const Check& c : L.checks) {
    std::vector<unsigned> offsets;
    for (unsigned g : c.ghz) {
      offsets.push_back(r.count++);
      ghz.push_back(g);
    }
    r.of_check.push_back(std::move(offsets));
  }
  w.channel("Z_ERROR", n.measure, ghz);
  w.op("MX", ghz);
  w.idle(LayerKind::MeasureReset, all, ghz);
  return r;
}

std::string coords_text(double x, double y, double t) { return fmt::format("{}, {}, {}", x, y, t); }

void require(bool ok, const std::string& what) {
  if (!ok) throw InputError("memory circuit: " + what);
}

}  // namespace

double purified_werner_fidelity(double f, unsigned rounds) {
  // BBPSSW success-conditioned output for two Werner inputs of fidelity F (Bennett et al. 1996, Eq. 4):
  // F' = (F^2 + ((1-F)/3)^2) / (F^2 + 2F(1-F)/3 + 5((1-F)/3)^2).
  for (unsigned r = 0; r < rounds; ++r) {
    const double e = (1 - f) / 3;
    f = (f * f + e * e) / (f * f + 2 * f * e + 5 * e * e);
  }
  return f;
}

void validate(const MemorySpec& s) {
  require(s.code == "surface" || s.code == "repetition",
          fmt::format("code '{}': use \"surface\" or \"repetition\"", s.code));
  require(s.distance >= 2, fmt::format("distance {}: needs at least 2", s.distance));
  require(s.distance <= 1000, fmt::format("distance {}: at most 1000", s.distance));
  require(s.rounds >= 1, "rounds 0: needs at least 1 round");
  require(s.basis == 'X' || s.basis == 'Z', fmt::format("basis '{}': use X or Z", s.basis));
  auto probability = [](double v, const char* name) {
    require(v >= 0 && v <= 1, fmt::format("{} {}: must be a probability in [0, 1]", name, v));
  };
  probability(s.p, "p");
  probability(s.interface_error, "interface_error");
  probability(s.interface_idle, "interface_idle");
  require(s.bell_fidelity > 0.25 && s.bell_fidelity <= 1,
          fmt::format("bell_fidelity {}: must be in (0.25, 1] (a Werner pair; 1 - F is its DEPOLARIZE1 "
                      "probability, below the 3/4 of the fully mixed state)", s.bell_fidelity));
  require(s.purification_rounds <= 20,
          fmt::format("purification_rounds {}: at most 20", s.purification_rounds));
  require(s.partition == "split" || s.partition == "distributed",
          fmt::format("partition '{}': use \"split\" or \"distributed\"", s.partition));
  require(s.modules >= 1, "modules 0: needs at least 1 module");
  const unsigned n_data = s.code == "surface" ? s.distance * s.distance : s.distance;
  if (s.partition == "split") {
    require(s.modules <= s.distance,
            fmt::format("modules {}: a {} of distance {} has {} columns to cut between, so at most {} modules",
                        s.modules, s.code, s.distance, s.distance, s.distance));

  } else {
    require(s.modules == 1 || s.modules == n_data,
            fmt::format("modules {}: partition \"distributed\" puts one data qubit in each module ({} "
                        "modules); leave modules at 1 or give {}", s.modules, n_data, n_data));
    require(s.interface_error == 0,
            "interface_error applies to partition \"split\"; for \"distributed\" give bell_fidelity");
  }
  require(std::isfinite(s.link_wait_s) && s.link_wait_s >= 0,
          fmt::format("link_wait_s {}: must be a duration >= 0 in seconds", s.link_wait_s));
  require(s.link_wait_s == 0 || !s.platform.empty(),
          fmt::format("link_wait_s {}: waiting time needs a platform (its T1/T2 give the idle noise); without "
                      "one give interface_idle", s.link_wait_s));
  require(s.platform.empty() || s.p == 0,
          fmt::format("platform '{}' and p {}: the platform's gate errors replace p; give one of them",
                      s.platform, s.p));
}

unsigned bell_pairs_per_round(const MemorySpec& spec) {
  validate(spec);
  const Layout L = build_layout(spec);
  unsigned pairs = 0;
  for (const Check& c : L.checks) {
    if (L.distributed) {
      pairs += static_cast<unsigned>(c.link.size());
    } else {
      for (unsigned dq : c.data()) pairs += L.module[dq] != L.module[c.ancilla];
    }
  }
  return pairs;
}

LinkInterface link_interface(const std::string& link_file, unsigned pairs) {
  const Experiment ex = read_experiment_file(link_file);
  if (ex.kind != "link")
    throw InputError(fmt::format("{}: an experiment of kind \"{}\"; a memory circuit's link needs kind = \"link\"",
                                 link_file, ex.kind));
  const LinkExperimentResult r = run_link_experiment(ex.link);
  std::vector<double> t;
  for (double v : r.time_s)
    if (std::isfinite(v)) t.push_back(v);
  if (t.empty()) throw InputError(fmt::format("{}: the link delivered no pair", link_file));
  std::sort(t.begin(), t.end());
  LinkInterface out;
  out.bell_fidelity = r.fidelity_mean;
  out.pairs = pairs;
  out.episodes = t.size();
  double sum = 0;
  for (double v : t) sum += v;
  out.mean_time_s = sum / static_cast<double>(t.size());
  // The largest of `pairs` draws from the episodes' empirical distribution:
  // E[max] = sum_i t_(i) [(i/n)^N - ((i-1)/n)^N] over the sorted times.
  const double n = static_cast<double>(t.size());
  double below = 0;
  for (std::size_t i = 0; i < t.size() && pairs > 0; ++i) {
    const double upto = std::pow(static_cast<double>(i + 1) / n, pairs);
    out.round_wait_s += t[i] * (upto - below);
    below = upto;
  }
  return out;
}

namespace {
// The spec with its link experiment turned into bell_fidelity and link_wait_s.
MemorySpec resolve_link(const MemorySpec& s) {
  if (s.link.empty()) return s;
  require(s.bell_fidelity == 1 && s.purification_rounds == 0 && s.link_wait_s == 0,
          fmt::format("link '{}' sets bell_fidelity and link_wait_s (purification belongs in the link file); "
                      "give either the link or those numbers", s.link));
  require(!s.platform.empty(),
          fmt::format("link '{}': the wait for pairs needs a platform (its T1/T2 give the idle noise); give a "
                      "platform, or bell_fidelity without a link", s.link));
  MemorySpec out = s;
  out.link.clear();
  const unsigned pairs = bell_pairs_per_round(out);
  require(pairs > 0, fmt::format("link '{}': this circuit uses no Bell pairs (split into {} module{})", s.link,
                                 s.modules, s.modules == 1 ? "" : "s"));
  const LinkInterface li = link_interface(s.link, pairs);
  require(li.bell_fidelity > 0.25 && li.bell_fidelity <= 1,
          fmt::format("link '{}': mean delivered fidelity {} is not above 1/4", s.link, li.bell_fidelity));
  out.bell_fidelity = li.bell_fidelity;
  out.link_wait_s = li.round_wait_s;
  return out;
}
}  // namespace

std::string memory_circuit_text(const MemorySpec& spec) {
  validate(spec);
  const MemorySpec s = resolve_link(spec);
  validate(s);
  const Layout L = build_layout(s);
  Writer w(local_noise(s));
  const LocalNoise& n = w.noise();
  const unsigned n_qubits = static_cast<unsigned>(L.coords.size());

  fmt::format_to(std::back_inserter(w.text),
                 "# qweave gen: {} code memory, distance {}, {} rounds, basis {}, partition {}, {} module{}\n",
                 s.code, s.distance, s.rounds, s.basis, L.distributed ? "distributed" : "split", L.num_modules,
                 L.num_modules == 1 ? "" : "s");
  if (s.platform.empty()) {
    fmt::format_to(std::back_inserter(w.text), "# noise: SD6 p = {}", s.p);
  } else {
    fmt::format_to(std::back_inserter(w.text), "# noise: platform {}", s.platform);
  }
  if (L.distributed) {
    fmt::format_to(std::back_inserter(w.text), ", bell_fidelity = {} ({} purification rounds: {})",
                   s.bell_fidelity, s.purification_rounds,
                   purified_werner_fidelity(s.bell_fidelity, s.purification_rounds));
  } else {
    fmt::format_to(std::back_inserter(w.text), ", interface_error = {}", s.interface_error);
    if (s.bell_fidelity < 1)
      fmt::format_to(std::back_inserter(w.text), ", bell_fidelity = {} ({} purification rounds: {})",
                     s.bell_fidelity, s.purification_rounds,
                     purified_werner_fidelity(s.bell_fidelity, s.purification_rounds));
  }
  fmt::format_to(std::back_inserter(w.text), ", interface_idle = {}", s.interface_idle);
  if (!spec.link.empty())
    fmt::format_to(std::back_inserter(w.text), ", from link {} ({} pairs per round)", spec.link,
                   bell_pairs_per_round(s));
  if (s.link_wait_s > 0) fmt::format_to(std::back_inserter(w.text), ", link_wait_s = {}", s.link_wait_s);
  w.text += '\n';
  for (unsigned q = 0; q < n_qubits; ++q)
    fmt::format_to(std::back_inserter(w.text), "QUBIT_COORDS({}, {}) {}\n", L.coords[q][0], L.coords[q][1], q);
  std::vector<std::vector<unsigned>> owned(L.num_modules);
  for (unsigned q = 0; q < n_qubits; ++q) owned[L.module[q]].push_back(q);
  for (unsigned m = 0; m < L.num_modules; ++m) {
    fmt::format_to(std::back_inserter(w.text), "# module {}: qubits", m);
    for (unsigned q : owned[m]) fmt::format_to(std::back_inserter(w.text), " {}", q);
    w.text += '\n';
  }

  // Qubits of modules that take part in a remote gate ("split"): they idle while links deliver.
  std::vector<unsigned> seam_qubits;
  if (!L.distributed && L.num_modules > 1) {
    std::vector<char> on_seam(L.num_modules, 0);
    for (const Check& c : L.checks)
      for (unsigned dq : c.data())
        if (L.module[dq] != L.module[c.ancilla]) on_seam[L.module[dq]] = on_seam[L.module[c.ancilla]] = 1;
    for (unsigned q = 0; q < n_qubits; ++q)
      if (on_seam[L.module[q]]) seam_qubits.push_back(q);
  }

  // Initial state: data in the memory basis, ancillas in |0>.
  std::vector<unsigned> ancillas;
  if (!L.distributed)
    for (const Check& c : L.checks) ancillas.push_back(c.ancilla);
  w.op(s.basis == 'Z' ? "R" : "RX", L.data);
  w.op("R", ancillas);
  w.channel(s.basis == 'Z' ? "X_ERROR" : "Z_ERROR", n.reset, L.data);
  w.channel("X_ERROR", n.reset, ancillas);
  w.tick();

  auto round = [&](Writer& out) {
    return L.distributed ? emit_ghz_round(out, L, s) : emit_local_round(out, L, s, seam_qubits);
  };
  auto rec_list = [](const std::vector<unsigned>& lookbacks) {
    std::string t;
    for (unsigned k : lookbacks) t += fmt::format(" rec[-{}]", k);
    return t;
  };

  // Round 1: only checks of the memory basis are deterministic.
  const RoundResults r = round(w);
  for (std::size_t i = 0; i < L.checks.size(); ++i) {
    const Check& c = L.checks[i];
    if (c.basis != s.basis) continue;
    std::vector<unsigned> lb;
    for (unsigned o : r.of_check[i]) lb.push_back(r.count - o);
    fmt::format_to(std::back_inserter(w.text), "DETECTOR({}){}\n", coords_text(c.x, c.y, 0), rec_list(lb));
  }
  if (s.rounds > 1) {
    Writer body(n);
    body.tick();
    round(body);
    body.text += "SHIFT_COORDS(0, 0, 1)\n";
    for (std::size_t i = 0; i < L.checks.size(); ++i) {
      const Check& c = L.checks[i];
      std::vector<unsigned> lb;
      for (unsigned o : r.of_check[i]) lb.push_back(r.count - o);
      for (unsigned o : r.of_check[i]) lb.push_back(2 * r.count - o);
      fmt::format_to(std::back_inserter(body.text), "DETECTOR({}){}\n", coords_text(c.x, c.y, 0), rec_list(lb));
    }
    fmt::format_to(std::back_inserter(w.text), "REPEAT {} {{\n", s.rounds - 1);
    std::size_t start = 0;
    while (start < body.text.size()) {
      const std::size_t end = body.text.find('\n', start);
      w.text += "    " + body.text.substr(start, end - start + 1);
      start = end + 1;
    }
    w.text += "}\n";
  }

  // Final data measurement in the memory basis: the checks of that basis once more, and the logical.
  w.tick();
  w.channel(s.basis == 'Z' ? "X_ERROR" : "Z_ERROR", n.measure, L.data);
  w.op(s.basis == 'Z' ? "M" : "MX", L.data);
  const unsigned n_data = static_cast<unsigned>(L.data.size());
  for (std::size_t i = 0; i < L.checks.size(); ++i) {
    const Check& c = L.checks[i];
    if (c.basis != s.basis) continue;
    std::vector<unsigned> lb;
    for (unsigned dq : c.data()) lb.push_back(n_data - dq);
    for (unsigned o : r.of_check[i]) lb.push_back(n_data + r.count - o);
    fmt::format_to(std::back_inserter(w.text), "DETECTOR({}){}\n", coords_text(c.x, c.y, 1), rec_list(lb));
  }
  std::vector<unsigned> lb;
  for (unsigned dq : L.logical) lb.push_back(n_data - dq);
  fmt::format_to(std::back_inserter(w.text), "OBSERVABLE_INCLUDE(0){}\n", rec_list(lb));
  return w.text;
}

Circuit memory_circuit(const MemorySpec& spec) {
  return parse_stim(memory_circuit_text(spec),
                    fmt::format("<{} d={} r={} {}>", spec.code, spec.distance, spec.rounds, spec.basis));
}

std::vector<unsigned> module_of_qubit(const MemorySpec& spec) {
  validate(spec);
  return build_layout(spec).module;
}

std::vector<char> detector_basis(const MemorySpec& spec) {
  validate(spec);
  const Layout L = build_layout(spec);
  std::vector<char> out;
  for (const Check& c : L.checks)
    if (c.basis == spec.basis) out.push_back(c.basis);
  for (unsigned r = 1; r < spec.rounds; ++r)
    for (const Check& c : L.checks) out.push_back(c.basis);
  for (const Check& c : L.checks)
    if (c.basis == spec.basis) out.push_back(c.basis);
  return out;
}

}  // namespace qw::gen
