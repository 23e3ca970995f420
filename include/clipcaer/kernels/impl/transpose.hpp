// Transposes one W x W tile of floats in registers (W = the vector width):
// dst[c * ldd + r] = src[r * lds + c] for r < rows (rows past `rows` read as 0).
// Shuffle sequences per ISA, scalar elsewhere.
#pragma once

#include <cstddef>

#if defined(__SSE2__) || defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "clipcaer/kernels/impl/namespace.hpp"

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

template <std::size_t W>
inline void transpose_tile(const float* src, std::size_t lds, std::size_t rows, float* dst, std::size_t ldd) {
#if defined(__AVX512F__)
  if constexpr (W == 16) {
    __m512 r[16], t[16];
    for (std::size_t i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_loadu_ps(src + i * lds) : _mm512_setzero_ps();
    for (std::size_t i = 0; i < 16; i += 2) {  // 32-bit pairs within 128-bit lanes
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (std::size_t g = 0; g < 16; g += 4) {  // r[g + c], lane l: rows g..g+3 of column 4l + c
      r[g] = _mm512_shuffle_ps(t[g], t[g + 2], 0x44);
      r[g + 1] = _mm512_shuffle_ps(t[g], t[g + 2], 0xEE);
      r[g + 2] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0x44);
      r[g + 3] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
    }
    for (std::size_t c = 0; c < 4; ++c) {  // 128-bit lanes across row groups
      t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
      t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
      t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
      t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
    }
    for (std::size_t c = 0; c < 4; ++c) {
      _mm512_storeu_ps(dst + c * ldd, _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88));
      _mm512_storeu_ps(dst + (8 + c) * ldd, _mm512_shuffle_f32x4(t[c], t[8 + c], 0xDD));
      _mm512_storeu_ps(dst + (4 + c) * ldd, _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88));
      _mm512_storeu_ps(dst + (12 + c) * ldd, _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xDD));
    }
    return;
  }
#endif
#if defined(__AVX__)
  if constexpr (W == 8) {
    __m256 r[8], t[8];
    for (std::size_t i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_loadu_ps(src + i * lds) : _mm256_setzero_ps();
    for (std::size_t i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (std::size_t g = 0; g < 8; g += 4) {
      r[g] = _mm256_shuffle_ps(t[g], t[g + 2], 0x44);
      r[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], 0xEE);
      r[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0x44);
      r[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
    }
    for (std::size_t c = 0; c < 4; ++c) {
      _mm256_storeu_ps(dst + c * ldd, _mm256_permute2f128_ps(r[c], r[4 + c], 0x20));
      _mm256_storeu_ps(dst + (4 + c) * ldd, _mm256_permute2f128_ps(r[c], r[4 + c], 0x31));
    }
    return;
  }
#endif
#if defined(__SSE2__)
  if constexpr (W == 4) {
    __m128 r0 = rows > 0 ? _mm_loadu_ps(src) : _mm_setzero_ps();
    __m128 r1 = rows > 1 ? _mm_loadu_ps(src + lds) : _mm_setzero_ps();
    __m128 r2 = rows > 2 ? _mm_loadu_ps(src + 2 * lds) : _mm_setzero_ps();
    __m128 r3 = rows > 3 ? _mm_loadu_ps(src + 3 * lds) : _mm_setzero_ps();
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(dst, r0);
    _mm_storeu_ps(dst + ldd, r1);
    _mm_storeu_ps(dst + 2 * ldd, r2);
    _mm_storeu_ps(dst + 3 * ldd, r3);
    return;
  }
#endif
  for (std::size_t c = 0; c < W; ++c)
    for (std::size_t r = 0; r < W; ++r) dst[c * ldd + r] = r < rows ? src[r * lds + c] : 0.0f;
}

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
