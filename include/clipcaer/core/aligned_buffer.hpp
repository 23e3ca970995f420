// A move-only, 64-byte aligned array. Activations and packed weights live in
// these so SIMD loads never straddle cache lines by accident.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "clipcaer/core/error.hpp"

namespace clipcaer {

inline constexpr std::size_t kBufferAlignment = 64;

namespace detail {
// Buffers allocated so far, process-wide: lets tests check that steady-state
// inference allocates nothing in its hot loops (tests/cpp/test_allocations.cpp).
inline std::atomic<std::size_t>& aligned_buffer_allocations() noexcept {
  static std::atomic<std::size_t> count{0};
  return count;
}
}  // namespace detail

template <class T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t count) { allocate(count); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~AlignedBuffer() { release(); }

  // Contents are unspecified after a resize that changes the size.
  void resize(std::size_t count) {
    if (count == size_) return;
    release();
    allocate(count);
  }
  void fill_zero() noexcept {
    if (size_) std::memset(static_cast<void*>(data_), 0, size_ * sizeof(T));
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size_; }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size_; }

 private:
  void allocate(std::size_t count) {
    if (count == 0) return;
    if (count > (static_cast<std::size_t>(-1) - kBufferAlignment) / sizeof(T))
      throw_error(ErrorCode::invalid_argument, "buffer of ", count, " elements is too large");
    std::size_t bytes = (count * sizeof(T) + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    void* p = std::aligned_alloc(kBufferAlignment, bytes);
    if (!p) throw std::bad_alloc();
    detail::aligned_buffer_allocations().fetch_add(1, std::memory_order_relaxed);
    data_ = static_cast<T*>(p);
    size_ = count;
  }
  void release() noexcept {
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace clipcaer
