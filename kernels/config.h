// Build-wide switches shared by kernels/ and host/: the host/device qualifier and the precision.
#pragma once

#if defined(__CUDACC__)
#define QW_HD __host__ __device__
#define QW_BACKEND_NAME "cuda"
// For large device functions called from many places (nvcc inlines everything by default, which
// can make one kernel take minutes to compile); no effect on the cpu backend.
#define QW_NOINLINE __noinline__
#else
#define QW_HD
#define QW_BACKEND_NAME "cpu"
#define QW_NOINLINE
#endif

namespace qw {
#if defined(QWEAVE_SINGLE_PRECISION)
using real = float;
inline constexpr const char* kPrecisionName = "single";
#else
using real = double;
inline constexpr const char* kPrecisionName = "double";
#endif
}  // namespace qw
