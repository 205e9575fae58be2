#include "host/fusion.h"

#include <algorithm>
#include <unordered_map>

namespace qw {
namespace {

using cd = std::complex<double>;

// A gate application inside a run.
struct Item {
  std::uint32_t op, target;
  std::vector<std::uint32_t> qubits;  // in the gate's order (bit j of its matrix)
  std::vector<cd> matrix;             // 2^g x 2^g row-major
  bool diagonal;
};

struct Block {
  std::vector<std::uint32_t> qubits;  // ascending
  std::vector<std::size_t> items;     // indices into the run's items, in order
  bool diagonal = true;
  bool alive = true;
};

bool is_diagonal(const std::vector<cd>& m, std::size_t dim) {
  for (std::size_t r = 0; r < dim; ++r)
    for (std::size_t c = 0; c < dim; ++c)
      if (r != c && m[r * dim + c] != cd(0.0)) return false;
  return true;
}

// Instructions that leave the state alone inside a run: annotations and the identity channels.
bool transparent(const Instruction& op, bool skip_collapse) {
  const GateInfo& info = gate_info(op.gate);
  if (op.gate == GateId::REPEAT) return false;
  if (info.kind == GateKind::Annotation) return true;
  if (op.gate == GateId::I_ERROR || op.gate == GateId::II_ERROR) return true;
  return skip_collapse && info.kind == GateKind::Collapse;
}

double block_cost(const Block& b, const FusionOptions&) {
  if (b.items.size() == 1) return 1.0;  // runs with the gate's own kernel
  if (b.diagonal) return 1.0;
  return fused_dense_cost(static_cast<unsigned>(b.qubits.size()));
}

// M <- G M, G the item's gate embedded in the block's qubits (bit j = qubits[j]).
void left_multiply(std::vector<cd>& M, const std::vector<std::uint32_t>& qubits, const Item& it) {
  const std::size_t D = std::size_t{1} << qubits.size();
  const unsigned g = static_cast<unsigned>(it.qubits.size());
  const std::size_t dg = std::size_t{1} << g;
  std::vector<unsigned> pos(g);
  std::size_t gate_bits = 0;
  for (unsigned j = 0; j < g; ++j) {
    pos[j] = static_cast<unsigned>(std::find(qubits.begin(), qubits.end(), it.qubits[j]) - qubits.begin());
    gate_bits |= std::size_t{1} << pos[j];
  }
  auto sub = [&](std::size_t r) {  // the gate's index of block index r
    std::size_t s = 0;
    for (unsigned j = 0; j < g; ++j) s |= ((r >> pos[j]) & 1u) << j;
    return s;
  };
  auto with = [&](std::size_t rest, std::size_t s) {  // block index: rest's other bits, gate bits s
    std::size_t r = rest & ~gate_bits;
    for (unsigned j = 0; j < g; ++j) r |= ((s >> j) & 1u) << pos[j];
    return r;
  };
  std::vector<cd> out(D * D, 0.0);
  for (std::size_t r = 0; r < D; ++r) {
    const std::size_t sr = sub(r);
    for (std::size_t sc = 0; sc < dg; ++sc) {
      const cd gv = it.matrix[sr * dg + sc];
      if (gv == cd(0.0)) continue;
      const std::size_t k = with(r, sc);
      for (std::size_t c = 0; c < D; ++c) out[r * D + c] += gv * M[k * D + c];
    }
  }
  M.swap(out);
}

FusedStep finish(const Block& b, const std::vector<Item>& items) {
  FusedStep s;
  if (b.items.size() == 1) {
    const Item& it = items[b.items[0]];
    s.kind = FusedStep::Kind::Gate;
    s.op = it.op;
    s.target = it.target;
    return s;
  }
  const std::size_t D = std::size_t{1} << b.qubits.size();
  s.qubits = b.qubits;
  s.gates = static_cast<std::uint32_t>(b.items.size());
  if (b.diagonal) {
    // The product of diagonals, entry by entry (in gate order, as the dense product would).
    s.kind = FusedStep::Kind::Diagonal;
    s.matrix.assign(D, 1.0);
    for (const std::size_t i : b.items) {
      const Item& it = items[i];
      const std::size_t dg = std::size_t{1} << it.qubits.size();
      std::vector<unsigned> pos;
      for (const std::uint32_t q : it.qubits) {
        pos.push_back(static_cast<unsigned>(std::find(b.qubits.begin(), b.qubits.end(), q) - b.qubits.begin()));
      }
      for (std::size_t t = 0; t < D; ++t) {
        std::size_t sub = 0;
        for (std::size_t j = 0; j < pos.size(); ++j) sub |= ((t >> pos[j]) & 1u) << j;
        s.matrix[t] = it.matrix[sub * dg + sub] * s.matrix[t];
      }
    }
    return s;
  }
  std::vector<cd> M(D * D, 0.0);
  for (std::size_t i = 0; i < D; ++i) M[i * D + i] = 1.0;
  for (const std::size_t i : b.items) left_multiply(M, b.qubits, items[i]);
  s.kind = FusedStep::Kind::Dense;
  s.matrix = std::move(M);
  return s;
}

// Greedy fusion of one run's gates (Aer's and qsim's fusers work alike; written afresh here). Every
// qubit remembers the last block that acts on it (its frontier). A gate may always join T, the
// latest of its qubits' frontier blocks: every block after T touches none of the gate's qubits (or
// it would be a frontier), so the gate commutes past them to T's place. Another frontier block may
// join too when it is open (the frontier of all its qubits: nothing after it touches them). The gate
// takes the larger merge whose block fits and that the cost model says is no dearer than the passes
// it replaces; otherwise it starts a block.
std::vector<FusedStep> fuse_items(const std::vector<Item>& items, const FusionOptions& o) {
  std::vector<Block> blocks;
  std::unordered_map<std::uint32_t, std::size_t> frontier;
  auto is_open = [&](std::size_t b) {
    for (const std::uint32_t q : blocks[b].qubits) {
      if (frontier.at(q) != b) return false;
    }
    return true;
  };
  // Whether the gate joins the blocks `members` (the first is the target), and at what gain.
  struct Choice {
    std::vector<std::size_t> members;
    std::vector<std::uint32_t> qubits;
    bool diagonal = false;
    double saving = -1;  // passes saved; < 0: not allowed
  };
  auto consider = [&](const Item& it, std::vector<std::size_t> members) {
    Choice ch;
    ch.qubits.assign(it.qubits.begin(), it.qubits.end());
    ch.diagonal = it.diagonal;
    double parts = 1.0;  // the gate on its own
    for (const std::size_t b : members) {
      ch.qubits.insert(ch.qubits.end(), blocks[b].qubits.begin(), blocks[b].qubits.end());
      ch.diagonal = ch.diagonal && blocks[b].diagonal;
      parts += block_cost(blocks[b], o);
    }
    std::sort(ch.qubits.begin(), ch.qubits.end());
    ch.qubits.erase(std::unique(ch.qubits.begin(), ch.qubits.end()), ch.qubits.end());
    const unsigned k = static_cast<unsigned>(ch.qubits.size());
    const bool fits = ch.diagonal ? k <= std::max(o.max_diagonal_qubits, o.max_dense_qubits) : k <= o.max_dense_qubits;
    const double merged = ch.diagonal ? 1.0 : fused_dense_cost(k);
    if (fits && merged <= parts + 1e-9) ch.saving = parts - merged;
    ch.members = std::move(members);
    return ch;
  };
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    std::vector<std::size_t> S;
    for (const std::uint32_t q : it.qubits) {
      auto f = frontier.find(q);
      if (f != frontier.end() && std::find(S.begin(), S.end(), f->second) == S.end()) S.push_back(f->second);
    }
    Choice best;
    if (!S.empty() && o.max_dense_qubits >= 2) {
      const std::size_t target = *std::max_element(S.begin(), S.end());
      std::vector<std::size_t> all{target};
      for (const std::size_t b : S) {
        if (b != target && is_open(b)) all.push_back(b);
      }
      best = consider(it, all);
      if (all.size() > 1) {
        Choice alone = consider(it, {target});
        if (alone.saving > best.saving) best = std::move(alone);
      }
    }
    if (best.saving >= 0) {
      const std::size_t target = best.members[0];
      Block& t = blocks[target];
      for (std::size_t m = 1; m < best.members.size(); ++m) {
        // An open block joins the later target: nothing after it touches its qubits, and the two
        // share none, so their gates' order is free.
        const std::size_t b = best.members[m];
        std::vector<std::size_t> joined = blocks[b].items;
        joined.insert(joined.end(), t.items.begin(), t.items.end());
        t.items.swap(joined);
        blocks[b].alive = false;
        for (const std::uint32_t q : blocks[b].qubits) frontier[q] = target;
      }
      t.items.push_back(i);
      t.qubits = best.qubits;
      t.diagonal = best.diagonal;
      for (const std::uint32_t q : it.qubits) frontier[q] = target;
    } else {
      Block b;
      b.qubits = it.qubits;
      std::sort(b.qubits.begin(), b.qubits.end());
      b.items.push_back(i);
      b.diagonal = it.diagonal;
      blocks.push_back(std::move(b));
      for (const std::uint32_t q : it.qubits) frontier[q] = blocks.size() - 1;
    }
  }
  std::vector<FusedStep> steps;
  for (const Block& b : blocks) {
    if (b.alive) steps.push_back(finish(b, items));
  }
  return steps;
}

}  // namespace

double fused_dense_cost(unsigned k) {
  // Passes of a one-qubit gate (the memory-bound pass) that a dense k-qubit block costs.
  // qweave_bench at 24 qubits, 2 threads, AVX-512 (bench/NOTES.md): a one-qubit gate ~31 ms, fused
  // dense blocks k = 3: ~45 ms, k = 4: ~50 ms, k = 5: ~85 ms; k = 6 about twice k = 5.
  static const double kCost[] = {1.0, 1.0, 1.1, 1.4, 1.7, 2.8, 6.0};
  return k < std::size(kCost) ? kCost[k] : 1e9;
}

bool fusable_unitary(const Circuit& c, const Instruction& op) {
  const GateInfo& info = gate_info(op.gate);
  if (info.kind != GateKind::Unitary || info.group == 0) return false;
  if (op.gate == GateId::SPP || op.gate == GateId::SPP_DAG) return false;
  for (const Target& t : c.targets(op)) {
    if (!t.is_qubit() || t.pauli_char() || t.inverted()) return false;
  }
  return !c.targets(op).empty();
}

std::vector<FusedRun> fuse_block(const Circuit& c, const FusionOptions& o) {
  std::vector<FusedRun> runs;
  if (o.max_dense_qubits < 2) return runs;
  const auto ops = c.instructions();
  std::size_t i = 0;
  while (i < ops.size()) {
    if (!fusable_unitary(c, ops[i])) {
      ++i;
      continue;
    }
    FusedRun run;
    run.begin = i;
    std::vector<Item> items;
    std::size_t j = i;
    for (; j < ops.size(); ++j) {
      const Instruction& op = ops[j];
      if (transparent(op, o.skip_collapse)) continue;
      if (!fusable_unitary(c, op)) break;
      const unsigned g = gate_info(op.gate).group;
      const auto ts = c.targets(op);
      const auto args = c.args(op);
      const std::vector<cd> m = gate_matrix(op.gate, args);
      const bool diag = is_diagonal(m, std::size_t{1} << g);
      for (std::size_t t = 0; t + g <= ts.size(); t += g) {
        Item it;
        it.op = static_cast<std::uint32_t>(j);
        it.target = static_cast<std::uint32_t>(t);
        for (unsigned q = 0; q < g; ++q) it.qubits.push_back(ts[t + q].value);
        it.matrix = m;
        it.diagonal = diag;
        items.push_back(std::move(it));
      }
    }
    run.end = j;
    run.steps = fuse_items(items, o);
    if (run.steps.size() < items.size()) runs.push_back(std::move(run));
    i = j;
  }
  return runs;
}

FusedStep density_step(const FusedStep& s, std::uint32_t n) {
  if (s.kind == FusedStep::Kind::Gate) return s;
  FusedStep d;
  d.kind = s.kind;
  d.gates = s.gates;
  const std::size_t k = s.qubits.size();
  d.qubits = s.qubits;
  for (const std::uint32_t q : s.qubits) d.qubits.push_back(q + n);
  const std::size_t D = std::size_t{1} << k;
  if (s.kind == FusedStep::Kind::Diagonal) {
    d.matrix.resize(D * D);
    for (std::size_t b = 0; b < D; ++b)
      for (std::size_t t = 0; t < D; ++t) d.matrix[t | (b << k)] = s.matrix[t] * std::conj(s.matrix[b]);
    return d;
  }
  const std::size_t DD = D * D;
  d.matrix.assign(DD * DD, 0.0);
  for (std::size_t rk = 0; rk < D; ++rk)
    for (std::size_t rb = 0; rb < D; ++rb)
      for (std::size_t ck = 0; ck < D; ++ck)
        for (std::size_t cb = 0; cb < D; ++cb) {
          d.matrix[(rk | (rb << k)) * DD + (ck | (cb << k))] =
              s.matrix[rk * D + ck] * std::conj(s.matrix[rb * D + cb]);
        }
  return d;
}

}  // namespace qw
