#include "host/frame_engine.h"

#include "host/tableau.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "host/clifford.h"
#include "host/errors.h"
#include "kernels/link_maps.h"
#include "kernels/memory.h"
#include "mpi/runtime.h"

namespace qw {
namespace {

using cd = std::complex<double>;


InputError error_at(const std::string& source, const Instruction& op, const std::string& what) {
  return InputError(source, op.where.line, op.where.column, what);
}

// Pauli code (0 I, 1 X, 2 Y, 3 Z) as frame bits (x, z).
unsigned pauli_bits(unsigned code) { return (code == 1 || code == 2 ? 1u : 0u) | (code >= 2 ? 2u : 0u); }

enum class Kind {
  Skip, Clifford, Spp, Measure, MeasureReset, Reset, Channel, Correlated, Mixed, Detector, Observable,
  BellPair, Link
};

// A classically controlled Pauli or one quantum pair of an instruction that mixes both.
struct MixedStep {
  bool classical;
  std::uint32_t lookback, qubit;  // classical
  bool x, z;
  std::uint32_t arena;            // quantum: offset of the pair in the arena
};

struct Compiled {
  Kind kind = Kind::Skip;
  unsigned group = 1;
  frame::Gf2Map map{};
  std::uint32_t arena = 0, count = 0;  // qubits/factors at arena[arena..]; count = groups/products
  std::uint32_t offsets = 0;           // product offsets (relative to `arena`) at arena[offsets..]
  std::uint32_t factors = 0;           // number of factors (Correlated)
  frame::Bernoulli chance;             // result flip (Measure*) / fire (Correlated)
  bool else_branch = false;
  bool sequential = false;             // MR*/R* naming a qubit twice: target by target, in order
  frame::PauliTable table;
  std::vector<MixedStep> steps;
  std::vector<std::uint32_t> lookbacks;  // Detector / Observable
  std::uint64_t observable = 0;
  // BellPair / Link: pair i is (arena[arena + 2i], arena[arena + 2i + 1]); its Z factors for the
  // reset at arena[offsets + 2i..]; Link: the qubits that wait, at arena[waiting[i]..] (count
  // num_waiting each), and the link's name.
  std::vector<std::uint32_t> waiting;
  std::uint32_t num_waiting = 0;
  std::string link_name;
  frame::Gf2Map h{}, cx{};
};

struct Compiler {
  std::string source;
  std::vector<std::uint32_t> arena;
  std::unordered_map<const Instruction*, Compiled> ops;
  std::map<std::pair<GateId, std::vector<double>>, std::optional<frame::Gf2Map>> cliffords;
  std::uint64_t max_lookback = 1;
  std::uint32_t initial = 0;  // Z factors of every qubit in the arena, for the initial reset
  std::uint32_t num_qubits = 0;
  double t1_s = std::numeric_limits<double>::infinity(), t2_s = std::numeric_limits<double>::infinity();

  std::uint32_t push(std::uint32_t v) {
    arena.push_back(v);
    return static_cast<std::uint32_t>(arena.size() - 1);
  }

  static std::uint32_t factor_of(const Target& t) {
    const char p = t.pauli_char() ? t.pauli_char() : 'Z';
    std::uint32_t f = t.value;
    if (p == 'X' || p == 'Y') f |= frame::kFactorX;
    if (p == 'Z' || p == 'Y') f |= frame::kFactorZ;
    return f;
  }

  // Products of Pauli-product targets (X0*Y1 Z2 -> [X0 Y1], [Z2]) into the arena.
  void push_products(Compiled& k, std::span<const Target> ts) {
    std::vector<std::vector<std::uint32_t>> products;
    bool join = false;
    for (const Target& t : ts) {
      if (t.is_combiner()) { join = true; continue; }
      if (products.empty() || !join) products.emplace_back();
      join = false;
      products.back().push_back(factor_of(t));
    }
    push_product_list(k, products);
  }
  void push_product_list(Compiled& k, const std::vector<std::vector<std::uint32_t>>& products) {
    k.arena = static_cast<std::uint32_t>(arena.size());
    for (const auto& p : products)
      for (std::uint32_t f : p) push(f);
    k.offsets = static_cast<std::uint32_t>(arena.size());
    std::uint32_t at = 0;
    push(0);
    for (const auto& p : products) push(at += static_cast<std::uint32_t>(p.size()));
    k.count = static_cast<std::uint32_t>(products.size());
  }

  void compile(const Circuit& c) {
    for (const Instruction& op : c.instructions()) {
      if (op.gate == GateId::REPEAT) {
        compile(c.block(op));
        continue;
      }
      if (ops.count(&op)) continue;
      ops.emplace(&op, compile_op(c, op));
    }
  }

  Compiled compile_op(const Circuit& c, const Instruction& op) {
    const GateInfo& info = gate_info(op.gate);
    const auto ts = c.targets(op);
    const auto args = c.args(op);
    Compiled k;
    k.group = info.group;
    switch (info.kind) {
      case GateKind::Unitary: return compile_unitary(c, op, info, ts, args);
      case GateKind::Collapse: return compile_collapse(op, info, ts, args);
      case GateKind::Noise:
        if (op.gate == GateId::BELL_PAIR || op.gate == GateId::LINK) return compile_pair(c, op, ts, args);
        return compile_noise(op, info, ts, args);
      case GateKind::Annotation:
        if (op.gate == GateId::DETECTOR || op.gate == GateId::OBSERVABLE_INCLUDE) {
          k.kind = op.gate == GateId::DETECTOR ? Kind::Detector : Kind::Observable;
          for (const Target& t : ts) {
            if (!t.is_rec()) {
              throw error_at(source, op, fmt::format("{} with Pauli targets is not supported by the frame "
                                                     "engine yet; use rec[-k] targets", info.name));
            }
            k.lookbacks.push_back(t.value);
            max_lookback = std::max<std::uint64_t>(max_lookback, t.value);
          }
          if (k.kind == Kind::Observable) k.observable = static_cast<std::uint64_t>(args[0]);
        }
        return k;
      default: return k;
    }
  }

  std::optional<frame::Gf2Map> clifford(GateId g, std::span<const double> args) {
    auto key = std::make_pair(g, std::vector<double>(args.begin(), args.end()));
    auto it = cliffords.find(key);
    if (it == cliffords.end()) it = cliffords.emplace(key, clifford_frame_action(g, args)).first;
    return it->second;
  }

  Compiled compile_unitary(const Circuit& c, const Instruction& op, const GateInfo& info,
                           std::span<const Target> ts, std::span<const double> args) {
    (void)c;
    Compiled k;
    k.group = info.group;
    if (op.gate == GateId::SPP || op.gate == GateId::SPP_DAG) {
      k.kind = Kind::Spp;
      push_products(k, ts);
      return k;
    }
    if (op.gate == GateId::I || op.gate == GateId::II) return k;
    const auto map = info.group <= 2 ? clifford(op.gate, args) : std::nullopt;
    if (!map) {
      throw error_at(source, op, fmt::format("{} is not a Clifford gate: the frame engine runs Clifford "
                                             "circuits with Pauli noise (use the dense engine)", info.name));
    }
    k.map = *map;
    bool classical = false;
    for (const Target& t : ts) classical |= !t.is_qubit();
    if (!classical) {
      k.kind = Kind::Clifford;
      k.arena = static_cast<std::uint32_t>(arena.size());
      for (const Target& t : ts) push(t.value);
      k.count = static_cast<std::uint32_t>(ts.size() / info.group);
      return k;
    }
    // Classically controlled Paulis: the rec/sweep side is the Z control (as the dense engine).
    k.kind = Kind::Mixed;
    for (std::size_t i = 0; i + 1 < ts.size(); i += 2) {
      const Target &a = ts[i], &b = ts[i + 1];
      MixedStep s{};
      if (a.is_qubit() && b.is_qubit()) {
        s.classical = false;
        s.arena = push(a.value);
        push(b.value);
        k.steps.push_back(s);
        continue;
      }
      const Target& ctl = a.is_qubit() ? b : a;
      const Target& tgt = a.is_qubit() ? a : b;
      if (!tgt.is_qubit() || ctl.is_sweep()) continue;  // no sweep data: sweep bits are 0
      char p = 'Z';
      if (op.gate == GateId::CX || op.gate == GateId::XCZ) p = 'X';
      if (op.gate == GateId::CY || op.gate == GateId::YCZ) p = 'Y';
      s.classical = true;
      s.lookback = ctl.value;
      s.qubit = tgt.value;
      s.x = p != 'Z';
      s.z = p != 'X';
      max_lookback = std::max<std::uint64_t>(max_lookback, ctl.value);
      k.steps.push_back(s);
    }
    return k;
  }

  Compiled compile_collapse(const Instruction& op, const GateInfo& info, std::span<const Target> ts,
                            std::span<const double> args) {
    Compiled k;
    const double flip = args.empty() ? 0.0 : args[0];
    k.chance = frame::make_bernoulli(frame::threshold32(flip));
    std::uint32_t basis = frame::kFactorZ;
    switch (op.gate) {
      case GateId::MX: case GateId::MRX: case GateId::RX: case GateId::MXX: basis = frame::kFactorX; break;
      case GateId::MY: case GateId::MRY: case GateId::RY: case GateId::MYY:
        basis = frame::kFactorX | frame::kFactorZ; break;
      default: break;
    }
    std::vector<std::vector<std::uint32_t>> products;
    switch (op.gate) {
      case GateId::MPP:
        k.kind = Kind::Measure;
        push_products(k, ts);
        return k;
      case GateId::MPAD:
        k.kind = Kind::Measure;
        products.resize(ts.size());
        break;
      case GateId::MXX: case GateId::MYY: case GateId::MZZ:
        k.kind = Kind::Measure;
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) products.push_back({ts[i].value | basis, ts[i + 1].value | basis});
        break;
      default:
        k.kind = (op.gate == GateId::R || op.gate == GateId::RX || op.gate == GateId::RY) ? Kind::Reset
                 : (op.gate == GateId::MR || op.gate == GateId::MRX || op.gate == GateId::MRY) ? Kind::MeasureReset
                                                                                              : Kind::Measure;
        for (const Target& t : ts) products.push_back({t.value | basis});
        if (k.kind != Kind::Measure) {  // a reset between two measurements of one qubit must act in order
          std::vector<std::uint32_t> seen;
          for (const Target& t : ts) {
            if (std::find(seen.begin(), seen.end(), t.value) != seen.end()) k.sequential = true;
            seen.push_back(t.value);
          }
        }
        break;
    }
    (void)info;
    push_product_list(k, products);
    return k;
  }

  // BELL_PAIR / LINK a b: reset a and b, H a, CX a b (|Phi+>), then a Pauli on a: BELL_PAIR's
  // weights (Psi+ = X_a, Psi- = Y_a, Phi- = Z_a |Phi+>), or LINK's per-shot pair and the waiting
  // qubits' per-shot decoherence.
  Compiled compile_pair(const Circuit& c, const Instruction& op, std::span<const Target> ts,
                        std::span<const double> args) {
    Compiled k;
    k.kind = op.gate == GateId::LINK ? Kind::Link : Kind::BellPair;
    k.group = 2;
    k.h = *clifford(GateId::H, {});
    k.cx = *clifford(GateId::CX, {});
    k.arena = static_cast<std::uint32_t>(arena.size());
    for (const Target& t : ts) push(t.value);
    k.offsets = static_cast<std::uint32_t>(arena.size());
    for (const Target& t : ts) push(t.value | frame::kFactorZ);
    k.count = static_cast<std::uint32_t>(ts.size() / 2);
    if (k.kind == Kind::BellPair) {
      const auto w = bell_pair_weights(args);
      double cum = 0;
      for (unsigned c2 = 1; c2 < 4; ++c2) {
        cum += w[c2];
        k.table.threshold[k.table.outcomes] = frame::threshold32(cum);
        k.table.pauli[k.table.outcomes] = static_cast<std::uint8_t>(pauli_bits(c2));
        ++k.table.outcomes;
      }
      frame::finish_table(k.table);
      return k;
    }
    k.link_name = c.link_names.at(static_cast<std::size_t>(args[0]));
    const std::uint32_t n = num_qubits;
    k.num_waiting = n >= 2 ? n - 2 : 0;
    for (std::uint32_t i = 0; i < k.count; ++i) {
      k.waiting.push_back(static_cast<std::uint32_t>(arena.size()));
      for (std::uint32_t q = 0; q < n; ++q) {
        if (q != ts[2 * i].value && q != ts[2 * i + 1].value) push(q);
      }
    }
    return k;
  }

  Compiled compile_noise(const Instruction& op, const GateInfo& info, std::span<const Target> ts,
                         std::span<const double> args) {
    Compiled k;
    k.kind = Kind::Channel;
    k.group = info.group;
    frame::PauliTable& t = k.table;
    double cum = 0;
    auto add = [&](double p, std::uint8_t pauli, bool herald) {
      cum += p;
      t.threshold[t.outcomes] = frame::threshold32(cum);
      t.pauli[t.outcomes] = pauli;
      t.herald[t.outcomes] = herald;
      ++t.outcomes;
    };
    switch (op.gate) {
      case GateId::I_ERROR: case GateId::II_ERROR: k.kind = Kind::Skip; return k;
      case GateId::X_ERROR: add(args[0], 1, false); break;
      case GateId::Y_ERROR: add(args[0], 3, false); break;
      case GateId::Z_ERROR: add(args[0], 2, false); break;
      case GateId::DEPOLARIZE1:
        for (unsigned c = 1; c < 4; ++c) add(args[0] / 3, static_cast<std::uint8_t>(pauli_bits(c)), false);
        break;
      case GateId::PAULI_CHANNEL_1:
        for (unsigned c = 1; c < 4; ++c) add(args[c - 1], static_cast<std::uint8_t>(pauli_bits(c)), false);
        break;
      case GateId::DEPOLARIZE2: case GateId::PAULI_CHANNEL_2:
        // Stim's order IX, IY, IZ, XI, …, ZZ: outcome 4a + b is Pauli a on the first target, b on the second.
        for (unsigned c = 1; c < 16; ++c) {
          const double p = op.gate == GateId::DEPOLARIZE2 ? args[0] / 15 : args[c - 1];
          add(p, static_cast<std::uint8_t>(pauli_bits(c / 4) | (pauli_bits(c % 4) << 2)), false);
        }
        break;
      case GateId::IDLE: {
        // The Pauli twirl of the T1/T2 idle channel (docs/physics.md), as LINK's waiting qubits.
        if (std::isinf(t1_s) && std::isinf(t2_s)) {
          k.kind = Kind::Skip;
          return k;
        }
        const PauliProbs p = memory_pauli_twirl(args[0], t1_s, t2_s);
        add(p.p[1], 1, false);
        add(p.p[2], 3, false);
        add(p.p[3], 2, false);
        break;
      }
      case GateId::HERALDED_ERASE:
        // Erased: a uniformly random Pauli (I, X, Y, Z), heralded.
        for (unsigned c = 0; c < 4; ++c) add(args[0] / 4, static_cast<std::uint8_t>(pauli_bits(c)), true);
        t.heralded = true;
        break;
      case GateId::HERALDED_PAULI_CHANNEL_1:
        for (unsigned c = 0; c < 4; ++c) add(args[c], static_cast<std::uint8_t>(pauli_bits(c)), true);
        t.heralded = true;
        break;
      case GateId::CORRELATED_ERROR: case GateId::ELSE_CORRELATED_ERROR: {
        k.kind = Kind::Correlated;
        k.else_branch = op.gate == GateId::ELSE_CORRELATED_ERROR;
        k.chance = frame::make_bernoulli(frame::threshold32(args[0]));
        k.arena = static_cast<std::uint32_t>(arena.size());
        for (const Target& tg : ts) {
          if (!tg.is_combiner()) push(factor_of(tg));
        }
        k.factors = static_cast<std::uint32_t>(arena.size() - k.arena);
        return k;
      }
      default:
        throw error_at(source, op, fmt::format("{} is not a Pauli channel: the frame engine runs Clifford "
                                               "circuits with Pauli noise (use the dense engine)", info.name));
    }
    frame::finish_table(t);
    k.arena = static_cast<std::uint32_t>(arena.size());
    for (const Target& tg : ts) push(tg.value);
    k.count = static_cast<std::uint32_t>(ts.size() / info.group);
    return k;
  }
};

class FrameRun {
 public:
  FrameRun(const Circuit& c, const FrameOptions& o, Compiler& comp)
      : c_(c), comp_(comp), words_((o.shots + 63) / 64),
        x_(std::max<std::size_t>(1, std::size_t{c.num_qubits()}) * words_),
        z_(x_.size()),
        slots_(comp.max_lookback),
        record_(slots_ * words_),
        fired_(words_),
        arena_(comp.arena.size()),
        num_det_(c.num_detectors()),
        num_obs_(c.num_observables()),
        det_(num_det_ * words_),
        obs_(num_obs_ * words_),
        owner_(o.owner),
        links_(o.links),
        me_(mpi::rank()),
        owned_(owner_.empty() ? 0 : owner_.size()),
        row_(owner_.empty() ? 0 : words_) {
    f_ = frame::Frames{x_.data(), z_.data(), words_, o.first_shot / 64, o.seed};
    if (!owner_.empty()) {
      std::vector<std::uint8_t> mine(owner_.size());
      for (std::size_t q = 0; q < owner_.size(); ++q) mine[q] = owner_[q] == me_;
      copy_to_device(owned_.data(), mine.data(), mine.size());
      f_.owned = owned_.data();
      f_.lead = me_ == 0;
    }
    rec_ = frame::Record{record_.data(), slots_};
    if (!comp.arena.empty()) copy_to_device(arena_.data(), comp.arena.data(), comp.arena.size() * sizeof(std::uint32_t));
    frame::fill_zero(x_.data(), x_.size());
    frame::fill_zero(z_.data(), z_.size());
    frame::fill_zero(record_.data(), record_.size());
    frame::fill_zero(fired_.data(), fired_.size());
    frame::fill_zero(det_.data(), det_.size());
    frame::fill_zero(obs_.data(), obs_.size());
    frame::reset_factors(f_, at(comp.initial), c.num_qubits(), draws(c.num_qubits()));
  }

  void run(const Circuit& c) {
    for (const Instruction& op : c.instructions()) {
      if (op.gate == GateId::REPEAT) {
        for (std::uint64_t i = 0; i < op.repeat_count; ++i) run(c.block(op));
        continue;
      }
      step(op, comp_.ops.at(&op));
    }
  }

  // Record rows in result order (valid when every result kept its own slot), shot-major packed;
  // with modules on ranks, this rank's shots (the range of result()).
  void pack_records(std::uint64_t results, std::uint64_t shots, std::uint8_t* out) {
    device_synchronize();
    if (distributed()) {
      const auto [first, mine] = my_range(shots);
      (void)first;
      DeviceArray<std::uint64_t> rows = scatter_rows(record_.data(), results);
      frame::pack_shot_major(rows.data(), results, my_words_, mine, out);
      return;
    }
    frame::pack_shot_major(record_.data(), results, words_, shots, out);
  }

  FrameResult result(std::uint64_t first_shot, std::uint64_t shots) {
    device_synchronize();
    if (distributed()) {
      // Module-major partial parities -> whole shots per rank: XOR-reduce-scatter over words.
      const auto [first, mine] = my_range(shots);
      DeviceArray<std::uint64_t> det = scatter_rows(det_.data(), num_det_);
      DeviceArray<std::uint64_t> obs = scatter_rows(obs_.data(), num_obs_);
      return pack(det.data(), obs.data(), my_words_, first_shot + first, mine);
    }
    return pack(det_.data(), obs_.data(), words_, first_shot, shots);
  }

  // [first, first + count) of this rank's shots among `shots`, and my_words_ set: the words split
  // in rank order as mpi::my_shots splits them.
  std::pair<std::uint64_t, std::uint64_t> my_range(std::uint64_t shots) {
    const mpi::ShotRange w = mpi::my_shots(words_);
    my_first_word_ = w.first;
    my_words_ = w.count;
    const std::uint64_t first = std::min<std::uint64_t>(shots, w.first * 64);
    const std::uint64_t end = std::min<std::uint64_t>(shots, (w.first + w.count) * 64);
    return {first, end - first};
  }

  // rows x words_ partial bits (device) -> rows x my_words_ whole bits (device), by one XOR
  // reduce-scatter of the word-major transpose (each rank's words contiguous).
  DeviceArray<std::uint64_t> scatter_rows(const std::uint64_t* device_rows, std::uint64_t rows) {
    my_range(0);
    DeviceArray<std::uint64_t> out(std::max<std::uint64_t>(1, rows * my_words_));
    if (rows == 0) return out;
    std::vector<std::uint64_t> h(rows * words_), send(rows * words_), recv(rows * my_words_);
    copy_to_host(h.data(), device_rows, h.size() * sizeof(std::uint64_t));
    for (std::uint64_t r = 0; r < rows; ++r)
      for (index_t w = 0; w < words_; ++w) send[w * rows + r] = h[r * words_ + w];
    std::vector<std::uint64_t> counts;
    for (int k = 0; k < mpi::size(); ++k) {
      const std::uint64_t first = words_ * static_cast<std::uint64_t>(k) / static_cast<std::uint64_t>(mpi::size());
      const std::uint64_t end = words_ * static_cast<std::uint64_t>(k + 1) / static_cast<std::uint64_t>(mpi::size());
      counts.push_back((end - first) * rows);
    }
    mpi::reduce_scatter_xor(send.data(), recv.data(), counts);
    for (std::uint64_t w = 0; w < my_words_; ++w)
      for (std::uint64_t r = 0; r < rows; ++r) h[r * my_words_ + w] = recv[w * rows + r];
    copy_to_device(out.data(), h.data(), rows * my_words_ * sizeof(std::uint64_t));
    return out;
  }

  FrameResult pack(const std::uint64_t* det, const std::uint64_t* obs, index_t words, std::uint64_t first_shot,
                   std::uint64_t shots) {
    FrameResult r;
    r.first_shot = first_shot;
    r.shots = shots;
    r.num_detectors = num_det_;
    r.num_observables = num_obs_;
    r.detector_bytes_per_shot = (num_det_ + 7) / 8;
    r.observable_bytes_per_shot = (num_obs_ + 7) / 8;
    r.detectors.resize(shots * r.detector_bytes_per_shot);
    r.observables.resize(shots * r.observable_bytes_per_shot);
    r.detector_flip_counts.resize(num_det_);
    frame::pack_shot_major(det, num_det_, words, shots, r.detectors.data());
    frame::pack_shot_major(obs, num_obs_, words, shots, r.observables.data());
    frame::count_row_ones(det, num_det_, words, shots, r.detector_flip_counts.data());
    return r;
  }

 private:
  const std::uint32_t* at(std::uint32_t offset) const { return arena_.data() + offset; }
  bool distributed() const { return !owner_.empty(); }

  // Partial rows (one module's share) to whole ones: XOR over the ranks, through the host.
  void xor_over_ranks(std::uint64_t* device_rows, std::size_t count) {
    if (!distributed() || count == 0 || mpi::size() == 1) return;
    std::vector<std::uint64_t> h(count);
    copy_to_host(h.data(), device_rows, count * sizeof(std::uint64_t));
    mpi::allreduce_xor(h.data(), count);
    copy_to_device(device_rows, h.data(), count * sizeof(std::uint64_t));
  }

  // Before a two-qubit Clifford on groups [first, first + count) of the arena at `pairs`: every
  // group with one qubit here and one on another rank gets the other qubit's frame words from that
  // rank (one message per partner rank, all partners at once).
  void exchange_partners(const std::uint32_t* host_pairs, std::uint32_t count) {
    if (!distributed()) return;
    std::map<int, std::vector<std::pair<std::uint32_t, std::uint32_t>>> by_partner;  // (mine, theirs)
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint32_t a = host_pairs[2 * i], b = host_pairs[2 * i + 1];
      const int oa = owner_[a], ob = owner_[b];
      if (oa == ob || (oa != me_ && ob != me_)) continue;
      if (oa == me_) by_partner[ob].emplace_back(a, b);
      else by_partner[oa].emplace_back(b, a);
    }
    if (by_partner.empty()) return;
    const std::size_t row_bytes = words_ * sizeof(std::uint64_t);
    std::vector<int> partners;
    std::vector<std::vector<std::uint8_t>> send, recv;
    device_synchronize();
    for (const auto& [p, list] : by_partner) {
      partners.push_back(p);
      send.emplace_back(2 * row_bytes * list.size());
      recv.emplace_back(2 * row_bytes * list.size());
      std::uint8_t* out = send.back().data();
      for (const auto& [mine, theirs] : list) {
        (void)theirs;
        copy_to_host(out, x_.data() + std::size_t{mine} * words_, row_bytes);
        copy_to_host(out + row_bytes, z_.data() + std::size_t{mine} * words_, row_bytes);
        out += 2 * row_bytes;
      }
    }
    mpi::exchange_many(partners, send, recv);
    for (std::size_t k = 0; k < partners.size(); ++k) {
      const std::uint8_t* in = recv[k].data();
      for (const auto& [mine, theirs] : by_partner[partners[k]]) {
        (void)mine;
        copy_to_device(x_.data() + std::size_t{theirs} * words_, in, row_bytes);
        copy_to_device(z_.data() + std::size_t{theirs} * words_, in + row_bytes, row_bytes);
        in += 2 * row_bytes;
      }
    }
  }

  // A two-qubit Clifford instruction with one module per rank: groups that reuse a qubit run one
  // at a time (each sees the rows the groups before it wrote, wherever those ran).
  void distributed_clifford(const Compiled& k) {
    const std::uint32_t* pairs = comp_.arena.data() + k.arena;
    bool reuse = false;
    std::vector<std::uint32_t> seen(pairs, pairs + 2 * k.count);
    std::sort(seen.begin(), seen.end());
    reuse = std::adjacent_find(seen.begin(), seen.end()) != seen.end();
    if (!reuse) {
      exchange_partners(pairs, k.count);
      frame::apply_clifford(f_, at(k.arena), k.count, 2, k.map);
      return;
    }
    for (std::uint32_t i = 0; i < k.count; ++i) {
      exchange_partners(pairs + 2 * i, 1);
      frame::apply_clifford(f_, at(k.arena + 2 * i), 1, 2, k.map);
    }
  }

  // Pair i of a BELL_PAIR / LINK instruction (Compiler::compile_pair).
  void pair(const Instruction& op, const Compiled& k, std::uint32_t i) {
    frame::reset_factors(f_, at(k.offsets + 2 * i), 2, draws(2));
    frame::apply_clifford(f_, at(k.arena + 2 * i), 1, 1, k.h);
    if (distributed()) exchange_partners(comp_.arena.data() + k.arena + 2 * i, 1);
    frame::apply_clifford(f_, at(k.arena + 2 * i), 1, 2, k.cx);
    if (k.kind == Kind::BellPair) {
      frame::pauli_channel(f_, at(k.arena + 2 * i), 1, 1, k.table, rec_, results_, draws(1));
      return;
    }
    if (!links_ || !links_->deliveries.count(k.link_name)) {
      throw InputError(c_.source_name, op.where.line, op.where.column,
                       fmt::format("LINK({}) needs the link's definition (qweave sim --link {}=FILE.toml)",
                                   k.link_name, k.link_name));
    }
    const LinkDeliveries& d = links_->deliveries.at(k.link_name);
    const std::uint64_t occurrence = link_next_[k.link_name]++;
    const std::uint64_t slots = words_ * 64;
    if (cum_pair_.size() != 3 * slots) {
      cum_pair_ = DeviceArray<std::uint64_t>(3 * slots);
      cum_wait_ = DeviceArray<std::uint64_t>(3 * slots);
    }
    std::vector<std::uint64_t> pair_cum(3 * slots, 0), wait_cum(3 * slots, 0);
    const bool wait = links_->waiting_decoheres() && k.num_waiting > 0;
    for (std::uint64_t s = 0; s < links_->shots && s < slots; ++s) {
      const double* w = d.state(s, occurrence);
      pair_cum[3 * s] = frame::threshold32(w[1]);
      pair_cum[3 * s + 1] = frame::threshold32(w[1] + w[2]);
      pair_cum[3 * s + 2] = frame::threshold32(w[1] + w[2] + w[3]);
      if (wait) {
        const auto p = waiting_pauli(*links_, d.time(s, occurrence));
        wait_cum[3 * s] = frame::threshold32(p[1]);
        wait_cum[3 * s + 1] = frame::threshold32(p[1] + p[2]);
        wait_cum[3 * s + 2] = frame::threshold32(p[1] + p[2] + p[3]);
      }
    }
    copy_to_device(cum_pair_.data(), pair_cum.data(), pair_cum.size() * sizeof(std::uint64_t));
    frame::per_shot_pauli(f_, at(k.arena + 2 * i), 1, cum_pair_.data(), draws(1));
    const std::uint64_t wait_draws = draws(k.num_waiting);
    if (wait) {
      copy_to_device(cum_wait_.data(), wait_cum.data(), wait_cum.size() * sizeof(std::uint64_t));
      frame::per_shot_pauli(f_, at(k.waiting[i]), k.num_waiting, cum_wait_.data(), wait_draws);
    }
  }

  // Whether a product's factors lie on more than one rank.
  bool spans_ranks(std::uint32_t begin, std::uint32_t end) const {
    for (std::uint32_t j = begin + 1; j < end; ++j) {
      if (owner_[comp_.arena[j] & frame::kQubitMask] != owner_[comp_.arena[begin] & frame::kQubitMask]) return true;
    }
    return false;
  }
  std::uint64_t draws(std::uint64_t targets) {
    const std::uint64_t d = draw_;
    draw_ += frame::kDrawsPerTarget * std::max<std::uint64_t>(1, targets);
    return d;
  }
  std::uint64_t slot_of(const Instruction& op, std::uint32_t lookback) const {
    if (lookback == 0 || lookback > results_) {
      throw InputError(c_.source_name, op.where.line, op.where.column,
                       fmt::format("rec[-{}] reaches before the first measurement", lookback));
    }
    return (results_ - lookback) % slots_;
  }

  void step(const Instruction& op, const Compiled& k) {
    switch (k.kind) {
      case Kind::Skip: return;
      case Kind::Clifford:
        if (distributed() && k.group == 2) {
          distributed_clifford(k);
          return;
        }
        frame::apply_clifford(f_, at(k.arena), k.count, k.group, k.map);
        return;
      case Kind::Spp:
        if (distributed()) {
          for (std::uint32_t i = 0; i < k.count; ++i) {
            const std::uint32_t b = comp_.arena[k.offsets + i], e = comp_.arena[k.offsets + i + 1];
            if (spans_ranks(k.arena + b, k.arena + e)) {
              throw InputError(c_.source_name, op.where.line, op.where.column,
                               "SPP/SPP_DAG on qubits of more than one module is not supported with one "
                               "module per rank (--split modules); split the shots instead");
            }
          }
        }
        frame::apply_spp(f_, at(k.arena), at(k.offsets), k.count);
        return;
      case Kind::Measure: case Kind::MeasureReset: case Kind::Reset:
        if (k.sequential) {  // e.g. MR 0 0: the second measurement sees the first reset
          for (std::uint32_t i = 0; i < k.count; ++i) {
            if (k.kind != Kind::Reset) {
              frame::measure_products(f_, at(k.arena), at(k.offsets + i), 1, rec_, results_, k.chance, false,
                                      draws(1));
              results_ += 1;
            }
            frame::reset_factors(f_, at(k.arena + i), 1, draws(1));
          }
          return;
        }
        if (k.kind != Kind::Reset) {
          // MR*: the reset right after overwrites the frame, so the gauge bits would be dead work.
          frame::measure_products(f_, at(k.arena), at(k.offsets), k.count, rec_, results_, k.chance,
                                  k.kind == Kind::Measure, draws(k.count));
          results_ += k.count;
        }
        if (k.kind != Kind::Measure) frame::reset_factors(f_, at(k.arena), k.count, draws(k.count));
        return;
      case Kind::Channel: {
        frame::pauli_channel(f_, at(k.arena), k.count, k.group, k.table, rec_, results_, draws(k.count));
        if (k.table.heralded) results_ += k.count;
        return;
      }
      case Kind::Correlated:
        frame::correlated_error(f_, at(k.arena), k.factors, k.chance, k.else_branch, fired_.data(), draws(1));
        return;
      case Kind::Mixed:
        for (const MixedStep& s : k.steps) {
          if (s.classical && distributed()) {
            // The record row is partial on each rank: the whole bit, into a scratch row (the
            // record itself stays partial for the detectors' XOR over ranks).
            const std::uint64_t slot = slot_of(op, s.lookback);
            copy_device_to_device(row_.data(), record_.data() + slot * words_, words_ * sizeof(std::uint64_t));
            xor_over_ranks(row_.data(), words_);
            frame::controlled_pauli(f_, frame::Record{row_.data(), 1}, 0, s.qubit, s.x, s.z);
          } else if (s.classical) {
            frame::controlled_pauli(f_, rec_, slot_of(op, s.lookback), s.qubit, s.x, s.z);
          } else {
            if (distributed()) exchange_partners(comp_.arena.data() + s.arena, 1);
            frame::apply_clifford(f_, at(s.arena), 1, 2, k.map);
          }
        }
        return;
      case Kind::BellPair: case Kind::Link:
        for (std::uint32_t i = 0; i < k.count; ++i) pair(op, k, i);
        return;
      case Kind::Detector: case Kind::Observable: {
        std::uint64_t* dst = k.kind == Kind::Detector ? det_.data() + detector_++ * words_
                                                      : obs_.data() + k.observable * words_;
        std::vector<std::uint64_t> slots;
        for (std::uint32_t lb : k.lookbacks) slots.push_back(slot_of(op, lb));
        for (std::size_t i = 0; i < slots.size(); i += 64) {
          frame::xor_rows(dst, rec_, words_, slots.data() + i,
                          static_cast<unsigned>(std::min<std::size_t>(64, slots.size() - i)));
        }
        return;
      }
    }
  }

  const Circuit& c_;
  Compiler& comp_;
  index_t words_;
  DeviceArray<std::uint64_t> x_, z_;
  std::uint64_t slots_;
  DeviceArray<std::uint64_t> record_, fired_;
  DeviceArray<std::uint32_t> arena_;
  std::uint64_t num_det_, num_obs_;
  DeviceArray<std::uint64_t> det_, obs_;
  std::vector<int> owner_;
  std::uint64_t my_first_word_ = 0, my_words_ = 0;  // this rank's share of the result words
  const CircuitLinks* links_ = nullptr;
  std::map<std::string, std::uint64_t> link_next_;  // executions of LINK(name) so far (per shot)
  DeviceArray<std::uint64_t> cum_pair_, cum_wait_;  // per-shot thresholds of the current LINK
  int me_ = 0;
  DeviceArray<std::uint8_t> owned_;
  DeviceArray<std::uint64_t> row_;  // scratch: a whole record row for classical control
  frame::Frames f_{};
  frame::Record rec_{};
  std::uint64_t results_ = 0, detector_ = 0, draw_ = 0;
};

}  // namespace

std::optional<frame::Gf2Map> clifford_frame_action(GateId id, std::span<const double> args) {
  const auto action = clifford_action(id, args);
  if (!action) return std::nullopt;
  frame::Gf2Map m{};
  // Generator i in bit order (x0, z0, x1, z1); its image U P U^dag (sign dropped) as column i.
  const unsigned bits = std::min(2u * action->group, 4u);  // rows has 4 entries (group <= 2)
  for (unsigned i = 0; i < bits; ++i) {
    const unsigned q = action->image[1u << i];
    for (unsigned j = 0; j < bits; ++j) {
      if ((q >> j) & 1) m.rows[j] |= static_cast<std::uint8_t>(1u << i);
    }
  }
  return m;
}

std::vector<int> contiguous_owners(std::uint32_t qubits, int ranks) {
  std::vector<int> owner(qubits);
  for (std::uint32_t q = 0; q < qubits; ++q) {
    owner[q] = static_cast<int>(std::uint64_t{q} * static_cast<std::uint64_t>(ranks) / qubits);
  }
  return owner;
}

FrameResult run_frames(const Circuit& circuit, const FrameOptions& options) {
  if (options.first_shot % 64 != 0) {
    throw std::invalid_argument("run_frames: first_shot must be a multiple of 64");
  }
  if (!options.owner.empty()) {
    if (options.owner.size() != circuit.num_qubits()) {
      throw std::invalid_argument(fmt::format("run_frames: {} owners for {} qubits", options.owner.size(),
                                              circuit.num_qubits()));
    }
    for (int r : options.owner) {
      if (r < 0 || r >= mpi::size()) {
        throw std::invalid_argument(fmt::format("run_frames: owner rank {} outside 0..{}", r, mpi::size() - 1));
      }
    }
  }
  Compiler comp;
  comp.source = circuit.source_name;
  comp.num_qubits = circuit.num_qubits();
  comp.t1_s = options.t1_s;
  comp.t2_s = options.t2_s;
  comp.compile(circuit);
  // Every qubit starts in |0>, a Z eigenstate: the frame starts as x = 0, z = random (as Stim's),
  // so that measurements which do not commute with Z_q before anything touches q come out random.
  comp.initial = static_cast<std::uint32_t>(comp.arena.size());
  for (std::uint32_t q = 0; q < circuit.num_qubits(); ++q) comp.push(q | frame::kFactorZ);
  const std::uint64_t results = circuit.num_measurements();
  if (options.measurements) comp.max_lookback = std::max<std::uint64_t>(comp.max_lookback, results);
  FrameRun run(circuit, options, comp);
  run.run(circuit);
  FrameResult r = run.result(options.first_shot, options.shots);
  if (options.measurements) {
    r.num_measurements = results;
    r.measurement_bytes_per_shot = (results + 7) / 8;
    r.measurements.assign(r.shots * r.measurement_bytes_per_shot, 0);
    if (results > 0) run.pack_records(results, options.shots, r.measurements.data());
    const std::vector<std::uint8_t> ref = reference_sample(circuit);
    std::vector<std::uint8_t> row(r.measurement_bytes_per_shot, 0);
    for (std::uint64_t j = 0; j < ref.size(); ++j) {
      if (ref[j]) row[j / 8] |= static_cast<std::uint8_t>(1u << (j % 8));
    }
    for (std::uint64_t s = 0; s < r.shots; ++s)
      for (std::uint64_t b = 0; b < row.size(); ++b) r.measurements[s * row.size() + b] ^= row[b];
  }
  return r;
}

}  // namespace qw
