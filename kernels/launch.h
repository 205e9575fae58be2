// The one launch primitive and the deterministic reduction, for kernel sources (.cu) only.
// cpu backend: Thrust's OpenMP device system (these .cu files are compiled as C++ by g++).
// cuda backend: Thrust's CUDA device system, same functor source compiled by nvcc.
#pragma once
#include <cstdint>
#include <vector>
#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#if defined(__CUDACC__)
#include <thrust/system/cuda/execution_policy.h>
#endif
#include "kernels/bits.h"

namespace qw {

// Calls f(i) for every i in [0, n), in parallel on the backend's device.
// Below this size a CPU launch runs on the calling thread: waking an OpenMP team costs more than
// the work (one module of 10-13 qubits, per-shot runs).
inline constexpr index_t kSerialBelow = index_t{1} << 14;

template <class F>
void for_each_index(index_t n, F f) {
  if (n == 0) return;
#if !defined(__CUDACC__)
  if (n < kSerialBelow) {
    for (index_t i = 0; i < n; ++i) f(i);
    return;
  }
#endif
#if defined(__CUDACC__)
  // par_nosync: no host synchronisation after each launch (Thrust's for_each otherwise waits for
  // the kernel); launches stay ordered on the default stream, and every read of device results on
  // the host goes through cudaMemcpy, which waits for them.
  thrust::for_each(thrust::cuda::par_nosync, thrust::counting_iterator<index_t>(0),
                   thrust::counting_iterator<index_t>(n), f);
#else
  thrust::for_each(thrust::device, thrust::counting_iterator<index_t>(0),
                   thrust::counting_iterator<index_t>(n), f);
#endif
}

// Deterministic sum of val(i), i in [0, n): a fixed tree that does not depend on thread count or
// backend, so that probabilities (and hence sampled outcomes) are bit-identical everywhere.
// Level 1: partial[j] = sum over k of val(j_block * W * K + j_lane + k * W) with W lanes per block
// (coalesced on a GPU, contiguous per thread on a CPU); further levels reduce the partials the
// same way; the last <= kFinal values are added in order on the host.
namespace detail {
inline constexpr index_t kLanes = 32;    // a warp: coalesced loads
inline constexpr index_t kPerLane = 128; // partials are 1/128 of the input
inline constexpr index_t kFinal = 4096;

// Partial sums of val over groups of kLanes * kPerLane indices; returns number of partials.
template <class Val>
struct StridedPartial {
  Val val;
  index_t n;
  double* out;
  QW_HD void operator()(index_t j) const {
    const index_t block = j / kLanes, lane = j % kLanes;
    const index_t base = block * kLanes * kPerLane + lane;
    double s = 0;
    for (index_t k = 0; k < kPerLane; ++k) {
      const index_t i = base + k * kLanes;
      if (i < n) s += static_cast<double>(val(i));
    }
    out[j] = s;
  }
};

struct ArrayVal {
  const double* a;
  QW_HD double operator()(index_t i) const { return a[i]; }
};

double* device_scratch_doubles(index_t count, int slot);
void copy_doubles_to_host(const double* device_src, double* host_dst, index_t count);
}  // namespace detail

template <class Val>
double reduce_sum(index_t n, Val val) {
  using namespace detail;
  if (n == 0) return 0.0;
  const index_t group = kLanes * kPerLane;
  auto partial_count = [&](index_t m) {
    const index_t blocks = (m + group - 1) / group;
    return blocks * kLanes;
  };
  index_t m = partial_count(n);
  double* cur = device_scratch_doubles(m, 0);
  for_each_index(m, StridedPartial<Val>{val, n, cur});
  int slot = 1;
  while (m > kFinal) {
    const index_t next_m = partial_count(m);
    double* next = device_scratch_doubles(next_m, slot);
    for_each_index(next_m, StridedPartial<ArrayVal>{ArrayVal{cur}, m, next});
    cur = next;
    m = next_m;
    slot ^= 1;
  }
  std::vector<double> host(m);
  copy_doubles_to_host(cur, host.data(), m);
  double s = 0;
  for (double x : host) s += x;
  return s;
}

// Per-segment deterministic sums: out[b] = sum of val(b * L + i), i in [0, L), for B segments.
// The tree depends only on L (never on B): segments longer than kFinal go through strided partials
// as in reduce_sum, then each segment's last <= kFinal values are added in order by one thread.
namespace detail {
template <class Val>
struct SegmentStridedPartial {
  Val val;
  index_t L, parts;  // parts per segment = L / kPerLane (L a multiple of kLanes * kPerLane)
  double* out;
  QW_HD void operator()(index_t j) const {
    const index_t b = j / parts, jj = j % parts;
    const index_t block = jj / kLanes, lane = jj % kLanes;
    const index_t base = b * L + block * kLanes * kPerLane + lane;
    double s = 0;
    for (index_t k = 0; k < kPerLane; ++k) s += static_cast<double>(val(base + k * kLanes));
    out[j] = s;
  }
};
template <class Val>
struct SegmentSerialSum {
  Val val;
  index_t L;
  double* out;
  QW_HD void operator()(index_t b) const {
    double s = 0;
    for (index_t i = 0; i < L; ++i) s += static_cast<double>(val(b * L + i));
    out[b] = s;
  }
};
}  // namespace detail

template <class Val>
void segment_sums(index_t B, index_t L, Val val, double* out) {
  using namespace detail;
  if (L <= kFinal || L % (kLanes * kPerLane) != 0) {
    for_each_index(B, SegmentSerialSum<Val>{val, L, out});
    return;
  }
  index_t parts = L / kPerLane;
  double* cur = device_scratch_doubles(B * parts, 2);
  for_each_index(B * parts, SegmentStridedPartial<Val>{val, L, parts, cur});
  int slot = 3;
  while (parts > kFinal && parts % (kLanes * kPerLane) == 0) {
    const index_t next_parts = parts / kPerLane;
    double* next = device_scratch_doubles(B * next_parts, slot);
    for_each_index(B * next_parts, SegmentStridedPartial<ArrayVal>{ArrayVal{cur}, parts, next_parts, next});
    cur = next;
    parts = next_parts;
    slot = slot == 3 ? 2 : 3;
  }
  for_each_index(B, SegmentSerialSum<ArrayVal>{ArrayVal{cur}, parts, out});
}

}  // namespace qw
