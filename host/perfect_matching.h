// Exact minimum-weight perfect matching on a complete graph: LEMON's blossom algorithm
// (MaxWeightedPerfectMatching, Edmonds' blossom with dual variables) on negated costs. This header
// and its source stay C++17: LEMON 1.3's maps call std::allocator::construct/destroy, which C++20
// removed, so LEMON is included by perfect_matching.cc alone.
#pragma once
#include <cstdint>
#include <vector>

namespace qw {

// Whether this build has LEMON (found at configure time).
bool have_perfect_matching();

// n nodes (even), cost[i * n + j] for i < j (the rest is not read). Fills mate[i] with i's
// partner in a perfect matching of least total cost; false when none exists (n odd) or when this
// build has no LEMON. Integer costs keep the result exact; |cost| below 2^60 / n.
bool min_weight_perfect_matching(int n, const std::vector<std::int64_t>& cost, std::vector<int>& mate);

}  // namespace qw
