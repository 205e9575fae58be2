// Union-find decoder: Delfosse & Nickerson, "Almost-linear time decoding algorithm for topological
// codes", Quantum 5, 595 (2021), with weighted growth (Huang, Newman & Brown, PRA 102, 012419 (2020)):
// every odd cluster not touching the boundary grows all its boundary edges at once, by the amount
// that fully grows the next edge (an edge between two growing clusters grows from both ends), and
// clusters joined by fully grown edges merge (union by size, path compression). When no odd cluster
// is left, each cluster's grown edges are peeled from a spanning tree (rooted at the boundary when
// the cluster reaches it): a leaf that holds a detection event takes its tree edge into the
// correction and passes the event to its parent.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "host/decoder.h"

namespace qw {
namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

class UnionFindDecoder final : public Decoder {
 public:
  explicit UnionFindDecoder(std::shared_ptr<const MatchingGraph> g) : g_(std::move(g)) {
    const std::size_t n = g_->num_nodes(), m = g_->edges.size();
    parent_.assign(n, 0);
    size_.assign(n, 0);
    odd_.assign(n, 0);
    boundary_.assign(n, 0);
    defect_.assign(n, 0);
    next_.assign(n, kNone);
    tail_.assign(n, kNone);
    vstamp_.assign(n, 0);
    visit_.assign(n, 0);
    tree_edge_.assign(n, kNone);
    growth_.assign(m, 0);
    estamp_.assign(m, 0);
    grown_.assign(m, 0);
    rate_.assign(m, 0);
    rstamp_.assign(m, 0);
  }

  std::unique_ptr<Decoder> clone() const override { return std::make_unique<UnionFindDecoder>(g_); }
  const MatchingGraph& graph() const override { return *g_; }

  double decode(const std::uint8_t* dets, std::uint8_t* out) override {
    const MatchingGraph& g = *g_;
    const std::size_t obs_bytes = (g.num_observables + 7) / 8;
    std::memset(out, 0, obs_bytes);
    next_epoch();
    touched_.clear();
    active_.clear();
    const std::size_t det_bytes = (g.num_detectors + 7) / 8;
    for (std::size_t byte = 0; byte < det_bytes; ++byte) {
      for (unsigned bits = dets[byte]; bits; bits &= bits - 1) {
        const std::uint32_t d = static_cast<std::uint32_t>(byte * 8 + __builtin_ctz(bits));
        if (d >= g.num_detectors) continue;
        touch(d);
        defect_[d] = 1;
        odd_[d] = 1;
        active_.push_back(d);
      }
    }
    if (active_.empty()) return 0;
    grow();
    return peel(out, obs_bytes);
  }

 private:
  void next_epoch() {
    if (++epoch_ == 0) {
      std::fill(vstamp_.begin(), vstamp_.end(), 0);
      std::fill(estamp_.begin(), estamp_.end(), 0);
      epoch_ = 1;
    }
  }
  // A node joins the shot's clusters as a cluster of its own.
  void touch(std::uint32_t v) {
    if (vstamp_[v] == epoch_) return;
    vstamp_[v] = epoch_;
    parent_[v] = v;
    size_[v] = 1;
    odd_[v] = 0;
    defect_[v] = 0;
    boundary_[v] = v == g_->boundary();
    next_[v] = kNone;
    tail_[v] = v;
    touched_.push_back(v);
  }
  std::uint32_t find(std::uint32_t v) {
    std::uint32_t r = v;
    while (parent_[r] != r) r = parent_[r];
    while (parent_[v] != r) {
      const std::uint32_t up = parent_[v];
      parent_[v] = r;
      v = up;
    }
    return r;
  }
  void unite(std::uint32_t a, std::uint32_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    if (size_[a] < size_[b]) std::swap(a, b);
    parent_[b] = a;
    size_[a] += size_[b];
    odd_[a] ^= odd_[b];
    boundary_[a] |= boundary_[b];
    next_[tail_[a]] = b;  // splice b's node list after a's
    tail_[a] = tail_[b];
  }
  bool edge_grown(std::uint32_t e) const { return estamp_[e] == epoch_ && grown_[e]; }

  void grow() {
    const MatchingGraph& g = *g_;
    std::vector<std::uint32_t> roots;
    while (true) {
      // The odd clusters that do not reach the boundary.
      roots.clear();
      for (std::uint32_t v : active_) {
        const std::uint32_t r = find(v);
        if (odd_[r] && !boundary_[r]) roots.push_back(r);
      }
      if (roots.empty()) return;
      std::sort(roots.begin(), roots.end());
      roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
      active_ = roots;
      // Their boundary edges, each with the number of growing clusters at its ends.
      if (++rate_epoch_ == 0) {
        std::fill(rstamp_.begin(), rstamp_.end(), 0);
        rate_epoch_ = 1;
      }
      frontier_.clear();
      for (std::uint32_t r : roots) {
        for (std::uint32_t v = r; v != kNone; v = next_[v]) {
          for (std::uint32_t k = g.offsets[v]; k < g.offsets[v + 1]; ++k) {
            const std::uint32_t e = g.incident[k];
            if (edge_grown(e)) continue;
            const MatchingEdge& ed = g.edges[e];
            const std::uint32_t w = ed.a == v ? ed.b : ed.a;
            if (vstamp_[w] == epoch_ && find(w) == r) {
              // Both ends in this cluster: not a boundary edge (it joins nothing new).
              continue;
            }
            if (rstamp_[e] != rate_epoch_) {
              rstamp_[e] = rate_epoch_;
              rate_[e] = 0;
              frontier_.push_back(e);
            }
            ++rate_[e];
          }
        }
      }
      if (frontier_.empty()) return;  // an odd cluster with nowhere to grow: leave it
      std::int64_t step = std::numeric_limits<std::int64_t>::max();
      for (std::uint32_t e : frontier_) {
        if (estamp_[e] != epoch_) {
          estamp_[e] = epoch_;
          growth_[e] = 0;
          grown_[e] = 0;
        }
        const std::int64_t left = g.edges[e].weight_units - growth_[e];
        step = std::min(step, (left + rate_[e] - 1) / rate_[e]);
      }
      step = std::max<std::int64_t>(step, 0);
      for (std::uint32_t e : frontier_) {
        growth_[e] += step * rate_[e];
        if (growth_[e] >= g.edges[e].weight_units) {
          grown_[e] = 1;
          touch(g.edges[e].a);
          touch(g.edges[e].b);
          unite(g.edges[e].a, g.edges[e].b);
        }
      }
    }
  }

  double peel(std::uint8_t* out, std::size_t obs_bytes) {
    const MatchingGraph& g = *g_;
    // Spanning forest of the grown edges, breadth first, from the boundary first.
    order_.clear();
    if (++visit_epoch_ == 0) {
      std::fill(visit_.begin(), visit_.end(), 0);
      visit_epoch_ = 1;
    }
    auto bfs_from = [&](std::uint32_t root) {
      if (visit_[root] == visit_epoch_) return;
      visit_[root] = visit_epoch_;
      tree_edge_[root] = kNone;
      std::size_t head = order_.size();
      order_.push_back(root);
      while (head < order_.size()) {
        const std::uint32_t v = order_[head++];
        for (std::uint32_t k = g.offsets[v]; k < g.offsets[v + 1]; ++k) {
          const std::uint32_t e = g.incident[k];
          if (!edge_grown(e)) continue;
          const std::uint32_t w = g.edges[e].a == v ? g.edges[e].b : g.edges[e].a;
          if (visit_[w] == visit_epoch_) continue;
          visit_[w] = visit_epoch_;
          tree_edge_[w] = e;
          order_.push_back(w);
        }
      }
    };
    if (vstamp_[g.boundary()] == epoch_) bfs_from(g.boundary());
    for (std::uint32_t v : touched_) bfs_from(v);
    std::uint64_t predicted = 0;
    std::int64_t total = 0;
    for (std::size_t i = order_.size(); i-- > 0;) {
      const std::uint32_t v = order_[i];
      if (!defect_[v] || tree_edge_[v] == kNone) continue;
      const MatchingEdge& e = g.edges[tree_edge_[v]];
      const std::uint32_t up = e.a == v ? e.b : e.a;
      defect_[v] = 0;
      defect_[up] ^= 1;
      predicted ^= e.observables;
      total += e.weight_units;
    }
    for (std::size_t b = 0; b < obs_bytes; ++b) out[b] = static_cast<std::uint8_t>(predicted >> (8 * b));
    return static_cast<double>(total) / g.units_per_weight;
  }

  std::shared_ptr<const MatchingGraph> g_;
  std::uint32_t epoch_ = 0, rate_epoch_ = 0, visit_epoch_ = 0;
  // Per node (valid when vstamp_ == epoch_): union-find parent, cluster size, parity and boundary
  // flag (at roots), detection event, the cluster's node list (next_, tail_ at roots).
  std::vector<std::uint32_t> parent_, size_;
  std::vector<std::uint8_t> odd_, boundary_, defect_;
  std::vector<std::uint32_t> next_, tail_, vstamp_, visit_, tree_edge_;
  // Per edge (valid when estamp_ == epoch_): growth in weight units, fully grown.
  std::vector<std::int64_t> growth_;
  std::vector<std::uint32_t> estamp_;
  std::vector<std::uint8_t> grown_;
  std::vector<std::uint32_t> rate_, rstamp_;
  std::vector<std::uint32_t> touched_, active_, frontier_, order_;
};

}  // namespace

std::unique_ptr<Decoder> make_union_find_decoder(std::shared_ptr<const MatchingGraph> graph) {
  return std::make_unique<UnionFindDecoder>(std::move(graph));
}

}  // namespace qw
