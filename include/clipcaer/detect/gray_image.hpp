// Grey pictures for the cascade detector, made as OpenCV makes them: the
// RGB -> grey conversion and the bit-exact linear resize of its image pyramid.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/image.hpp"
#include "clipcaer/preprocess/rounding.hpp"

namespace clipcaer::detect {

// One 8-bit grey picture, rows packed.
struct GrayImage {
  std::vector<std::uint8_t> pixels;
  int width = 0, height = 0;
  const std::uint8_t* row(int y) const noexcept { return pixels.data() + static_cast<std::size_t>(y) * width; }
};

// cv::cvtColor(COLOR_RGB2GRAY) for 8 bits, as OpenCV 4.6 computes it (15-bit fixed point).
inline GrayImage to_gray(const ImageView& rgb) {
  GrayImage g;
  g.width = static_cast<int>(rgb.width);
  g.height = static_cast<int>(rgb.height);
  g.pixels.resize(rgb.width * rgb.height);
  for (std::size_t y = 0; y < rgb.height; ++y) {
    const std::uint8_t* p = rgb.row(y);
    std::uint8_t* o = g.pixels.data() + y * rgb.width;
    for (std::size_t x = 0; x < rgb.width; ++x, p += 3)
      o[x] = static_cast<std::uint8_t>((p[0] * 9798 + p[1] * 19235 + p[2] * 3735 + (1 << 14)) >> 15);
  }
  return g;
}

// The picture mirrored left to right.
inline GrayImage mirrored(const GrayImage& g) {
  GrayImage m = g;
  for (int y = 0; y < g.height; ++y) std::reverse(m.pixels.begin() + static_cast<std::ptrdiff_t>(y) * g.width,
                                                  m.pixels.begin() + static_cast<std::ptrdiff_t>(y + 1) * g.width);
  return m;
}

namespace detail {

// One output position of a bit-exact linear resize: src[offset] * c0 +
// src[offset + 1] * c1, weights in 8-bit fixed point (c0 + c1 = 256).
struct ExactTap {
  int offset = 0;
  std::uint32_t c0 = 256, c1 = 0;
};

// OpenCV's interpolationLinear::getCoeffs; positions before the first source
// pixel's centre take the first pixel, those at or past the last, the last.
inline std::vector<ExactTap> exact_linear_taps(int src, int dst) {
  const double scale = 1.0 / (static_cast<double>(dst) / src);
  std::vector<ExactTap> taps(static_cast<std::size_t>(dst));
  for (int d = 0; d < dst; ++d) {
    const double f = preprocess::detail::mul_rounded(scale, d + 0.5) - 0.5;
    const double i = std::floor(f);
    ExactTap& t = taps[static_cast<std::size_t>(d)];
    if (i >= 0 && src > 1) {
      if (i < src - 1) {
        t.offset = static_cast<int>(i);
        t.c1 = static_cast<std::uint32_t>(std::nearbyint((f - i) * 256.0));
        t.c0 = 256 - t.c1;
      } else {
        t.offset = src - 1;
      }
    }
  }
  return taps;
}

}  // namespace detail

// cv::resize(INTER_LINEAR_EXACT) of an 8-bit grey picture, which OpenCV's
// cascade detector uses for its image pyramid: a horizontal pass kept in
// 8-bit fixed point, then a vertical one rounded once.
inline GrayImage resize_linear_exact(const GrayImage& src, int width, int height) {
  require(width > 0 && height > 0 && src.width > 0 && src.height > 0, ErrorCode::invalid_argument,
          "bit-exact linear resize: from ", src.width, "x", src.height, " to ", width, "x", height);
  GrayImage out;
  out.width = width;
  out.height = height;
  out.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
  if (width == src.width && height == src.height) {
    out.pixels = src.pixels;
    return out;
  }
  const auto tx = detail::exact_linear_taps(src.width, width);
  const auto ty = detail::exact_linear_taps(src.height, height);
  std::vector<std::uint32_t> h0(static_cast<std::size_t>(width)), h1(h0.size());
  auto horizontal = [&](int y, std::vector<std::uint32_t>& h) {
    const std::uint8_t* r = src.row(y);
    for (int x = 0; x < width; ++x) {
      const detail::ExactTap& t = tx[static_cast<std::size_t>(x)];
      h[static_cast<std::size_t>(x)] = t.c1 ? r[t.offset] * t.c0 + r[t.offset + 1] * t.c1 : r[t.offset] * 256u;
    }
  };
  int rows[2] = {-1, -1};
  for (int y = 0; y < height; ++y) {
    const detail::ExactTap& t = ty[static_cast<std::size_t>(y)];
    const int want0 = t.offset, want1 = t.c1 ? t.offset + 1 : t.offset;
    if (rows[0] != want0) {
      if (rows[1] == want0) std::swap(h0, h1), rows[0] = want0, rows[1] = -1;
      else horizontal(want0, h0), rows[0] = want0;
    }
    if (rows[1] != want1) horizontal(want1, h1), rows[1] = want1;
    std::uint8_t* o = out.pixels.data() + static_cast<std::size_t>(y) * width;
    for (int x = 0; x < width; ++x)
      o[x] = static_cast<std::uint8_t>((h0[static_cast<std::size_t>(x)] * t.c0 + h1[static_cast<std::size_t>(x)] * t.c1 +
                                        (1u << 15)) >> 16);
  }
  return out;
}

}  // namespace clipcaer::detect
