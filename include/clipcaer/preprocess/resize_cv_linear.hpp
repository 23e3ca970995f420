// OpenCV-compatible `cv2.resize(img, (w, h))` (INTER_LINEAR) for 8-bit RGB,
// reproducing OpenCV 4.6 (imgproc/src/resize.cpp, generic linear path) bit
// for bit:
// - same size: a copy; exactly half size on both axes: OpenCV switches to
//   INTER_AREA, a rounded 2x2 mean (a + b + c + d + 2) >> 2;
// - otherwise bilinear with no antialiasing: source coordinate
//   fx = float((dx + 0.5) * scale - 0.5) with scale = 1 / (dst / src) in
//   double; weights (1 - f, f) as float, scaled by 2048 and rounded to
//   short (ties to even); a coordinate left of the image uses pixel 0 with
//   weight 1 (horizontally) or clamps the row (vertically, keeping the
//   weights); right of the image uses the last pixel;
// - horizontal pass exact in int32; vertical pass as OpenCV's SIMD and
//   scalar code both compute it: ((b0 * (S0 >> 4)) >> 16) +
//   ((b1 * (S1 >> 4)) >> 16), + 2, >> 2.
#pragma once

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
#include "clipcaer/preprocess/resize_pil_bilinear.hpp"  // check_resize_args
#include "clipcaer/preprocess/rounding.hpp"

namespace clipcaer::preprocess {

namespace detail {

inline constexpr int kCvCoefScale = 2048;  // INTER_RESIZE_COEF_SCALE

// Taps of one axis: output i blends source i0 = index[i] and index[i] + 1
// (clamped) with weights w0[i], w1[i] (sum ~2048).
struct CvTaps {
  std::vector<int> index;
  std::vector<std::int16_t> w0, w1;
};

inline std::int16_t cv_round_coef(float v) noexcept {
  // saturate_cast<short>(float) = cvRound: nearest, ties to even.
  return static_cast<std::int16_t>(std::nearbyint(v * static_cast<float>(kCvCoefScale)));
}

// `clamp_weights`: the horizontal setup zeroes the fraction outside the
// image; the vertical setup keeps it and clamps row indices later.
inline CvTaps cv_linear_taps(int src_size, int dst_size, bool clamp_weights) {
  CvTaps t;
  t.index.resize(static_cast<std::size_t>(dst_size));
  t.w0.resize(static_cast<std::size_t>(dst_size));
  t.w1.resize(static_cast<std::size_t>(dst_size));
  const double inv_scale = static_cast<double>(dst_size) / src_size;
  const double scale = 1.0 / inv_scale;
  for (int d = 0; d < dst_size; ++d) {
    float f = static_cast<float>(mul_rounded(d + 0.5, scale) - 0.5);
    int s = static_cast<int>(std::floor(f));
    f -= static_cast<float>(s);
    if (clamp_weights) {
      if (s < 0) f = 0.f, s = 0;
      if (s >= src_size - 1) f = 0.f, s = src_size - 1;
    }
    t.index[static_cast<std::size_t>(d)] = s;
    t.w0[static_cast<std::size_t>(d)] = cv_round_coef(1.f - f);
    t.w1[static_cast<std::size_t>(d)] = cv_round_coef(f);
  }
  return t;
}

inline int cv_clamp(int v, int lo, int hi_exclusive) noexcept {
  return v < lo ? lo : (v >= hi_exclusive ? hi_exclusive - 1 : v);
}

// Horizontal pass of one source row into int32 (RGB interleaved), plain C,
// for outputs [from, out_w).
inline void cv_horizontal_tail(const std::uint8_t* in, std::int32_t* out, const CvTaps& t, std::size_t from,
                               std::size_t out_w, int src_w) {
  for (std::size_t dx = from; dx < out_w; ++dx) {
    const int sx = t.index[dx];
    const std::int32_t a0 = t.w0[dx], a1 = t.w1[dx];
    const std::uint8_t* p = in + 3 * static_cast<std::size_t>(sx);
    if (sx + 1 < src_w) {
      out[3 * dx + 0] = p[0] * a0 + p[3] * a1;
      out[3 * dx + 1] = p[1] * a0 + p[4] * a1;
      out[3 * dx + 2] = p[2] * a0 + p[5] * a1;
    } else {  // last column: OpenCV multiplies by 2048 (a1 is 0 here)
      out[3 * dx + 0] = p[0] * kCvCoefScale;
      out[3 * dx + 1] = p[1] * kCvCoefScale;
      out[3 * dx + 2] = p[2] * kCvCoefScale;
    }
  }
}

#if defined(__SSE2__)
// The same with SSE2 (exact integer arithmetic): per output pixel, pmaddwd of
// (pixel sx, pixel sx + 1) with (w0, w1) gives R, G, B at once. `out` must
// have room for one int32 past the row (a 16-byte store per pixel).
struct CvTapsPacked {
  std::vector<std::int32_t> weights;  // (w1 << 16) | w0
  std::size_t fast_end = 0;           // outputs before this read 8 bytes inside the row and have a right neighbour
};

inline CvTapsPacked cv_pack_taps(const CvTaps& t, int src_w) {
  CvTapsPacked p;
  const std::size_t n = t.index.size();
  p.weights.resize(n);
  for (std::size_t dx = 0; dx < n; ++dx)
    p.weights[dx] = static_cast<std::int32_t>(static_cast<std::uint16_t>(t.w0[dx]) |
                                              static_cast<std::uint32_t>(static_cast<std::uint16_t>(t.w1[dx])) << 16);
  // index is non-decreasing, so the outputs that need care form a tail.
  while (p.fast_end < n && 3 * static_cast<std::size_t>(t.index[p.fast_end]) + 8 <= 3 * static_cast<std::size_t>(src_w) &&
         t.index[p.fast_end] + 1 < src_w)
    ++p.fast_end;
  return p;
}

inline void cv_horizontal_row_sse2(const std::uint8_t* in, std::int32_t* out, const CvTaps& t,
                                   const CvTapsPacked& packed, std::size_t out_w, int src_w) {
  const __m128i zero = _mm_setzero_si128();
  for (std::size_t dx = 0; dx < packed.fast_end; ++dx) {
    __m128i px = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + 3 * static_cast<std::size_t>(t.index[dx])));
    px = _mm_unpacklo_epi8(px, zero);
    px = _mm_unpacklo_epi16(px, _mm_srli_si128(px, 6));  // R0 R1 G0 G1 B0 B1 (unused pair)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 3 * dx), _mm_madd_epi16(px, _mm_set1_epi32(packed.weights[dx])));
  }
  cv_horizontal_tail(in, out, t, packed.fast_end, out_w, src_w);
}
#endif

// Vertical pass in 16-bit lanes as OpenCV computes it (S >> 4 and the weights
// fit int16; the products' high halves are pmulhw).
inline void cv_vertical_row(const std::int32_t* s0, const std::int32_t* s1, std::int16_t b0, std::int16_t b1,
                            std::uint8_t* out, std::size_t bytes) {
  std::size_t x = 0;
#if defined(__SSE2__)
  // OpenCV's own SIMD formulation: pack S >> 4 to int16, pmulhw, add, round.
  const __m128i vb0 = _mm_set1_epi16(b0), vb1 = _mm_set1_epi16(b1), two = _mm_set1_epi16(2);
  for (; x + 8 <= bytes; x += 8) {
    const __m128i a0 = _mm_packs_epi32(_mm_srai_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s0 + x)), 4),
                                       _mm_srai_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s0 + x + 4)), 4));
    const __m128i a1 = _mm_packs_epi32(_mm_srai_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s1 + x)), 4),
                                       _mm_srai_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s1 + x + 4)), 4));
    __m128i v = _mm_adds_epi16(_mm_mulhi_epi16(a0, vb0), _mm_mulhi_epi16(a1, vb1));
    v = _mm_srai_epi16(_mm_adds_epi16(v, two), 2);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + x), _mm_packus_epi16(v, v));
  }
#endif
  for (; x < bytes; ++x) {
    const auto a0 = static_cast<std::int16_t>(s0[x] >> 4), a1 = static_cast<std::int16_t>(s1[x] >> 4);
    const std::int32_t v = ((a0 * b0) >> 16) + ((a1 * b1) >> 16);
    const std::int32_t r = (v + 2) >> 2;
    out[x] = static_cast<std::uint8_t>(r < 0 ? 0 : (r > 255 ? 255 : r));
  }
}

inline void cv_area_half(const ImageView& src, const MutableImageView& dst) {
  for (std::size_t y = 0; y < dst.height; ++y) {
    const std::uint8_t* r0 = src.row(2 * y);
    const std::uint8_t* r1 = src.row(2 * y + 1);
    std::uint8_t* o = dst.row(y);
    for (std::size_t x = 0; x < dst.width; ++x)
      for (std::size_t c = 0; c < 3; ++c) {
        const std::size_t i = 6 * x + c;
        o[3 * x + c] = static_cast<std::uint8_t>((r0[i] + r0[i + 3] + r1[i] + r1[i + 3] + 2) >> 2);
      }
  }
}

}  // namespace detail

// Resizes `src` into `dst` (whose width/height give the target size).
inline void resize_linear_cv(const ImageView& src, const MutableImageView& dst) {
  detail::check_resize_args(src, dst, "OpenCV linear resize");
  const int sw = static_cast<int>(src.width), sh = static_cast<int>(src.height);
  const int dw = static_cast<int>(dst.width), dh = static_cast<int>(dst.height);
  if (sw == dw && sh == dh) {
    for (std::size_t y = 0; y < dst.height; ++y) std::memcpy(dst.row(y), src.row(y), 3 * dst.width);
    return;
  }
  // OpenCV's test: 1 / (dst / src) within DBL_EPSILON of the integer 2 on both axes.
  const double scale_x = 1.0 / (static_cast<double>(dw) / sw), scale_y = 1.0 / (static_cast<double>(dh) / sh);
  if (std::fabs(scale_x - 2.0) < 2.220446049250313e-16 && std::fabs(scale_y - 2.0) < 2.220446049250313e-16) {
    detail::cv_area_half(src, dst);
    return;
  }
  const auto tx = detail::cv_linear_taps(sw, dw, true);
  const auto ty = detail::cv_linear_taps(sh, dh, false);
  const std::size_t bytes = 3 * dst.width;
#if defined(__SSE2__)
  const auto packed = detail::cv_pack_taps(tx, sw);
#endif
  // Two horizontally resized source rows, kept while consecutive output rows reuse them.
  const std::size_t row_ints = bytes + 4;  // room for the SIMD pass's last 16-byte store
  std::vector<std::int32_t> buf(2 * row_ints);
  int cached[2] = {-1, -1};
  for (std::size_t dy = 0; dy < dst.height; ++dy) {
    const int want[2] = {detail::cv_clamp(ty.index[dy], 0, sh), detail::cv_clamp(ty.index[dy] + 1, 0, sh)};
    int slot[2] = {-1, -1};
    for (int k = 0; k < 2; ++k) {
      for (int s = 0; s < 2; ++s)
        if (cached[s] == want[k]) slot[k] = s;
      if (slot[k] >= 0) continue;
      // Overwrite the slot that neither holds the other wanted row nor was just chosen.
      slot[k] = k == 1 ? 1 - slot[0] : (cached[0] == want[1] ? 1 : 0);
      const std::uint8_t* in = src.row(static_cast<std::size_t>(want[k]));
      std::int32_t* out = &buf[static_cast<std::size_t>(slot[k]) * row_ints];
#if defined(__SSE2__)
      detail::cv_horizontal_row_sse2(in, out, tx, packed, dst.width, sw);
#else
      detail::cv_horizontal_tail(in, out, tx, 0, dst.width, sw);
#endif
      cached[slot[k]] = want[k];
    }
    const std::int32_t* rows[2] = {&buf[static_cast<std::size_t>(slot[0]) * row_ints],
                                   &buf[static_cast<std::size_t>(slot[1]) * row_ints]};
    detail::cv_vertical_row(rows[0], rows[1], ty.w0[dy], ty.w1[dy], dst.row(dy), bytes);
  }
}

inline Image resize_linear_cv(const ImageView& src, std::size_t width, std::size_t height) {
  require(width > 0 && height > 0, ErrorCode::invalid_argument, "OpenCV linear resize: the target size ", width, "x",
          height, " is empty");
  Image out(width, height);
  resize_linear_cv(src, out.mutable_view());
  return out;
}

}  // namespace clipcaer::preprocess
