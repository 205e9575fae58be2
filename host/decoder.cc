// The matching graph of a detector error model, the decoder factory and parallel batch decoding.
#include "host/decoder.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <omp.h>

#include "host/errors.h"

namespace qw {
namespace {

constexpr double kMaxUnits = 1 << 20;

double xor_probability(double p, double q) { return p * (1 - q) + q * (1 - p); }

double weight_of(double p) { return p >= 0.5 ? 0.0 : std::log((1 - p) / p); }

std::uint64_t mask_of(const std::vector<std::uint64_t>& observables) {
  std::uint64_t m = 0;
  for (auto o : observables) m |= std::uint64_t{1} << o;
  return m;
}

using Key = std::pair<std::uint32_t, std::uint32_t>;

struct Builder {
  std::uint32_t boundary;
  std::vector<MatchingEdge> edges;
  std::map<Key, std::uint32_t> index;  // (a, b) with a < b (b = boundary for single detectors)

  void add(std::uint32_t a, std::uint32_t b, double p, std::uint64_t obs) {
    if (a > b) std::swap(a, b);
    const auto it = index.find({a, b});
    if (it == index.end()) {
      index.emplace(Key{a, b}, static_cast<std::uint32_t>(edges.size()));
      edges.push_back({a, b, p, 0, 0, obs});
      return;
    }
    MatchingEdge& e = edges[it->second];
    if (e.observables == obs) {
      e.probability = xor_probability(e.probability, p);
    } else if (p > e.probability) {
      e.probability = p;
      e.observables = obs;
    }
  }
  const MatchingEdge* find(std::uint32_t a, std::uint32_t b) const {
    if (a > b) std::swap(a, b);
    const auto it = index.find({a, b});
    return it == index.end() ? nullptr : &edges[it->second];
  }

  // Every partition of dets into existing edges (pairs, or singles with a boundary edge), as lists
  // of (a, b); stops after `limit` partitions.
  void partitions(std::vector<std::uint32_t> dets, std::vector<Key>& parts, std::vector<std::vector<Key>>& out,
                  std::size_t limit) const {
    if (out.size() >= limit) return;
    if (dets.empty()) {
      out.push_back(parts);
      return;
    }
    const std::uint32_t d = dets.front();
    std::vector<std::uint32_t> rest(dets.begin() + 1, dets.end());
    if (find(d, boundary)) {
      parts.push_back({d, boundary});
      partitions(rest, parts, out, limit);
      parts.pop_back();
    }
    for (std::size_t i = 0; i < rest.size(); ++i) {
      if (!find(d, rest[i])) continue;
      std::vector<std::uint32_t> left = rest;
      left.erase(left.begin() + static_cast<std::ptrdiff_t>(i));
      parts.push_back({d, rest[i]});
      partitions(left, parts, out, limit);
      parts.pop_back();
    }
  }
};

}  // namespace

MatchingGraph matching_graph(const DetectorErrorModel& dem, const std::vector<char>& detector_basis) {
  if (dem.num_observables > 64) {
    throw InputError(fmt::format("decoder: the model has {} observables; the decoders handle at most 64",
                                 dem.num_observables));
  }
  if (dem.num_detectors >= (std::uint64_t{1} << 31)) {
    throw InputError(fmt::format("decoder: the model has {} detectors (limit 2^31)", dem.num_detectors));
  }
  MatchingGraph g;
  g.num_detectors = static_cast<std::uint32_t>(dem.num_detectors);
  g.num_observables = static_cast<std::uint32_t>(dem.num_observables);
  if (!detector_basis.empty() && detector_basis.size() != dem.num_detectors) {
    throw std::invalid_argument(fmt::format("matching_graph: {} detector types for {} detectors",
                                            detector_basis.size(), dem.num_detectors));
  }
  // With detector types, an error flipping detectors of both types is its X part plus its Z part
  // (Stim's decompose_errors does this from the circuit); the observables go with the part of the
  // type that flips them in single-type errors.
  std::vector<DemError> parts;
  if (!detector_basis.empty()) {
    std::uint64_t x_votes = 0, z_votes = 0;
    for (const DemError& e : dem.errors) {
      if (e.observables.empty() || e.detectors.empty()) continue;
      bool any_x = false, any_z = false;
      for (auto d : e.detectors) (detector_basis[d] == 'X' ? any_x : any_z) = true;
      if (any_x != any_z) (any_x ? x_votes : z_votes) += 1;
    }
    const char obs_type = x_votes >= z_votes ? 'X' : 'Z';
    for (const DemError& e : dem.errors) {
      DemError x{e.probability, {}, {}}, z{e.probability, {}, {}};
      for (auto d : e.detectors) (detector_basis[d] == 'X' ? x : z).detectors.push_back(d);
      if (x.detectors.empty() || z.detectors.empty()) continue;
      (obs_type == 'X' ? x : z).observables = e.observables;
      parts.push_back(std::move(x));
      parts.push_back(std::move(z));
      ++g.errors_split_by_type;
    }
  }
  std::vector<const DemError*> hyper;
  Builder base{g.boundary(), {}, {}};
  auto classify = [&](const DemError& e) {
    const std::uint64_t obs = mask_of(e.observables);
    if (e.detectors.empty()) {
      if (obs) ++g.undetectable_errors;
    } else if (e.detectors.size() == 1) {
      base.add(static_cast<std::uint32_t>(e.detectors[0]), g.boundary(), e.probability, obs);
    } else if (e.detectors.size() == 2) {
      base.add(static_cast<std::uint32_t>(e.detectors[0]), static_cast<std::uint32_t>(e.detectors[1]), e.probability, obs);
    } else {
      hyper.push_back(&e);
    }
  };
  for (const DemError& e : dem.errors) {
    bool mixed = false;
    if (!detector_basis.empty()) {
      for (auto d : e.detectors) mixed |= detector_basis[d] != detector_basis[e.detectors.front()];
    }
    if (!mixed) classify(e);
  }
  for (const DemError& e : parts) classify(e);
  // The lightest-looking split of a hyperedge: existing edges whose observables XOR to its own,
  // fewest pieces first.
  auto best_split = [](const Builder& b, const DemError& e) -> std::optional<std::vector<Key>> {
    std::vector<std::uint32_t> dets(e.detectors.begin(), e.detectors.end());
    std::vector<std::vector<Key>> found;
    std::vector<Key> parts;
    if (dets.size() <= 8) b.partitions(dets, parts, found, 256);
    const std::uint64_t obs = mask_of(e.observables);
    const std::vector<Key>* best = nullptr;
    for (const auto& f : found) {
      std::uint64_t x = 0;
      for (const auto& [u, v] : f) x ^= b.find(u, v)->observables;
      if (x == obs && (!best || f.size() < best->size())) best = &f;
    }
    if (!best) return std::nullopt;
    return *best;
  };
  // Without detector types, two-detector errors stay edges even when they join an X-type and a
  // Z-type detector (a Y fault at the code's boundary): the DEM alone does not say which detectors
  // are of which type. (An inference of the types from the hyperedges' splits was tried and made
  // surface codes worse: docs/decoders.md.)
  Builder& b = base;
  // Hyperedges (Y errors flip the detectors of an X and a Z error): choose the split into existing
  // edges with matching observables and the fewest pieces, and add the error's probability to each
  // piece; the pieces' own mechanisms stay independent of it.
  struct Split {
    std::vector<Key> pieces;
    bool cut;
    std::uint64_t first_obs;  // observables put on the first piece (cut hyperedges only)
    double p;
  };
  std::vector<Split> splits;
  for (const DemError* e : hyper) {
    if (auto split = best_split(b, *e)) {
      splits.push_back({std::move(*split), false, 0, e->probability});
      ++g.hyperedges_decomposed;
      continue;
    }
    std::vector<std::uint32_t> dets(e->detectors.begin(), e->detectors.end());
    Split s{{}, true, mask_of(e->observables), e->probability};
    for (std::size_t i = 0; i + 1 < dets.size(); i += 2) s.pieces.push_back({dets[i], dets[i + 1]});
    if (dets.size() % 2) s.pieces.push_back({dets.back(), g.boundary()});
    splits.push_back(std::move(s));
    ++g.hyperedges_cut;
  }
  for (const Split& s : splits) {
    for (std::size_t i = 0; i < s.pieces.size(); ++i) {
      const auto [u, v] = s.pieces[i];
      const std::uint64_t obs = s.cut ? (i == 0 ? s.first_obs : 0) : b.find(u, v)->observables;
      b.add(u, v, s.p, obs);
    }
  }
  g.edges = std::move(b.edges);

  double max_weight = 0;
  for (auto& e : g.edges) {
    e.weight = weight_of(e.probability);
    max_weight = std::max(max_weight, e.weight);
  }
  g.units_per_weight = max_weight > 0 ? kMaxUnits / max_weight : 1.0;
  for (auto& e : g.edges) e.weight_units = std::llround(e.weight * g.units_per_weight);

  const std::uint32_t n = g.num_nodes();
  g.offsets.assign(n + 1, 0);
  for (const auto& e : g.edges) {
    ++g.offsets[e.a + 1];
    ++g.offsets[e.b + 1];
  }
  for (std::uint32_t v = 0; v < n; ++v) g.offsets[v + 1] += g.offsets[v];
  g.incident.resize(g.offsets[n]);
  std::vector<std::uint32_t> fill(g.offsets.begin(), g.offsets.end() - 1);
  for (std::uint32_t i = 0; i < g.edges.size(); ++i) {
    g.incident[fill[g.edges[i].a]++] = i;
    g.incident[fill[g.edges[i].b]++] = i;
  }

  // Dijkstra from the boundary: every node's lightest path to it, with the path's observables.
  g.boundary_distance.assign(n, -1);
  g.boundary_observables.assign(n, 0);
  using Item = std::pair<std::int64_t, std::uint32_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
  std::vector<std::int64_t> dist(n, -1);
  std::vector<char> done(n, 0);
  dist[g.boundary()] = 0;
  queue.push({0, g.boundary()});
  while (!queue.empty()) {
    const auto [d, v] = queue.top();
    queue.pop();
    if (done[v]) continue;
    done[v] = 1;
    for (std::uint32_t k = g.offsets[v]; k < g.offsets[v + 1]; ++k) {
      const MatchingEdge& e = g.edges[g.incident[k]];
      const std::uint32_t w = e.a == v ? e.b : e.a;
      const std::int64_t nd = d + e.weight_units;
      if (!done[w] && (dist[w] < 0 || nd < dist[w])) {
        dist[w] = nd;
        g.boundary_observables[w] = g.boundary_observables[v] ^ e.observables;
        queue.push({nd, w});
      }
    }
  }
  g.boundary_distance = std::move(dist);
  return g;
}

std::unique_ptr<Decoder> make_decoder(std::shared_ptr<const MatchingGraph> graph, std::string_view kind) {
  if (kind == "mwpm") return make_mwpm_decoder(std::move(graph));
  if (kind == "union_find") return make_union_find_decoder(std::move(graph));
  throw InputError(fmt::format("decoder '{}': use \"mwpm\" or \"union_find\"", kind));
}

std::unique_ptr<Decoder> make_decoder(const DetectorErrorModel& dem, std::string_view kind,
                                      const std::vector<char>& detector_basis) {
  if (kind != "mwpm" && kind != "union_find") {
    throw InputError(fmt::format("decoder '{}': use \"mwpm\" or \"union_find\"", kind));
  }
  return make_decoder(std::make_shared<const MatchingGraph>(matching_graph(dem, detector_basis)), kind);
}

BatchDecodeResult decode_batch(const Decoder& decoder, const std::uint8_t* detectors, std::uint64_t shots,
                               const std::uint8_t* actual_observables, int threads) {
  const MatchingGraph& g = decoder.graph();
  const std::uint64_t det_bytes = (g.num_detectors + 7) / 8, obs_bytes = (g.num_observables + 7) / 8;
  BatchDecodeResult r;
  r.predicted_observables.assign(shots * obs_bytes, 0);
  const int nt = threads > 0 ? threads : omp_get_max_threads();
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t errors = 0;
  double busy = 0;
  int used = 1;
#pragma omp parallel num_threads(nt) reduction(+ : errors, busy)
  {
#pragma omp single
    used = omp_get_num_threads();
    const auto start = std::chrono::steady_clock::now();
    std::unique_ptr<Decoder> mine = decoder.clone();
    // Chunks of 64 shots: dynamic, since shots with many detection events take longer.
#pragma omp for schedule(dynamic, 64)
    for (std::int64_t s = 0; s < static_cast<std::int64_t>(shots); ++s) {
      std::uint8_t* out = r.predicted_observables.data() + s * obs_bytes;
      mine->decode(detectors + s * det_bytes, out);
      if (actual_observables && std::memcmp(out, actual_observables + s * obs_bytes, obs_bytes) != 0) ++errors;
    }
    busy += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.thread_s = busy;
  r.threads = used;
  r.logical_errors = errors;
  return r;
}

}  // namespace qw
