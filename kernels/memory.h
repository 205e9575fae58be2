// Device memory for the active backend: host memory on the cpu backend, GPU memory on cuda.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace qw {

void* device_alloc(std::size_t bytes);  // throws std::bad_alloc when it cannot allocate
void device_free(void* p) noexcept;
void copy_to_device(void* dst, const void* src, std::size_t bytes);
void copy_to_host(void* dst, const void* src, std::size_t bytes);
void copy_device_to_device(void* dst, const void* src, std::size_t bytes);
void device_synchronize();

// Memory the backend can still give, in bytes (MemAvailable on cpu, cudaMemGetInfo free on cuda).
std::uint64_t device_available_bytes();
const char* backend_name();
// Under MPI: rank r of a node uses GPU r mod (visible GPUs) on the cuda backend; no-op on cpu.
// Returns the device index chosen (0 on cpu).
int select_device(int rank_on_node);
std::string_view device_description();

// Owning, move-only buffer of T in device memory.
template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(std::size_t count)
      : p_(static_cast<T*>(count ? device_alloc(count * sizeof(T)) : nullptr)), n_(count) {}
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; o.n_ = 0; }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) { device_free(p_); p_ = o.p_; n_ = o.n_; o.p_ = nullptr; o.n_ = 0; }
    return *this;
  }
  ~DeviceArray() { device_free(p_); }
  T* data() { return p_; }
  const T* data() const { return p_; }
  std::size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace qw
