#include "host/tableau.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "host/clifford.h"
#include "host/errors.h"

namespace qw {
namespace {

using cd = std::complex<double>;

// ---- gate actions derived from gate_matrix ---------------------------------------------------

// i^k in (x1,z1)(x2,z2) = i^k (x1^x2, z1^z2) for Hermitian Paulis (Y = x&z), per bit position:
// k = +1 on `plus` bits, -1 on `minus` bits (Aaronson-Gottesman's g function, bitwise).
inline int product_phase(std::uint64_t x1, std::uint64_t z1, std::uint64_t x2, std::uint64_t z2) {
  const std::uint64_t plus = (x1 & ~z1 & x2 & z2) | (~x1 & z1 & x2 & ~z2) | (x1 & z1 & ~x2 & z2);
  const std::uint64_t minus = (x1 & ~z1 & ~x2 & z2) | (~x1 & z1 & x2 & z2) | (x1 & z1 & x2 & ~z2);
  return std::popcount(plus) - std::popcount(minus);
}

// A Hermitian Pauli product (-1)^sign * prod_i P_i on distinct qubits (factors with x or z set).
struct Product {
  std::vector<std::uint32_t> qubits;
  std::vector<std::uint8_t> xs, zs;
  bool sign = false;
  bool inverted = false;  // the result is flipped (!targets)
};

// ---- the tableau -----------------------------------------------------------------------------

class Tableau {
 public:
  explicit Tableau(std::uint32_t n)
      : n_(n), w_((std::size_t{n} + 63) / 64), x_((2 * std::size_t{n} + 2) * w_), z_(x_.size()), r_(2 * n + 2) {
    for (std::uint32_t q = 0; q < n; ++q) {
      set(x_, q, q, true);       // destabiliser q: X_q
      set(z_, n + q, q, true);   // stabiliser q: Z_q
    }
  }

  // Raw outcome of measuring the product (0 = +1 eigenvalue); random outcomes are 0.
  bool measure(const Product& p, bool* was_random) {
    const std::size_t rows = 2 * std::size_t{n_};
    std::size_t pivot = rows;
    for (std::size_t i = n_; i < rows; ++i) {
      if (anticommutes(i, p)) { pivot = i; break; }
    }
    if (pivot < rows) {
      *was_random = true;
      for (std::size_t i = 0; i < rows; ++i) {
        if (i != pivot && i + n_ != pivot && anticommutes(i, p)) rowmul(i, pivot);
      }
      copy_row(pivot - n_, pivot);
      load(pivot, p);
      return false;
    }
    *was_random = false;
    const std::size_t s = scratch();
    clear_row(s);
    for (std::size_t i = 0; i < n_; ++i) {
      if (anticommutes(i, p)) rowmul(s, i + n_);
    }
    return r_[s] != p.sign;
  }

  // Conjugation by the Pauli: signs flip on rows that anticommute with it.
  void apply_pauli(std::uint32_t q, bool x, bool z) {
    const std::size_t rows = 2 * std::size_t{n_};
    for (std::size_t i = 0; i < rows; ++i) {
      if ((x && get(z_, i, q)) != (z && get(x_, i, q))) r_[i] ^= 1;
    }
  }

  void apply(const CliffordAction& a, const std::uint32_t* qs) {
    const std::size_t rows = 2 * std::size_t{n_};
    for (std::size_t i = 0; i < rows; ++i) {
      unsigned bits = 0;
      for (unsigned j = 0; j < a.group; ++j) {
        bits |= (get(x_, i, qs[j]) ? 1u : 0u) << (2 * j);
        bits |= (get(z_, i, qs[j]) ? 1u : 0u) << (2 * j + 1);
      }
      if (bits == 0) continue;
      const unsigned img = a.image[bits];
      r_[i] ^= a.sign[bits];
      for (unsigned j = 0; j < a.group; ++j) {
        set(x_, i, qs[j], (img >> (2 * j)) & 1);
        set(z_, i, qs[j], (img >> (2 * j + 1)) & 1);
      }
    }
  }

  // exp(-i pi/4 P) (dag: exp(+i pi/4 P)): rows Q anticommuting with P become -i P Q (dag: +i P Q).
  void apply_spp(const Product& p, bool dag) {
    const std::size_t rows = 2 * std::size_t{n_};
    const std::size_t pr = scratch() + 1;
    load(pr, p);
    for (std::size_t i = 0; i < rows; ++i) {
      if (!anticommutes(i, p)) continue;
      int k = left_multiply(i, pr);
      k += dag ? 1 : 3;
      r_[i] = static_cast<std::uint8_t>(((k % 4 + 4) % 4) >> 1);
    }
  }

 private:
  std::size_t scratch() const { return 2 * std::size_t{n_}; }
  bool get(const std::vector<std::uint64_t>& m, std::size_t row, std::uint32_t q) const {
    return (m[row * w_ + q / 64] >> (q % 64)) & 1;
  }
  void set(std::vector<std::uint64_t>& m, std::size_t row, std::uint32_t q, bool v) {
    std::uint64_t& word = m[row * w_ + q / 64];
    const std::uint64_t bit = std::uint64_t{1} << (q % 64);
    word = v ? (word | bit) : (word & ~bit);
  }
  bool anticommutes(std::size_t row, const Product& p) const {
    bool a = false;
    for (std::size_t f = 0; f < p.qubits.size(); ++f) {
      a ^= (p.xs[f] && get(z_, row, p.qubits[f])) != (p.zs[f] && get(x_, row, p.qubits[f]));
    }
    return a;
  }
  void clear_row(std::size_t row) {
    std::fill_n(x_.begin() + static_cast<std::ptrdiff_t>(row * w_), w_, 0);
    std::fill_n(z_.begin() + static_cast<std::ptrdiff_t>(row * w_), w_, 0);
    r_[row] = 0;
  }
  void copy_row(std::size_t dst, std::size_t src) {
    std::copy_n(x_.begin() + static_cast<std::ptrdiff_t>(src * w_), w_, x_.begin() + static_cast<std::ptrdiff_t>(dst * w_));
    std::copy_n(z_.begin() + static_cast<std::ptrdiff_t>(src * w_), w_, z_.begin() + static_cast<std::ptrdiff_t>(dst * w_));
    r_[dst] = r_[src];
  }
  void load(std::size_t row, const Product& p) {
    clear_row(row);
    for (std::size_t f = 0; f < p.qubits.size(); ++f) {
      set(x_, row, p.qubits[f], p.xs[f]);
      set(z_, row, p.qubits[f], p.zs[f]);
    }
    r_[row] = p.sign;
  }
  // row <- src * row; returns k with src * row = i^k (new row, unsigned): k includes both signs.
  int left_multiply(std::size_t row, std::size_t src) {
    int k = 2 * (r_[row] + r_[src]);
    std::uint64_t* xr = x_.data() + row * w_;
    std::uint64_t* zr = z_.data() + row * w_;
    const std::uint64_t* xs = x_.data() + src * w_;
    const std::uint64_t* zs = z_.data() + src * w_;
    for (std::size_t w = 0; w < w_; ++w) {
      k += product_phase(xs[w], zs[w], xr[w], zr[w]);
      xr[w] ^= xs[w];
      zr[w] ^= zs[w];
    }
    return k;
  }
  // row <- src * row for commuting rows (Aaronson-Gottesman rowsum).
  void rowmul(std::size_t row, std::size_t src) {
    const int k = left_multiply(row, src);
    r_[row] = static_cast<std::uint8_t>(((k % 4 + 4) % 4) >> 1);
  }

  std::uint32_t n_;
  std::size_t w_;
  std::vector<std::uint64_t> x_, z_;  // rows 0..n-1 destabilisers, n..2n-1 stabilisers, scratch, P
  std::vector<std::uint8_t> r_;
};

// ---- the circuit walk ------------------------------------------------------------------------

class Reference {
 public:
  Reference(const Circuit& c, std::vector<std::uint8_t>* random)
      : source_(c.source_name), t_(c.num_qubits()), random_(random) {
    record_.reserve(c.num_measurements());
    if (random_) {
      random_->clear();
      random_->reserve(c.num_measurements());
    }
  }

  void run(const Circuit& c) {
    for (const Instruction& op : c.instructions()) {
      if (op.gate == GateId::REPEAT) {
        for (std::uint64_t i = 0; i < op.repeat_count; ++i) run(c.block(op));
        continue;
      }
      step(c, op);
    }
  }

  std::vector<std::uint8_t> take() { return std::move(record_); }

 private:
  InputError error(const Instruction& op, const std::string& what) const {
    return InputError(source_, op.where.line, op.where.column, what);
  }

  void push(bool bit, bool was_random) {
    record_.push_back(bit ? 1 : 0);
    if (random_) random_->push_back(was_random ? 1 : 0);
  }

  const CliffordAction& action(const Instruction& op, GateId g, std::span<const double> args) {
    auto key = std::make_pair(g, std::vector<double>(args.begin(), args.end()));
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, clifford_action(g, args)).first;
    if (!it->second) {
      throw error(op, fmt::format("{} is not a Clifford gate: the stabilizer reference simulation runs "
                                  "Clifford circuits (use the dense engine)", gate_info(g).name));
    }
    return *it->second;
  }

  // Multiplies factor (x, z) on q into the product being built (as Pauli on the right).
  static void multiply_factor(std::map<std::uint32_t, std::pair<bool, bool>>& f, int& k, std::uint32_t q, bool x,
                              bool z) {
    auto& [fx, fz] = f[q];
    k += product_phase(fx, fz, x, z);
    fx ^= x;
    fz ^= z;
  }
  Product finish(const Instruction& op, std::map<std::uint32_t, std::pair<bool, bool>>& f, int k, bool inverted) {
    k = (k % 4 + 4) % 4;
    if (k % 2) {
      throw error(op, fmt::format("{} product is anti-Hermitian (a qubit appears with anticommuting Paulis)",
                                  gate_info(op.gate).name));
    }
    Product p;
    p.sign = k == 2;
    p.inverted = inverted;
    for (const auto& [q, xz] : f) {
      if (!xz.first && !xz.second) continue;
      p.qubits.push_back(q);
      p.xs.push_back(xz.first);
      p.zs.push_back(xz.second);
    }
    return p;
  }
  static Product single(std::uint32_t q, char basis, bool inverted) {
    Product p;
    p.qubits = {q};
    p.xs = {static_cast<std::uint8_t>(basis != 'Z')};
    p.zs = {static_cast<std::uint8_t>(basis != 'X')};
    p.inverted = inverted;
    return p;
  }
  std::vector<Product> products(const Instruction& op, std::span<const Target> ts) {
    std::vector<Product> out;
    std::map<std::uint32_t, std::pair<bool, bool>> f;
    int k = 0;
    bool inverted = false, open = false, join = false;
    for (const Target& t : ts) {
      if (t.is_combiner()) { join = true; continue; }
      if (open && !join) {
        out.push_back(finish(op, f, k, inverted));
        f.clear();
        k = 0;
        inverted = false;
      }
      join = false;
      open = true;
      const char c = t.pauli_char() ? t.pauli_char() : 'Z';
      multiply_factor(f, k, t.value, c != 'Z', c != 'X');
      inverted ^= t.inverted();
    }
    if (open) out.push_back(finish(op, f, k, inverted));
    return out;
  }

  void measure(const Product& p) {
    bool was_random = false;
    const bool raw = t_.measure(p, &was_random);
    push(raw != p.inverted, was_random);
  }
  // Measures in the basis, then puts the qubit in the +1 eigenstate; returns the raw outcome.
  bool reset(std::uint32_t q, char basis, bool* was_random) {
    const bool raw = t_.measure(single(q, basis, false), was_random);
    if (raw) {
      if (basis == 'X') t_.apply_pauli(q, false, true);
      else t_.apply_pauli(q, true, false);  // X flips Z and Y
    }
    return raw;
  }

  void step(const Circuit& c, const Instruction& op) {
    const GateInfo& info = gate_info(op.gate);
    const auto ts = c.targets(op);
    const auto args = c.args(op);
    switch (info.kind) {
      case GateKind::Annotation: case GateKind::Block: return;
      case GateKind::Noise:
        if (op.gate == GateId::BELL_PAIR || op.gate == GateId::LINK) {
          // Noiseless: |Phi+> on each pair.
          const CliffordAction& h = action(op, GateId::H, {});
          const CliffordAction& cx = action(op, GateId::CX, {});
          for (std::size_t i = 0; i + 1 < ts.size(); i += 2) {
            bool r = false;
            reset(ts[i].value, 'Z', &r);
            reset(ts[i + 1].value, 'Z', &r);
            const std::uint32_t qs[2] = {ts[i].value, ts[i + 1].value};
            t_.apply(h, qs);
            t_.apply(cx, qs);
          }
          return;
        }
        for (std::uint64_t i = results_of(c, op); i > 0; --i) push(false, false);  // heralds: 0
        return;
      case GateKind::Unitary: return unitary(op, info, ts, args);
      case GateKind::Collapse: return collapse(op, ts);
    }
  }

  void unitary(const Instruction& op, const GateInfo& info, std::span<const Target> ts,
               std::span<const double> args) {
    if (op.gate == GateId::SPP || op.gate == GateId::SPP_DAG) {
      for (const Product& p : products(op, ts)) t_.apply_spp(p, (op.gate == GateId::SPP_DAG) != p.inverted);
      return;
    }
    if (op.gate == GateId::I || op.gate == GateId::II) return;
    const CliffordAction& a = action(op, op.gate, args);
    const unsigned g = info.group;
    for (std::size_t i = 0; i + g <= ts.size(); i += g) {
      bool classical = false;
      for (unsigned j = 0; j < g; ++j) classical |= !ts[i + j].is_qubit();
      if (!classical) {
        std::uint32_t qs[2] = {ts[i].value, g > 1 ? ts[i + 1].value : 0};
        t_.apply(a, qs);
        continue;
      }
      // Classically controlled Pauli (the rec side is the control, as the dense engine).
      const Target &x = ts[i], &y = ts[i + 1];
      const Target& ctl = x.is_qubit() ? y : x;
      const Target& tgt = x.is_qubit() ? x : y;
      if (!tgt.is_qubit() || ctl.is_sweep()) continue;  // no sweep data: sweep bits are 0
      if (ctl.value == 0 || ctl.value > record_.size()) {
        throw error(op, fmt::format("rec[-{}] reaches before the first measurement", ctl.value));
      }
      if (!record_[record_.size() - ctl.value]) continue;
      char p = 'Z';
      if (op.gate == GateId::CX || op.gate == GateId::XCZ) p = 'X';
      if (op.gate == GateId::CY || op.gate == GateId::YCZ) p = 'Y';
      t_.apply_pauli(tgt.value, p != 'Z', p != 'X');
    }
  }

  void collapse(const Instruction& op, std::span<const Target> ts) {
    char basis = 'Z';
    switch (op.gate) {
      case GateId::MX: case GateId::MRX: case GateId::RX: case GateId::MXX: basis = 'X'; break;
      case GateId::MY: case GateId::MRY: case GateId::RY: case GateId::MYY: basis = 'Y'; break;
      default: break;
    }
    switch (op.gate) {
      case GateId::M: case GateId::MX: case GateId::MY:
        for (const Target& t : ts) measure(single(t.value, basis, t.inverted()));
        return;
      case GateId::MR: case GateId::MRX: case GateId::MRY:
        for (const Target& t : ts) {
          bool was_random = false;
          const bool raw = reset(t.value, basis, &was_random);
          push(raw != t.inverted(), was_random);
        }
        return;
      case GateId::R: case GateId::RX: case GateId::RY:
        for (const Target& t : ts) {
          bool was_random = false;
          reset(t.value, basis, &was_random);
        }
        return;
      case GateId::MPP:
        for (const Product& p : products(op, ts)) measure(p);
        return;
      case GateId::MXX: case GateId::MYY: case GateId::MZZ:
        for (std::size_t i = 0; i + 1 < ts.size(); i += 2) {
          std::map<std::uint32_t, std::pair<bool, bool>> f;
          int k = 0;
          multiply_factor(f, k, ts[i].value, basis != 'Z', basis != 'X');
          multiply_factor(f, k, ts[i + 1].value, basis != 'Z', basis != 'X');
          measure(finish(op, f, k, ts[i].inverted() != ts[i + 1].inverted()));
        }
        return;
      case GateId::MPAD:
        for (const Target& t : ts) push(t.value != 0, false);
        return;
      default:
        throw error(op, fmt::format("{} is not supported by the stabilizer reference simulation",
                                    gate_info(op.gate).name));
    }
  }

  std::string source_;
  Tableau t_;
  std::vector<std::uint8_t>* random_;
  std::vector<std::uint8_t> record_;
  std::map<std::pair<GateId, std::vector<double>>, std::optional<CliffordAction>> cache_;
};

}  // namespace

std::vector<std::uint8_t> reference_sample(const Circuit& c, std::vector<std::uint8_t>* random) {
  Reference r(c, random);
  r.run(c);
  return r.take();
}

}  // namespace qw
