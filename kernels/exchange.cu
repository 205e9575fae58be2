#include "kernels/exchange.h"

#include <vector>

#include "kernels/launch.h"
#include "kernels/memory.h"
#include "kernels/sampling.h"

namespace qw::shard {
namespace {

QW_HD inline index_t half_index(index_t h, unsigned bit, unsigned value) {
  return insert_zero_bit(h, bit) | (static_cast<index_t>(value) << bit);
}

struct Pack {
  const cplx* slab;
  unsigned bit, value;
  index_t first;
  cplx* out;
  QW_HD void operator()(index_t k) const { out[k] = slab[half_index(first + k, bit, value)]; }
};

struct Unpack {
  cplx* slab;
  unsigned bit, value;
  index_t first;
  const cplx* in;
  QW_HD void operator()(index_t k) const { slab[half_index(first + k, bit, value)] = in[k]; }
};

struct ScaleWhere {
  cplx* a;
  cplx d;
  index_t mask, value;
  QW_HD void operator()(index_t i) const {
    if ((i & mask) == value) a[i] = a[i] * d;
  }
};

struct CollapseWhere {
  cplx* a;
  index_t mask, value;
  real s;
  QW_HD void operator()(index_t i) const {
    a[i] = (i & mask) == value ? cplx{a[i].re * s, a[i].im * s} : cplx{0, 0};
  }
};

struct NormWhere {
  const cplx* a;
  index_t mask, value;
  QW_HD double operator()(index_t i) const {
    return (i & mask) == value ? static_cast<double>(norm2(a[i])) : 0.0;
  }
};

// The memory index of logical ket c's diagonal entry, or ~0 when it is on another rank.
QW_HD inline index_t diagonal_local_index(const DiagonalLayout& l, index_t c) {
  index_t x = 0;
  for (unsigned j = 0; j < l.n; ++j) {
    const index_t b = (c >> j) & 1;
    x |= (b << l.phys[j]) | (b << l.phys[l.n + j]);
  }
  if ((x >> l.local_bits) != l.rank) return ~index_t{0};
  return x & ((index_t{1} << l.local_bits) - 1);
}

struct DiagonalSum {
  const cplx* a;
  DiagonalLayout l;
  index_t mask, value;
  QW_HD double operator()(index_t c) const {
    if ((c & mask) != value) return 0.0;
    const index_t i = diagonal_local_index(l, c);
    return i == ~index_t{0} ? 0.0 : static_cast<double>(a[i].re);
  }
};

struct DiagonalValues {
  const cplx* a;
  DiagonalLayout l;
  double* out;
  QW_HD void operator()(index_t c) const {
    const index_t i = diagonal_local_index(l, c);
    out[c] = i == ~index_t{0} ? 0.0 : static_cast<double>(a[i].re);
  }
};

struct WeightVal {
  const double* w;
  QW_HD double operator()(index_t c) const { return w[c] > 0 ? w[c] : 0.0; }
};

constexpr index_t kBlock = 1024;

struct BlockNorms {
  const cplx* a;
  index_t n;
  double* out;
  QW_HD void operator()(index_t b) const {
    double s = 0;
    const index_t end = (b + 1) * kBlock < n ? (b + 1) * kBlock : n;
    for (index_t i = b * kBlock; i < end; ++i) s += static_cast<double>(norm2(a[i]));
    out[b] = s;
  }
};

// prefix[b] = sum of blocks < b.
struct FindTarget {
  const cplx* a;
  index_t n;
  const double* prefix;
  index_t nblocks;
  const double* targets;
  index_t* out;
  QW_HD void operator()(index_t s) const {
    const double u = targets[s];
    index_t lo = 0, hi = nblocks;  // last b with prefix[b] <= u
    while (hi - lo > 1) {
      const index_t mid = (lo + hi) / 2;
      if (prefix[mid] <= u) lo = mid; else hi = mid;
    }
    double acc = prefix[lo];
    const index_t begin = lo * kBlock;
    const index_t end = begin + kBlock < n ? begin + kBlock : n;
    index_t last_nonzero = begin;
    for (index_t i = begin; i < end; ++i) {
      const double p = static_cast<double>(norm2(a[i]));
      if (p > 0) last_nonzero = i;
      acc += p;
      if (u < acc && p > 0) { out[s] = i; return; }
    }
    out[s] = last_nonzero;
  }
};

}  // namespace

void pack_half(const cplx* slab, index_t, unsigned bit, unsigned value, index_t first, index_t count,
               cplx* out) {
  for_each_index(count, Pack{slab, bit, value, first, out});
}

void unpack_half(cplx* slab, index_t, unsigned bit, unsigned value, index_t first, index_t count,
                 const cplx* in) {
  for_each_index(count, Unpack{slab, bit, value, first, in});
}

void scale_where(cplx* a, index_t n, cplx d, index_t mask, index_t value) {
  for_each_index(n, ScaleWhere{a, d, mask, value});
}

void collapse_where(cplx* a, index_t n, index_t mask, index_t value, real s) {
  for_each_index(n, CollapseWhere{a, mask, value, s});
}

double norm_where(const cplx* a, index_t n, index_t mask, index_t value) {
  return reduce_sum(n, NormWhere{a, mask, value});
}

void find_cumulative(const cplx* a, index_t n, const double* targets, std::uint64_t count,
                     index_t* out) {
  if (count == 0) return;
  const index_t nblocks = (n + kBlock - 1) / kBlock;
  DeviceArray<double> sums(nblocks);
  for_each_index(nblocks, BlockNorms{a, n, sums.data()});
  std::vector<double> prefix(nblocks);
  copy_to_host(prefix.data(), sums.data(), nblocks * sizeof(double));
  double acc = 0;
  for (index_t b = 0; b < nblocks; ++b) {
    const double x = prefix[b];
    prefix[b] = acc;
    acc += x;
  }
  DeviceArray<double> dprefix(nblocks), dtargets(count);
  copy_to_device(dprefix.data(), prefix.data(), nblocks * sizeof(double));
  copy_to_device(dtargets.data(), targets, count * sizeof(double));
  DeviceArray<index_t> dout(count);
  for_each_index(count, FindTarget{a, n, dprefix.data(), nblocks, dtargets.data(), dout.data()});
  copy_to_host(out, dout.data(), count * sizeof(index_t));
}

double diagonal_sum(const cplx* slab, const DiagonalLayout& l, index_t mask, index_t value) {
  return reduce_sum(index_t{1} << l.n, DiagonalSum{slab, l, mask, value});
}

void diagonal_values(const cplx* slab, const DiagonalLayout& l, double* out) {
  for_each_index(index_t{1} << l.n, DiagonalValues{slab, l, out});
}

void sample_weights(const double* w, index_t n, std::uint64_t seed, std::uint64_t first_shot,
                    std::uint64_t count, index_t* out) {
  sample_weighted(n, WeightVal{w}, seed, first_shot, count, out);
}

}  // namespace qw::shard
