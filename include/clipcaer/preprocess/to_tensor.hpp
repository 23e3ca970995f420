// uint8 RGB (H, W, 3) -> float32 CHW in [0, 1], value / 255 rounded exactly
// as torch's `tensor.to(torch.float32).div(255)` (an IEEE division, here
// precomputed for the 256 possible bytes).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/image.hpp"

namespace clipcaer::preprocess {

namespace detail {
inline const std::array<float, 256>& unit_float_table() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[static_cast<std::size_t>(i)] = static_cast<float>(i) / 255.0f;
    return t;
  }();
  return table;
}
}  // namespace detail

// Writes 3 * height * width floats to `out`: plane R, then G, then B.
inline void to_chw_float(const ImageView& src, float* out) {
  require(src.data != nullptr && !src.empty() && out != nullptr, ErrorCode::invalid_argument,
          "to_chw_float: empty image or null output");
  const auto& lut = detail::unit_float_table();
  const std::size_t plane = src.width * src.height;
  float* r = out;
  float* g = out + plane;
  float* b = out + 2 * plane;
  for (std::size_t y = 0; y < src.height; ++y) {
    const std::uint8_t* p = src.row(y);
    const std::size_t o = y * src.width;
    for (std::size_t x = 0; x < src.width; ++x) {
      r[o + x] = lut[p[3 * x + 0]];
      g[o + x] = lut[p[3 * x + 1]];
      b[o + x] = lut[p[3 * x + 2]];
    }
  }
}

}  // namespace clipcaer::preprocess
