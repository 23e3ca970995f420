// Tensor: an owning, aligned, row-major float array with a shape. Used for
// activations, features and results; weights live in nn/ layer objects.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

#include "clipcaer/core/aligned_buffer.hpp"
#include "clipcaer/core/error.hpp"

namespace clipcaer {

using Shape = std::vector<std::size_t>;

inline std::string shape_to_string(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

// Product of dims with overflow detection (shapes can come from untrusted files).
inline bool checked_numel(const Shape& shape, std::size_t& out) noexcept {
  std::size_t n = 1;
  for (std::size_t d : shape) {
    if (d != 0 && n > static_cast<std::size_t>(-1) / d) return false;
    n *= d;
  }
  out = n;
  return true;
}

inline std::size_t numel(const Shape& shape) {
  std::size_t n = 0;
  if (!checked_numel(shape, n))
    throw_error(ErrorCode::invalid_argument, "shape ", shape_to_string(shape), " has too many elements");
  return n;
}

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape) : shape_(std::move(shape)), data_(numel(shape_)) {}
  Tensor(std::initializer_list<std::size_t> shape) : Tensor(Shape(shape)) {}

  static Tensor zeros(Shape shape) {
    Tensor t(std::move(shape));
    t.data_.fill_zero();
    return t;
  }

  const Shape& shape() const noexcept { return shape_; }
  std::size_t ndim() const noexcept { return shape_.size(); }
  std::size_t dim(std::size_t i) const {
    require(i < shape_.size(), ErrorCode::internal, "tensor of shape ", shape_to_string(shape_), " has no dim ", i);
    return shape_[i];
  }
  std::size_t size() const noexcept { return data_.size(); }
  bool empty() const noexcept { return data_.size() == 0; }

  float* data() noexcept { return data_.data(); }
  const float* data() const noexcept { return data_.data(); }
  float& operator[](std::size_t i) noexcept { return data_[i]; }
  const float& operator[](std::size_t i) const noexcept { return data_[i]; }
  float* begin() noexcept { return data_.begin(); }
  float* end() noexcept { return data_.end(); }
  const float* begin() const noexcept { return data_.begin(); }
  const float* end() const noexcept { return data_.end(); }

  // Pointer to row r of a tensor viewed as (shape[0] * ... * shape[n-2], shape[n-1]).
  float* row(std::size_t r) noexcept { return data_.data() + r * shape_.back(); }
  const float* row(std::size_t r) const noexcept { return data_.data() + r * shape_.back(); }

  // Same data, new shape of equal element count.
  void reshape(Shape shape) {
    require(numel(shape) == data_.size(), ErrorCode::internal, "cannot reshape ", shape_to_string(shape_), " to ",
            shape_to_string(shape));
    shape_ = std::move(shape);
  }

 private:
  Shape shape_;
  AlignedBuffer<float> data_;
};

}  // namespace clipcaer
