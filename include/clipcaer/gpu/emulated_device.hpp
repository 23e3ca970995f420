// The GPU code path on the host (device "emulated"): every op body runs in a
// loop over its indices, every GEMM goes through to_column_major() and a
// BLAS-definition GEMM, so tests check the CUDA backend's math, indexing and
// cuBLAS arguments on machines without a GPU. It also checks what a GPU
// would not: every pointer handed to a copy, GEMM or op must lie in one of
// its live allocations (a host pointer passed as a device one is an error,
// not a crash). Slow: for tests, not for inference.
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <map>
#include <mutex>
#include <string>

#include "clipcaer/core/error.hpp"
#include "clipcaer/gpu/device.hpp"

namespace clipcaer::gpu {

class EmulatedDevice final : public Device {
 public:
  ~EmulatedDevice() override {
    for (auto& [p, n] : live_) aligned_free(reinterpret_cast<void*>(p));
  }

  std::string name() const override { return "emulated"; }

  void* allocate(std::size_t bytes) override {
    require(bytes > 0, ErrorCode::internal, "emulated GPU: allocation of 0 bytes");
    void* p = aligned_alloc_bytes(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    live_[reinterpret_cast<std::uintptr_t>(p)] = bytes;
    return p;
  }
  void release(void* p) noexcept override {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(reinterpret_cast<std::uintptr_t>(p));
    if (it == live_.end()) return;  // a double free is a bug; the checks catch the use that follows
    live_.erase(it);
    aligned_free(p);
  }
  void upload(void* dst, const void* src, std::size_t bytes) override {
    check_device(dst, bytes, "upload destination");
    check_host(src, "upload source");
    std::memcpy(dst, src, bytes);
  }
  void download(void* dst, const void* src, std::size_t bytes) override {
    check_device(src, bytes, "download source");
    check_host(dst, "download destination");
    std::memcpy(dst, src, bytes);
  }

  void gemm(const GemmArgs& g) override {
    const ColumnMajorGemm c = to_column_major(g);
    check_device(c.a, 0, "GEMM operand A");
    check_device(c.b, 0, "GEMM operand B");
    check_device(c.c, 0, "GEMM output C");
    column_major_gemm_reference(c);
  }
  void launch(const Im2colOp& op) override { run(op, "im2col"); }
  void launch(const EmbedTokensOp& op) override { run(op, "embed_tokens"); }
  void launch(const LayerNormOp& op) override { run_rows(op, "layer_norm"); }
  void launch(const BiasActOp& op) override { run(op, "bias_act"); }
  void launch(const SplitHeadsOp& op) override { run(op, "split_heads"); }
  void launch(const SoftmaxRowsOp& op) override { run_rows(op, "softmax_rows"); }
  void launch(const MergeHeadsOp& op) override { run(op, "merge_heads"); }

  std::size_t live_allocations() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_.size();
  }

 private:
  // 256-byte aligned, as cudaMalloc's blocks are.
  static constexpr std::align_val_t kAlign{256};
  static void* aligned_alloc_bytes(std::size_t bytes) { return ::operator new(bytes, kAlign); }
  static void aligned_free(void* p) noexcept { ::operator delete(p, kAlign); }

  template <class Op>
  void check_pointers(const Op& op, const char* what) const {
    op.pointers([&](auto... ptrs) { (check_op_pointer(ptrs, what), ...); });
  }
  // Element ops: one index per GPU thread.
  template <class Op>
  void run(const Op& op, const char* what) {
    check_pointers(op, what);
    const std::size_t n = op.count();
    for (std::size_t i = 0; i < n; ++i) op(i);
  }
  // Row ops: each phase on every lane of a row, the warp reductions between.
  template <class Op>
  void run_rows(const Op& op, const char* what) {
    check_pointers(op, what);
    for (std::size_t r = 0; r < op.rows; ++r) {
      float a[kWarpLanes], b[kWarpLanes];
      for (unsigned l = 0; l < kWarpLanes; ++l) a[l] = op.part1(r, l);
      if constexpr (Op::kFirstIsMax)
        warp_max_emulated(a);
      else
        warp_sum_emulated(a);
      for (unsigned l = 0; l < kWarpLanes; ++l) b[l] = op.part2(r, l, a[l]);
      warp_sum_emulated(b);
      for (unsigned l = 0; l < kWarpLanes; ++l) op.part3(r, l, a[l], b[l]);
    }
  }
  template <class T>
  void check_op_pointer(T* p, const char* what) const {
    if (p) check_device(p, 0, what);  // null: an optional input (a bias, a residual)
  }

  // [p, p + bytes) inside one live allocation.
  bool in_live_allocation(const void* p, std::size_t bytes) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    auto it = live_.upper_bound(a);  // the first block starting after p; the one before may hold it
    return it != live_.begin() && (--it, a + bytes <= it->first + it->second);
  }
  void check_device(const void* p, std::size_t bytes, const char* what) const {
    require(p && in_live_allocation(p, bytes), ErrorCode::internal, "emulated GPU: ", what,
            " is not device memory of this device");
  }
  void check_host(const void* p, const char* what) const {
    require(p != nullptr, ErrorCode::internal, "emulated GPU: ", what, " is a null pointer");
    require(!in_live_allocation(p, 1), ErrorCode::internal, "emulated GPU: ", what,
            " is device memory, not host memory");
  }

  mutable std::mutex mutex_;
  std::map<std::uintptr_t, std::size_t> live_;
};

}  // namespace clipcaer::gpu
