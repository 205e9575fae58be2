// Minimum-weight perfect matching decoder. The fired detectors' metric closure (Dijkstra over the
// matching graph, integer weights) is matched exactly (host/perfect_matching.h: LEMON's blossom).
#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>
#include <queue>
#include <utility>
#include <vector>

#include "host/decoder.h"
#include "host/errors.h"
#include "host/perfect_matching.h"

namespace qw {

namespace {

// Cost of a pair that no path joins (different components, no boundary): large enough to be
// chosen only when nothing else gives a perfect matching, small enough not to overflow LEMON's
// dual variables (4 x weight).
constexpr std::int64_t kNoPath = std::int64_t{1} << 50;

// Lightest paths between all detectors (never through the boundary node), with their observables:
// n Dijkstra runs once per graph, so that a shot needs no search at all.
struct AllPairs {
  std::uint32_t n = 0;
  std::vector<std::int64_t> dist;  // [n * n], -1: no path
  std::vector<std::uint64_t> obs;  // [n * n]
};

std::shared_ptr<const AllPairs> all_pairs(const MatchingGraph& g) {
  auto t = std::make_shared<AllPairs>();
  const std::uint32_t n = g.num_detectors;
  t->n = n;
  t->dist.assign(static_cast<std::size_t>(n) * n, -1);
  t->obs.assign(static_cast<std::size_t>(n) * n, 0);
#pragma omp parallel
  {
    using Item = std::pair<std::int64_t, std::uint32_t>;
    std::vector<Item> heap;
    std::vector<std::uint8_t> done(n);
    auto later = [](const Item& a, const Item& b) { return a.first > b.first; };
#pragma omp for schedule(dynamic, 8)
    for (std::int64_t src = 0; src < static_cast<std::int64_t>(n); ++src) {
      std::int64_t* dist = t->dist.data() + static_cast<std::size_t>(src) * n;
      std::uint64_t* obs = t->obs.data() + static_cast<std::size_t>(src) * n;
      std::fill(done.begin(), done.end(), 0);
      heap.clear();
      dist[src] = 0;
      heap.push_back({0, static_cast<std::uint32_t>(src)});
      while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), later);
        const auto [d, v] = heap.back();
        heap.pop_back();
        if (done[v]) continue;
        done[v] = 1;
        for (std::uint32_t at = g.offsets[v]; at < g.offsets[v + 1]; ++at) {
          const MatchingEdge& e = g.edges[g.incident[at]];
          const std::uint32_t w = e.a == v ? e.b : e.a;
          if (w == g.boundary() || done[w]) continue;
          const std::int64_t nd = d + e.weight_units;
          if (dist[w] < 0 || nd < dist[w]) {
            dist[w] = nd;
            obs[w] = obs[v] ^ e.observables;
            heap.push_back({nd, w});
            std::push_heap(heap.begin(), heap.end(), later);
          }
        }
      }
    }
  }
  return t;
}

class MwpmDecoder final : public Decoder {
 public:
  MwpmDecoder(std::shared_ptr<const MatchingGraph> g, std::shared_ptr<const AllPairs> table)
      : g_(std::move(g)), table_(std::move(table)), dist_(g_->num_nodes(), 0), obs_(g_->num_nodes(), 0),
        seen_(g_->num_nodes(), 0), done_(g_->num_nodes(), 0), slot_(g_->num_nodes(), -1) {}

  std::unique_ptr<Decoder> clone() const override { return std::make_unique<MwpmDecoder>(g_, table_); }
  const MatchingGraph& graph() const override { return *g_; }

  double decode(const std::uint8_t* dets, std::uint8_t* out) override {
    const MatchingGraph& g = *g_;
    const std::size_t obs_bytes = (g.num_observables + 7) / 8;
    std::memset(out, 0, obs_bytes);
    fired_.clear();
    const std::size_t det_bytes = (g.num_detectors + 7) / 8;
    for (std::size_t byte = 0; byte < det_bytes; ++byte) {
      for (unsigned bits = dets[byte]; bits; bits &= bits - 1) {
        const std::uint32_t d = static_cast<std::uint32_t>(byte * 8 + __builtin_ctz(bits));
        if (d < g.num_detectors) fired_.push_back(d);
      }
    }
    const std::size_t k = fired_.size();
    if (k == 0) return 0;
    const auto& bd = g.boundary_distance;
    const auto& bo = g.boundary_observables;
    bool all_reach_boundary = true;
    std::int64_t max_boundary = 0;
    for (std::size_t i = 0; i < k; ++i) {
      slot_[fired_[i]] = static_cast<std::int32_t>(i);
      if (bd[fired_[i]] < 0) all_reach_boundary = false;
      max_boundary = std::max(max_boundary, bd[fired_[i]]);
    }
    // cost_[i * k + j] (i < j): the cheaper of a path i-j and both to the boundary.
    cost_.assign(k * k, kNoPath);
    pair_obs_.assign(k * k, 0);
    for (std::size_t i = 0; i < k; ++i) {
      for (std::size_t j = i + 1; j < k; ++j) {
        if (bd[fired_[i]] >= 0 && bd[fired_[j]] >= 0) {
          cost_[i * k + j] = bd[fired_[i]] + bd[fired_[j]];
          pair_obs_[i * k + j] = bo[fired_[i]] ^ bo[fired_[j]];
        }
      }
    }
    // A path i-j longer than bd[i] + bd[j] never beats the boundary. So when every fired detector
    // reaches the boundary, the pair is needed only when d(i, j) < bd[i] + bd[j] <= 2 max(bd[i],
    // bd[j]), and the search from the one with the larger bd finds it: the search from i looks for
    // the j with bd[j] < bd[i] (ties: j > i) and stops beyond bd[i] + the largest bd[j] of those it
    // has not reached yet. Otherwise each i searches for every j > i without a bound. Fired
    // detectors by boundary distance, farthest first:
    by_boundary_.resize(k);
    for (std::size_t i = 0; i < k; ++i) by_boundary_[i] = static_cast<std::uint32_t>(i);
    std::sort(by_boundary_.begin(), by_boundary_.end(),
              [&](std::uint32_t a, std::uint32_t b) { return bd[fired_[a]] > bd[fired_[b]]; });
    (void)max_boundary;
    if (table_) {
      for (std::size_t i = 0; i < k; ++i) {
        const std::size_t row = static_cast<std::size_t>(fired_[i]) * table_->n;
        for (std::size_t j = i + 1; j < k; ++j) {
          const std::int64_t d = table_->dist[row + fired_[j]];
          if (d >= 0 && d < cost_[i * k + j]) {
            cost_[i * k + j] = d;
            pair_obs_[i * k + j] = table_->obs[row + fired_[j]];
          }
        }
      }
    } else {
      for (std::size_t i = 0; i < k; ++i) search(i, all_reach_boundary);
    }
    for (std::size_t i = 0; i < k; ++i) slot_[fired_[i]] = -1;

    std::int64_t total = 0;
    std::uint64_t predicted = 0;
    if (k == 1) {
      total = bd[fired_[0]] >= 0 ? bd[fired_[0]] : 0;
      predicted = bo[fired_[0]];
    } else if (k == 2) {
      total = cost_[1];
      predicted = pair_obs_[1];
    } else {
      // With an odd count one fired detector goes to the boundary alone (node k); the others that
      // go there pair up through it at cost bd[i] + bd[j], already in cost_.
      const std::size_t n = k + (k % 2);
      matching_cost_.assign(n * n, 0);
      for (std::size_t u = 0; u < k; ++u) {
        for (std::size_t v = u + 1; v < k; ++v) matching_cost_[u * n + v] = cost_[u * k + v];
        if (n > k) matching_cost_[u * n + k] = bd[fired_[u]] >= 0 ? bd[fired_[u]] : kNoPath;
      }
      if (!min_weight_perfect_matching(static_cast<int>(n), matching_cost_, mate_)) {
        throw std::runtime_error("mwpm decoder: the perfect matching failed");
      }
      for (std::size_t u = 0; u < n; ++u) {
        const std::size_t v = static_cast<std::size_t>(mate_[u]);
        if (u > v) continue;
        if (v == k) {
          total += bd[fired_[u]] >= 0 ? bd[fired_[u]] : 0;
          predicted ^= bo[fired_[u]];
        } else {
          total += cost_[u * k + v] < kNoPath ? cost_[u * k + v] : 0;
          predicted ^= pair_obs_[u * k + v];
        }
      }
    }
    for (std::size_t b = 0; b < obs_bytes; ++b) out[b] = static_cast<std::uint8_t>(predicted >> (8 * b));
    return static_cast<double>(total) / g.units_per_weight;
  }

 private:
  // Dijkstra from fired_[i] to its targets (above), never through the boundary node; fills cost_.
  // (Paths through other fired detectors are needed: cutting them was tried and the brute-force
  // test found a hub detector whose neighbours must all be matched through it.)
  void search(std::size_t i, bool bounded) {
    const MatchingGraph& g = *g_;
    const std::size_t k = fired_.size();
    const auto& bd = g.boundary_distance;
    const std::int64_t bi = bd[fired_[i]];
    auto target = [&](std::size_t j) {
      if (!bounded) return j > i;
      const std::int64_t bj = bd[fired_[j]];
      return bj < bi || (bj == bi && j > i);
    };
    std::size_t left = 0;  // targets still to reach
    for (std::size_t j = 0; j < k; ++j) left += target(j);
    if (left == 0) return;
    ++epoch_;
    if (epoch_ == 0) {
      std::fill(seen_.begin(), seen_.end(), 0);
      std::fill(done_.begin(), done_.end(), 0);
      epoch_ = 1;
    }
    reached_.assign(k, 0);
    std::size_t far = 0;  // into by_boundary_: the farthest unreached target
    auto radius = [&]() {
      while (far < k && (!target(by_boundary_[far]) || reached_[by_boundary_[far]])) ++far;
      return far < k ? bi + bd[fired_[by_boundary_[far]]] : std::int64_t{-1};
    };
    const std::uint32_t source = fired_[i];
    heap_.clear();
    dist_[source] = 0;
    obs_[source] = 0;
    seen_[source] = epoch_;
    heap_.push_back({0, source});
    auto later = [](const Item& a, const Item& b) { return a.first > b.first; };
    while (!heap_.empty() && left > 0) {
      std::pop_heap(heap_.begin(), heap_.end(), later);
      const auto [d, v] = heap_.back();
      heap_.pop_back();
      if (done_[v] == epoch_) continue;  // a stale entry
      done_[v] = epoch_;
      if (bounded && d > radius()) break;
      const std::int32_t s = slot_[v];
      if (s >= 0 && target(static_cast<std::size_t>(s))) {
        --left;
        reached_[static_cast<std::size_t>(s)] = 1;
        const std::size_t lo = std::min<std::size_t>(i, static_cast<std::size_t>(s));
        const std::size_t hi = std::max<std::size_t>(i, static_cast<std::size_t>(s));
        const std::size_t at = lo * k + hi;
        if (d < cost_[at]) {
          cost_[at] = d;
          pair_obs_[at] = obs_[v];
        }
      }
      for (std::uint32_t e_at = g.offsets[v]; e_at < g.offsets[v + 1]; ++e_at) {
        const MatchingEdge& e = g.edges[g.incident[e_at]];
        const std::uint32_t w = e.a == v ? e.b : e.a;
        if (w == g.boundary()) continue;
        const std::int64_t nd = d + e.weight_units;
        if (seen_[w] != epoch_ || (nd < dist_[w] && done_[w] != epoch_)) {
          seen_[w] = epoch_;
          dist_[w] = nd;
          obs_[w] = obs_[v] ^ e.observables;
          heap_.push_back({nd, w});
          std::push_heap(heap_.begin(), heap_.end(), later);
        }
      }
    }
  }

  using Item = std::pair<std::int64_t, std::uint32_t>;
  std::shared_ptr<const MatchingGraph> g_;
  std::shared_ptr<const AllPairs> table_;  // null: search per shot
  std::vector<std::int64_t> dist_;
  std::vector<std::uint64_t> obs_;
  std::vector<std::uint32_t> seen_, done_;  // epoch stamps: reached, settled
  std::vector<std::int32_t> slot_;  // node -> index in fired_, -1 when not fired
  std::uint32_t epoch_ = 0;
  std::vector<std::uint32_t> fired_;
  std::vector<std::int64_t> cost_;
  std::vector<std::uint64_t> pair_obs_;
  std::vector<Item> heap_;
  std::vector<std::int64_t> matching_cost_;
  std::vector<std::uint32_t> by_boundary_;
  std::vector<std::uint8_t> reached_;
  std::vector<int> mate_;
};

}  // namespace

bool have_mwpm_decoder() { return have_perfect_matching(); }

std::unique_ptr<Decoder> make_mwpm_decoder(std::shared_ptr<const MatchingGraph> graph, std::uint64_t table_bytes) {
  if (!have_perfect_matching()) {
    throw InputError("decoder \"mwpm\": this build has no LEMON (install liblemon-dev and reconfigure); "
                     "use \"union_find\"");
  }
  const std::uint64_t n = graph->num_detectors;
  std::shared_ptr<const AllPairs> table;
  if (n * n * (sizeof(std::int64_t) + sizeof(std::uint64_t)) <= table_bytes) table = all_pairs(*graph);
  return std::make_unique<MwpmDecoder>(std::move(graph), std::move(table));
}

}  // namespace qw
