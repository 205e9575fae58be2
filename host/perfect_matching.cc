#include "host/perfect_matching.h"

#ifdef QWEAVE_HAVE_LEMON
#include <lemon/full_graph.h>
#include <lemon/matching.h>
#endif

namespace qw {

#ifdef QWEAVE_HAVE_LEMON

bool have_perfect_matching() { return true; }

bool min_weight_perfect_matching(int n, const std::vector<std::int64_t>& cost, std::vector<int>& mate) {
  mate.assign(static_cast<std::size_t>(n), -1);
  if (n % 2) return false;
  if (n == 0) return true;
  lemon::FullGraph g(n);
  lemon::FullGraph::EdgeMap<std::int64_t> weight(g);
  for (lemon::FullGraph::EdgeIt e(g); e != lemon::INVALID; ++e) {
    int u = g.id(g.u(e)), v = g.id(g.v(e));
    if (u > v) std::swap(u, v);
    weight[e] = -cost[static_cast<std::size_t>(u) * n + v];
  }
  lemon::MaxWeightedPerfectMatching<lemon::FullGraph, lemon::FullGraph::EdgeMap<std::int64_t>> m(g, weight);
  if (!m.run()) return false;
  for (int u = 0; u < n; ++u) mate[static_cast<std::size_t>(u)] = g.id(m.mate(g(u)));
  return true;
}

#else

bool have_perfect_matching() { return false; }

bool min_weight_perfect_matching(int n, const std::vector<std::int64_t>&, std::vector<int>& mate) {
  mate.assign(static_cast<std::size_t>(n), -1);
  return false;
}

#endif

}  // namespace qw
