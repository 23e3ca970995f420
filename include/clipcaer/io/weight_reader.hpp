// WeightReader: typed, shape-checked access to the tensors of a weights file.
// Every failure names the file, the tensor, and what was expected.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "clipcaer/core/aligned_buffer.hpp"
#include "clipcaer/core/dtype.hpp"
#include "clipcaer/core/error.hpp"
#include "clipcaer/core/tensor.hpp"
#include "clipcaer/io/safetensors.hpp"

namespace clipcaer::io {

class WeightReader {
 public:
  explicit WeightReader(const SafetensorsFile& file) : file_(file) {}

  const SafetensorsFile& file() const noexcept { return file_; }
  bool has(const std::string& name) const { return file_.has(name); }

  // The tensor, after checking it is a float tensor of exactly `shape`.
  const TensorInfo& expect(const std::string& name, const Shape& shape) const {
    const TensorInfo& t = file_.tensor(name);
    if (t.dtype != DType::f32 && t.dtype != DType::f16 && t.dtype != DType::bf16)
      throw_error(ErrorCode::format, "weights file '", file_.path(), "': tensor '", name, "' has dtype ",
                  dtype_name(t.dtype), "; expected F32, F16 or BF16");
    if (t.shape != shape)
      throw_error(ErrorCode::format, "weights file '", file_.path(), "': tensor '", name, "' has shape ",
                  shape_to_string(t.shape), "; expected ", shape_to_string(shape));
    return t;
  }

  // Widens the tensor to float into dst (t.numel() floats). Reads unaligned data.
  static void to_float(const TensorInfo& t, float* dst) { to_float(t, 0, t.numel(), dst); }

  // Widens elements [first, first + n) only (e.g. a few rows of an embedding
  // table), touching no other pages of the mapping. The caller checks bounds.
  static void to_float(const TensorInfo& t, std::size_t first, std::size_t n, float* dst) {
    switch (t.dtype) {
      case DType::f32: std::memcpy(dst, t.data + 4 * first, n * 4); return;
      case DType::bf16:
        for (std::size_t i = 0; i < n; ++i) dst[i] = bf16_to_float(load_u16(t.data + 2 * (first + i)));
        return;
      case DType::f16:
        for (std::size_t i = 0; i < n; ++i) dst[i] = f16_to_float(load_u16(t.data + 2 * (first + i)));
        return;
      default: throw_error(ErrorCode::internal, "tensor '", t.name, "' is not a float tensor");
    }
  }

  // Calls fn(const float* values) with the tensor as floats: straight from the
  // mapping when it is stored as aligned F32 (no copy: packing reads it once),
  // else from a widened copy. The file's pages for it are released afterwards.
  template <class Fn>
  void with_floats(const std::string& name, const Shape& shape, Fn&& fn) const {
    const TensorInfo& t = expect(name, shape);
    if (t.dtype == DType::f32 && reinterpret_cast<std::uintptr_t>(t.data) % alignof(float) == 0) {
      fn(reinterpret_cast<const float*>(t.data));
    } else {
      AlignedBuffer<float> copy(t.numel());
      to_float(t, copy.data());
      fn(static_cast<const float*>(copy.data()));
    }
    file_.release(t);
  }

  // Checked copy as floats; the file's pages for it are released afterwards.
  AlignedBuffer<float> floats(const std::string& name, const Shape& shape) const {
    const TensorInfo& t = expect(name, shape);
    AlignedBuffer<float> out(t.numel());
    to_float(t, out.data());
    file_.release(t);
    return out;
  }

 private:
  static std::uint16_t load_u16(const unsigned char* p) noexcept {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));  // safetensors is little-endian
  }

  const SafetensorsFile& file_;
};

}  // namespace clipcaer::io
