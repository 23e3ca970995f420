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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// One output row of the horizontal pass (RGB interleaved), plain C.
inline void pil_horizontal_row_scalar(const std::uint8_t* in, std::uint8_t* out, const PilTaps& t,
                                      std::size_t out_w) {
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

#if defined(__SSE2__)
// The same with SSE2, exact: a 22-bit weight k is split as hi * 2^11 + lo
// (both fit int16), and pmaddwd sums two taps of the three channels of a
// pixel at once; sum = (sum_hi << 11) + sum_lo, then as above.
struct alignas(16) PilWeightPair {
  std::int32_t lane[4];  // (k[x+1] part << 16) | k[x] part, in every lane
};
struct PilTapsPacked {
  std::vector<PilWeightPair> hi, lo;  // per pair of taps
  std::vector<std::size_t> offset;  // first pair of each output pixel
};

inline PilTapsPacked pil_pack_taps(const PilTaps& t) {
  PilTapsPacked p;
  const std::size_t n_out = t.count.size();
  p.offset.resize(n_out + 1);
  for (std::size_t xx = 0; xx < n_out; ++xx) {
    p.offset[xx] = p.hi.size();
    const std::int32_t* k = &t.weights[xx * t.ksize];
    for (int x = 0; x < t.count[xx]; x += 2) {
      const std::int32_t k0 = k[x], k1 = x + 1 < t.count[xx] ? k[x + 1] : 0;  // an odd last tap pairs with weight 0
      const auto hi = static_cast<std::int32_t>(static_cast<std::uint32_t>(k1 >> 11) << 16 |
                                                static_cast<std::uint32_t>(k0 >> 11));
      const auto lo = static_cast<std::int32_t>(static_cast<std::uint32_t>(k1 & 2047) << 16 |
                                                static_cast<std::uint32_t>(k0 & 2047));
      p.hi.push_back({{hi, hi, hi, hi}});
      p.lo.push_back({{lo, lo, lo, lo}});
    }
  }
  p.offset[n_out] = p.hi.size();
  return p;
}

inline void pil_horizontal_row_sse2(const std::uint8_t* in, std::size_t in_w, std::uint8_t* out, const PilTaps& t,
                                    const PilTapsPacked& packed, std::size_t out_w) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i half = _mm_set1_epi32(1 << (kPilPrecisionBits - 1));
  const std::size_t row_bytes = 3 * in_w;
  for (std::size_t xx = 0; xx < out_w; ++xx) {
    std::size_t at = 3 * static_cast<std::size_t>(t.first[xx]);
    __m128i acc_hi = zero, acc_lo = zero;
    for (std::size_t j = packed.offset[xx]; j < packed.offset[xx + 1]; ++j, at += 6) {
      // 8 bytes from pixel x: R0 G0 B0 R1 G1 B1 R2 G2; near the row end, from a zero-padded copy.
      __m128i px;
      if (at + 8 <= row_bytes) {
        px = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + at));
      } else {
        alignas(16) std::uint8_t tail[16] = {};
        std::memcpy(tail, in + at, row_bytes - at);
        px = _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
      }
      px = _mm_unpacklo_epi8(px, zero);                      // as int16
      px = _mm_unpacklo_epi16(px, _mm_srli_si128(px, 6));   // R0 R1 G0 G1 B0 B1 (R1 R2: unused lane)
      const auto* w_hi = reinterpret_cast<const __m128i*>(packed.hi[j].lane);
      const auto* w_lo = reinterpret_cast<const __m128i*>(packed.lo[j].lane);
      acc_hi = _mm_add_epi32(acc_hi, _mm_madd_epi16(px, _mm_load_si128(w_hi)));
      acc_lo = _mm_add_epi32(acc_lo, _mm_madd_epi16(px, _mm_load_si128(w_lo)));
    }
    __m128i sum = _mm_add_epi32(_mm_add_epi32(_mm_slli_epi32(acc_hi, 11), acc_lo), half);
    sum = _mm_srai_epi32(sum, kPilPrecisionBits);
    sum = _mm_packus_epi16(_mm_packs_epi32(sum, sum), zero);  // clamp to [0, 255]
    const auto rgb = static_cast<std::uint32_t>(_mm_cvtsi128_si32(sum));
    out[3 * xx + 0] = static_cast<std::uint8_t>(rgb);
    out[3 * xx + 1] = static_cast<std::uint8_t>(rgb >> 8);
    out[3 * xx + 2] = static_cast<std::uint8_t>(rgb >> 16);
  }
}
#endif

// Horizontal pass over rows [y0, y1) of `src` into `out` (rows of 3 * out_w bytes, `out_stride` apart).
inline void pil_horizontal_rows(const ImageView& src, std::size_t y0, std::size_t y1, const PilTaps& t,
                                std::size_t out_w, std::uint8_t* out, std::size_t out_stride) {
#if defined(__SSE2__)
  const PilTapsPacked packed = pil_pack_taps(t);
  for (std::size_t y = y0; y < y1; ++y)
    pil_horizontal_row_sse2(src.row(y), src.width, out + (y - y0) * out_stride, t, packed, out_w);
#else
  for (std::size_t y = y0; y < y1; ++y) pil_horizontal_row_scalar(src.row(y), out + (y - y0) * out_stride, t, out_w);
#endif
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
    detail::pil_horizontal_rows(src, 0, out_h, th, out_w, dst.data, dst.stride);
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
  detail::pil_horizontal_rows(src, y_first, y_last, th, out_w, tmp.data(), bytes);
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
