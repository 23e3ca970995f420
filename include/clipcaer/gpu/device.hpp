// gpu::Device: what the image tower needs from a GPU — memory, copies,
// strided batched GEMMs and the ops of op_bodies.hpp. Two implementations:
// the CUDA backend (src/gpu/cuda_device.cu, built with CLIPCAER_CUDA=ON) and
// the emulated device (emulated_device.hpp), which runs the same op bodies
// and cuBLAS arguments on the host for tests. Calls are queued in order;
// download() returns once the data is on the host.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "clipcaer/gpu/gemm_args.hpp"
#include "clipcaer/gpu/op_bodies.hpp"

namespace clipcaer::gpu {

class Device {
 public:
  virtual ~Device() = default;
  // e.g. "cuda:0 (NVIDIA H100 80GB HBM3)" or "emulated".
  virtual std::string name() const = 0;

  virtual void* allocate(std::size_t bytes) = 0;
  virtual void release(void* p) noexcept = 0;
  virtual void upload(void* device_dst, const void* host_src, std::size_t bytes) = 0;
  virtual void download(void* host_dst, const void* device_src, std::size_t bytes) = 0;

  virtual void gemm(const GemmArgs& g) = 0;
  virtual void launch(const Im2colOp& op) = 0;
  virtual void launch(const EmbedTokensOp& op) = 0;
  virtual void launch(const LayerNormOp& op) = 0;
  virtual void launch(const BiasActOp& op) = 0;
  virtual void launch(const SplitHeadsOp& op) = 0;
  virtual void launch(const SoftmaxRowsOp& op) = 0;
  virtual void launch(const MergeHeadsOp& op) = 0;
};

// Device memory for n floats, freed with the buffer. Grows on demand
// (contents are not kept).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(Device& d, std::size_t n) { resize(d, n); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      device_ = std::exchange(o.device_, nullptr);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~DeviceBuffer() { reset(); }

  void resize(Device& d, std::size_t n) {
    reset();
    if (n == 0) return;
    data_ = static_cast<float*>(d.allocate(n * sizeof(float)));
    device_ = &d;
    size_ = n;
  }
  // At least n floats.
  float* ensure(Device& d, std::size_t n) {
    if (n > size_ || device_ != &d) resize(d, n);
    return data_;
  }
  void reset() noexcept {
    if (device_ && data_) device_->release(data_);
    device_ = nullptr;
    data_ = nullptr;
    size_ = 0;
  }

  float* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  Device* device_ = nullptr;
  float* data_ = nullptr;
  std::size_t size_ = 0;
};

// A buffer holding a copy of n host floats.
inline DeviceBuffer upload_floats(Device& d, const float* host, std::size_t n) {
  DeviceBuffer b(d, n);
  if (n) d.upload(b.data(), host, n * sizeof(float));
  return b;
}

}  // namespace clipcaer::gpu
