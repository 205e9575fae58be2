// Sampling basis indices from weights w(i), i in [0, n) (for kernel sources only). Shot s uses
// uniform01(seed, first_shot + s, 0): block sums of 1024 weights, a prefix sum on the host, then one
// binary search and one in-block scan per shot on the device.
#pragma once
#include <vector>

#include "kernels/launch.h"
#include "kernels/memory.h"
#include "kernels/rng.h"

namespace qw {
namespace detail {
inline constexpr index_t kSampleBlock = 1024;

template <class W>
struct BlockSums {
  W w;
  index_t n;
  double* out;
  QW_HD void operator()(index_t b) const {
    double s = 0;
    const index_t end = (b + 1) * kSampleBlock < n ? (b + 1) * kSampleBlock : n;
    for (index_t i = b * kSampleBlock; i < end; ++i) s += static_cast<double>(w(i));
    out[b] = s;
  }
};

// prefix[b] = sum of blocks < b; prefix[nblocks] = total.
template <class W>
struct SampleShot {
  W w;
  index_t n;
  const double* prefix;
  index_t nblocks;
  std::uint64_t seed, first_shot;
  index_t* out;
  QW_HD void operator()(index_t s) const {
    const double total = prefix[nblocks];
    const double u = uniform01(seed, first_shot + s, 0) * total;
    index_t lo = 0, hi = nblocks;  // last b with prefix[b] <= u
    while (hi - lo > 1) {
      const index_t mid = (lo + hi) / 2;
      if (prefix[mid] <= u) lo = mid; else hi = mid;
    }
    while (lo + 1 < nblocks && prefix[lo + 1] == prefix[lo] && prefix[lo] <= u) ++lo;
    double acc = prefix[lo];
    const index_t begin = lo * kSampleBlock;
    const index_t end = begin + kSampleBlock < n ? begin + kSampleBlock : n;
    index_t last_nonzero = begin;
    for (index_t i = begin; i < end; ++i) {
      const double p = static_cast<double>(w(i));
      if (p > 0) last_nonzero = i;
      acc += p;
      if (u < acc && p > 0) { out[s] = i; return; }
    }
    out[s] = last_nonzero;  // u beyond the block's sum by rounding
  }
};
}  // namespace detail

template <class W>
void sample_weighted(index_t n, W w, std::uint64_t seed, std::uint64_t first_shot,
                     std::uint64_t count, index_t* out) {
  using namespace detail;
  if (count == 0) return;
  const index_t nblocks = (n + kSampleBlock - 1) / kSampleBlock;
  DeviceArray<double> sums(nblocks);
  for_each_index(nblocks, BlockSums<W>{w, n, sums.data()});
  std::vector<double> prefix(nblocks + 1);
  copy_to_host(prefix.data() + 1, sums.data(), nblocks * sizeof(double));
  prefix[0] = 0;
  for (index_t b = 0; b < nblocks; ++b) prefix[b + 1] += prefix[b];
  DeviceArray<double> dprefix(nblocks + 1);
  copy_to_device(dprefix.data(), prefix.data(), prefix.size() * sizeof(double));
  DeviceArray<index_t> dout(count);
  for_each_index(count, SampleShot<W>{w, n, dprefix.data(), nblocks, seed, first_shot, dout.data()});
  copy_to_host(out, dout.data(), count * sizeof(index_t));
}

}  // namespace qw
