// numpy <-> clipcaer conversions shared by the binding files.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/core/tensor.hpp"
#include "clipcaer/io/image.hpp"

namespace clipcaer::python {

namespace py = pybind11;

// float32, C-contiguous; other dtypes/layouts are converted (one copy), which
// is free for the common case of a float32 C-contiguous array.
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

using U8Array = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>;

// A (H, W, 3) uint8 array -> view of its pixels (the array must outlive it).
inline ImageView as_view(const U8Array& a, const char* what) {
  if (a.ndim() != 3 || a.shape(2) != 3)
    throw Error(ErrorCode::invalid_argument, std::string(what) + " must be a uint8 array of shape (H, W, 3)");
  if (a.shape(0) == 0 || a.shape(1) == 0) throw Error(ErrorCode::invalid_argument, std::string(what) + " is empty");
  return {a.data(), static_cast<std::size_t>(a.shape(1)), static_cast<std::size_t>(a.shape(0)),
          3 * static_cast<std::size_t>(a.shape(1))};
}

inline std::string shape_of(const py::array& a) {
  Shape s(a.shape(), a.shape() + a.ndim());
  return shape_to_string(s);
}

// Hands a Tensor's buffer to numpy without copying; numpy owns it afterwards.
inline py::array to_numpy(Tensor&& t, std::vector<py::ssize_t> shape = {}) {
  if (shape.empty()) shape.assign(t.shape().begin(), t.shape().end());
  auto* owner = new Tensor(std::move(t));
  py::capsule free_when_done(owner, [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array_t<float>(shape, owner->data(), free_when_done);
}

inline py::array to_numpy(const std::vector<float>& v) {
  py::array_t<float> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return std::move(out);
}

}  // namespace clipcaer::python
