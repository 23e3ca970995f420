// Pillow-compatible `Image.resize((w, h), Image.BILINEAR)` for 8-bit RGB,
// reproducing Pillow 9.4's libImaging/Resample.c bit for bit:
// - a separable convolution with the triangle filter; when shrinking, the
//   filter is widened by the scale factor (support = scale), i.e. it
//   antialiases, unlike OpenCV's INTER_LINEAR;
// - per output pixel the weights are computed in double, normalised to sum 1,
//   then turned into 22-bit fixed point: int(0.5 + w * 2^22);
// - the horizontal pass runs first (only over the source rows the vertical
//   pass needs), its result is rounded to uint8, then the vertical pass;
//   a pass whose size does not change is skipped (it would be the identity);
// - each sum starts at 2^21 (rounding) and is shifted right 22, clamped to
//   [0, 255].
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/image.hpp"
#include "clipcaer/preprocess/rounding.hpp"

namespace clipcaer::preprocess {

namespace detail {

inline constexpr int kPilPrecisionBits = 32 - 8 - 2;

// Filter taps of one axis: output i reads `count[i]` inputs from `first[i]`
// with weights weights[i * ksize + k].
struct PilTaps {
  std::size_t ksize = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<std::int32_t> weights;
};

inline double pil_bilinear_filter(double x) noexcept {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

// Resample.c precompute_coeffs() + normalize_coeffs_8bpc() for box [0, in_size).
inline PilTaps pil_bilinear_taps(int in_size, int out_size) {
  PilTaps t;
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filterscale;
  t.ksize = static_cast<std::size_t>(std::ceil(support)) * 2 + 1;
  t.first.resize(static_cast<std::size_t>(out_size));
  t.count.resize(static_cast<std::size_t>(out_size));
  t.weights.assign(static_cast<std::size_t>(out_size) * t.ksize, 0);
  std::vector<double> k(t.ksize);
  const double ss = 1.0 / filterscale;
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = 0.0 + mul_rounded(xx + 0.5, scale);
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = pil_bilinear_filter((x + xmin - center + 0.5) * ss);
      k[static_cast<std::size_t>(x)] = w;
      ww += w;
    }
    std::int32_t* kk = &t.weights[static_cast<std::size_t>(xx) * t.ksize];
    for (int x = 0; x < xmax; ++x) {
      double w = k[static_cast<std::size_t>(x)];
      if (ww != 0.0) w /= ww;
      // The bilinear filter is never negative, so only Pillow's w >= 0 branch applies.
      kk[x] = static_cast<std::int32_t>(0.5 + w * (1 << kPilPrecisionBits));
    }
    t.first[static_cast<std::size_t>(xx)] = xmin;
    t.count[static_cast<std::size_t>(xx)] = xmax;
  }
  return t;
}

inline std::uint8_t pil_clip8(std::int32_t v) noexcept {
  v >>= kPilPrecisionBits;  // arithmetic shift, as in C on every target we build for
  return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// One output row of the horizontal pass (RGB interleaved).
inline void pil_horizontal_row(const std::uint8_t* in, std::uint8_t* out, const PilTaps& t, std::size_t out_w) {
  for (std::size_t xx = 0; xx < out_w; ++xx) {
    const std::int32_t* k = &t.weights[xx * t.ksize];
    const std::uint8_t* p = in + 3 * static_cast<std::size_t>(t.first[xx]);
    std::int32_t s0 = 1 << (kPilPrecisionBits - 1), s1 = s0, s2 = s0;
    const int n = t.count[xx];
    for (int x = 0; x < n; ++x, p += 3) {
      s0 += p[0] * k[x];
      s1 += p[1] * k[x];
      s2 += p[2] * k[x];
    }
    out[3 * xx + 0] = pil_clip8(s0);
    out[3 * xx + 1] = pil_clip8(s1);
    out[3 * xx + 2] = pil_clip8(s2);
  }
}

// One output row of the vertical pass: `rows` points at the first input row
// used; acc is scratch of `bytes` ints. Tap-major so the inner loop is a
// contiguous multiply-add the compiler vectorises.
inline void pil_vertical_row(const std::uint8_t* rows, std::size_t stride, const std::int32_t* k, int n,
                             std::uint8_t* out, std::size_t bytes, std::int32_t* acc) {
  const std::int32_t half = 1 << (kPilPrecisionBits - 1);
  for (std::size_t x = 0; x < bytes; ++x) acc[x] = half;
  for (int y = 0; y < n; ++y) {
    const std::uint8_t* r = rows + static_cast<std::size_t>(y) * stride;
    const std::int32_t c = k[y];
    for (std::size_t x = 0; x < bytes; ++x) acc[x] += static_cast<std::int32_t>(r[x]) * c;
  }
  for (std::size_t x = 0; x < bytes; ++x) out[x] = pil_clip8(acc[x]);
}

inline void check_resize_args(const ImageView& src, const MutableImageView& dst, const char* what) {
  require(src.data != nullptr && !src.empty(), ErrorCode::invalid_argument, what, ": the source image is empty");
  require(dst.data != nullptr && dst.width > 0 && dst.height > 0, ErrorCode::invalid_argument, what,
          ": the target size ", dst.width, "x", dst.height, " is empty");
  require(src.width <= kMaxImageSide && src.height <= kMaxImageSide && dst.width <= kMaxImageSide &&
              dst.height <= kMaxImageSide,
          ErrorCode::invalid_argument, what, ": sizes beyond ", kMaxImageSide, " pixels per side");
  require(src.stride >= 3 * src.width && dst.stride >= 3 * dst.width, ErrorCode::invalid_argument, what,
          ": a row stride is shorter than the row");
}

}  // namespace detail

// Resizes `src` into `dst` (whose width/height give the target size).
inline void resize_bilinear_pil(const ImageView& src, const MutableImageView& dst) {
  detail::check_resize_args(src, dst, "Pillow bilinear resize");
  const std::size_t out_w = dst.width, out_h = dst.height;
  const bool need_h = out_w != src.width, need_v = out_h != src.height;
  if (!need_h && !need_v) {
    for (std::size_t y = 0; y < out_h; ++y) std::memcpy(dst.row(y), src.row(y), 3 * out_w);
    return;
  }
  if (!need_v) {  // horizontal pass straight into dst
    const auto th = detail::pil_bilinear_taps(static_cast<int>(src.width), static_cast<int>(out_w));
    for (std::size_t y = 0; y < out_h; ++y) detail::pil_horizontal_row(src.row(y), dst.row(y), th, out_w);
    return;
  }
  const auto tv = detail::pil_bilinear_taps(static_cast<int>(src.height), static_cast<int>(out_h));
  const std::size_t bytes = 3 * out_w;
  std::vector<std::int32_t> acc(bytes);
  if (!need_h) {
    for (std::size_t yy = 0; yy < out_h; ++yy)
      detail::pil_vertical_row(src.row(static_cast<std::size_t>(tv.first[yy])), src.stride, &tv.weights[yy * tv.ksize],
                               tv.count[yy], dst.row(yy), bytes, acc.data());
    return;
  }
  // Horizontal pass over the rows the vertical pass reads, into a temporary.
  const auto th = detail::pil_bilinear_taps(static_cast<int>(src.width), static_cast<int>(out_w));
  const std::size_t y_first = static_cast<std::size_t>(tv.first[0]);
  const std::size_t y_last = static_cast<std::size_t>(tv.first[out_h - 1] + tv.count[out_h - 1]);
  std::vector<std::uint8_t> tmp((y_last - y_first) * bytes);
  for (std::size_t y = y_first; y < y_last; ++y)
    detail::pil_horizontal_row(src.row(y), &tmp[(y - y_first) * bytes], th, out_w);
  for (std::size_t yy = 0; yy < out_h; ++yy)
    detail::pil_vertical_row(&tmp[(static_cast<std::size_t>(tv.first[yy]) - y_first) * bytes], bytes,
                             &tv.weights[yy * tv.ksize], tv.count[yy], dst.row(yy), bytes, acc.data());
}

inline Image resize_bilinear_pil(const ImageView& src, std::size_t width, std::size_t height) {
  require(width > 0 && height > 0, ErrorCode::invalid_argument, "Pillow bilinear resize: the target size ", width, "x",
          height, " is empty");
  Image out(width, height);
  resize_bilinear_pil(src, out.mutable_view());
  return out;
}

}  // namespace clipcaer::preprocess
