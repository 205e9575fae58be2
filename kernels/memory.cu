// Device memory and copies for the active backend, plus the reduction scratch space.
#include "kernels/memory.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <stdexcept>
#include <string>

#include "kernels/launch.h"

#if defined(__CUDACC__)
#include <cuda_runtime.h>
#else
#include <sys/mman.h>
#endif

namespace qw {

#if defined(__CUDACC__)

static void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
  }
}

void* device_alloc(std::size_t bytes) {
  void* p = nullptr;
  if (cudaMalloc(&p, bytes) != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::bad_alloc();
  }
  return p;
}
void device_free(void* p) noexcept {
  if (p) (void)cudaFree(p);
}
void copy_to_device(void* d, const void* s, std::size_t b) {
  check(cudaMemcpy(d, s, b, cudaMemcpyHostToDevice), "cudaMemcpy to device");
}
void copy_to_host(void* d, const void* s, std::size_t b) {
  check(cudaMemcpy(d, s, b, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
}
void copy_device_to_device(void* d, const void* s, std::size_t b) {
  check(cudaMemcpy(d, s, b, cudaMemcpyDeviceToDevice), "cudaMemcpy on device");
}
void device_synchronize() { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }
std::uint64_t device_available_bytes() {
  std::size_t free_b = 0, total_b = 0;
  if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return free_b;
}
const char* backend_name() { return "cuda"; }
int select_device(int rank_on_node) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    return 0;
  }
  const int dev = rank_on_node % count;
  check(cudaSetDevice(dev), "cudaSetDevice");
  return dev;
}
std::string_view device_description() {
  static std::string desc = [] {
    cudaDeviceProp prop{};
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess) {
      (void)cudaGetLastError();
      return std::string("no CUDA device");
    }
    return std::string(prop.name);
  }();
  return desc;
}

#else  // cpu backend

void* device_alloc(std::size_t bytes) {
  // 2 MiB alignment lets the kernel back large states with transparent huge pages.
  constexpr std::size_t kAlign = std::size_t{1} << 21;
  const std::size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  void* p = std::aligned_alloc(kAlign, rounded);
  if (!p) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE)
  if (rounded >= kAlign) madvise(p, rounded, MADV_HUGEPAGE);
#endif
  return p;
}
void device_free(void* p) noexcept { std::free(p); }
void copy_to_device(void* d, const void* s, std::size_t b) { std::memcpy(d, s, b); }
void copy_to_host(void* d, const void* s, std::size_t b) { std::memcpy(d, s, b); }
void copy_device_to_device(void* d, const void* s, std::size_t b) { std::memcpy(d, s, b); }
void device_synchronize() {}
std::uint64_t device_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemAvailable:") return kb * 1024;
  }
  return 0;
}
const char* backend_name() { return "cpu"; }
int select_device(int) { return 0; }
std::string_view device_description() { return "host CPU (OpenMP)"; }

#endif

namespace detail {
double* device_scratch_doubles(index_t count, int slot) {
  static DeviceArray<double> slots[4];  // 0-1: reduce_sum, 2-3: segment_sums
  if (slots[slot].size() < count) slots[slot] = DeviceArray<double>(count);
  return slots[slot].data();
}
void copy_doubles_to_host(const double* src, double* dst, index_t count) {
  copy_to_host(dst, src, count * sizeof(double));
}
}  // namespace detail

}  // namespace qw
