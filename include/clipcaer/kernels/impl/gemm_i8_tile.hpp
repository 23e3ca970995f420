// int8 GEMM tile: W quantised per output channel (symmetric, scale =
// max|w| / 127), A per row at run time (same rule), exact int32 sums,
// y = sum * w_scale[col] * a_scale[row] before the f32 epilogue.
//
// Packed panel: quads of k, [k / 4][NR][4] int8, zero-padded; then the
// column sums (int32, all panels) and column scales (float, all panels).
// With AVX512_VNNI (Vnni), vpdpbusd multiplies unsigned by signed bytes: A
// rows are stored as q + 128 (u8) and 128 x column sum is subtracted at the
// end. Without it, pmaddwd on 16-bit pairs: GemmLowp sign-extends each
// panel once per row block (widen_panel), A rows are stored as int16 in the
// order a0 a2 a1 a3. Integer sums are exact, so every table computes the
// same sums, bit for bit.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "clipcaer/kernels/impl/gemm_f32_tile.hpp"
#include "clipcaer/kernels/impl/gemm_lowp.hpp"
#include "clipcaer/kernels/impl/int_lanes.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/impl/pack_panels.hpp"
#include "clipcaer/kernels/impl/support.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

#if defined(__AVX512VNNI__) || defined(__AVXVNNI__)
#include <immintrin.h>
#endif

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

// GroupAlign: K groups padded to a multiple of it (16 for AMX tiles of 64 k).
template <class Arch, bool Vnni, std::size_t GroupAlign = 1>
struct GemmI8Tile {
  using B = xsimd::batch<float, Arch>;
  using I = xsimd::batch<std::int32_t, Arch>;
  using F = GemmF32Tile<Arch>;
  using L = IntLanes<B::size>;
  static constexpr std::size_t W = B::size;
  static constexpr std::size_t MR = F::MR;
  static constexpr std::size_t NV = F::NV;
  static constexpr std::size_t NR = F::NR;
  static constexpr std::size_t KU = 4;  // groups per prefetch slot
  static constexpr bool kScaled = true;
  // Without VNNI, GemmLowp sign-extends each panel to 16-bit pairs
  // (widen_panel) once per row block, before its tiles run.
  static constexpr bool kWidensPanel = !Vnni;
  static std::size_t panel_floats(std::size_t K) { return Vnni ? 0 : 2 * groups(K) * NR; }

  static std::size_t groups(std::size_t K) { return lowp_round_up((K + 3) / 4, GroupAlign); }
  static std::size_t panel_bytes(std::size_t K) { return groups(K) * NR * 4; }
  // Vnni: u8 quads; else int16 quads.
  static std::size_t a_row_bytes(std::size_t K) { return lowp_round_up(groups(K) * (Vnni ? 4 : 8), 64); }

  static void pack(const float* w, std::size_t n, std::size_t k, PackedMatrix& out) {
    const std::size_t panels = (n + NR - 1) / NR, pb = panel_bytes(k), g = groups(k);
    prepare_packed(out, n, k, WeightType::i8, true, panels * (pb + NR * 8));
    unsigned char* base = out.data.data();
    auto* sums = reinterpret_cast<std::int32_t*>(base + panels * pb);
    auto* scales = reinterpret_cast<float*>(sums + panels * NR);
    std::memset(sums, 0, panels * NR * 8);  // columns past n: sum 0, scale 0
    // A unit: quad k 4u .. 4u + 3, zero past k.
    PackPanels<W>::converted(n, g, NR, base, [&](std::size_t row, std::uint32_t* units) {
      const float* src = w + row * k;
      // max|w| ignoring NaN, as `x > amax` does.
      B vmax(0.0f);
      std::size_t kk = 0;
      for (; kk + W <= k; kk += W) {
        const B x = xsimd::abs(B::load_unaligned(src + kk));
        vmax = xsimd::select(x > vmax, x, vmax);
      }
      alignas(64) float lanes[W];
      vmax.store_aligned(lanes);
      float amax = 0.0f;
      for (std::size_t j = 0; j < W; ++j) amax = lanes[j] > amax ? lanes[j] : amax;
      for (; kk < k; ++kk) amax = std::fabs(src[kk]) > amax ? std::fabs(src[kk]) : amax;
      const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
      scales[row] = amax / 127.0f;
      auto* q = reinterpret_cast<std::int8_t*>(units);
      std::memset(q + k, 0, g * 4 - k);  // padding past k
      alignas(64) std::int32_t v[W];
      I vsum(0);
      for (kk = 0; kk + W <= k; kk += W) {
        // round(w * inv) as clamp127 below: NaN converts to INT_MIN, then -127.
        const I x = xsimd::min(xsimd::max(xsimd::nearbyint_as_int(B::load_unaligned(src + kk) * B(inv)), I(-127)),
                               I(127));
        vsum += x;
        x.store_aligned(v);
        for (std::size_t j = 0; j < W; ++j) q[kk + j] = static_cast<std::int8_t>(v[j]);
      }
      std::int32_t sum = xsimd::hadd(vsum);
      for (; kk < k; ++kk) {
        const std::int32_t x = clamp127(std::nearbyint(src[kk] * inv));
        q[kk] = static_cast<std::int8_t>(x);
        sum += x;
      }
      sums[row] = sum;
    });
  }

  // Quantises `rows` rows of A (K floats each): scales[r] = max|a| / 127,
  // q = round(a * 127 / max|a|). A row with a non-finite value gets scale NaN,
  // so its outputs are NaN rather than silently wrong.
  static void prepare_rows(const float* a, std::size_t lda, std::size_t rows, std::size_t K, unsigned char* out,
                           std::size_t row_bytes, float* scales) {
    for (std::size_t r = 0; r < rows; ++r) {
      const float* src = a + r * lda;
      // max drops NaN operands, so non-finite values are caught apart: x * 0 is NaN for inf and NaN.
      B vmax(0.0f), check(0.0f);
      std::size_t k = 0;
      for (; k + W <= K; k += W) {
        const B x = B::load_unaligned(src + k);
        vmax = xsimd::max(vmax, xsimd::abs(x));
        check += x * B(0.0f);
      }
      alignas(64) float lanes[W], checks[W];
      vmax.store_aligned(lanes);
      check.store_aligned(checks);
      float amax = 0.0f;
      bool finite = true;
      for (std::size_t j = 0; j < W; ++j) {
        finite = finite && checks[j] == 0.0f;
        amax = lanes[j] > amax ? lanes[j] : amax;
      }
      for (; k < K; ++k) {
        const float x = std::fabs(src[k]);
        finite = finite && std::isfinite(x);
        amax = x > amax ? x : amax;
      }
      const float inv = finite && amax > 0.0f ? 127.0f / amax : 0.0f;
      scales[r] = finite ? amax / 127.0f : std::numeric_limits<float>::quiet_NaN();
      unsigned char* dst = out + r * row_bytes;
      std::memset(dst, 0, row_bytes);  // padding past K: any value works, W is zero there
      alignas(64) std::int32_t q[W];
      for (k = 0; k < K; k += W) {
        const std::size_t cnt = K - k < W ? K - k : W;
#if defined(__AVX512VNNI__)
        if constexpr (Vnni && W == 16) {
          if (cnt == W) {  // the same arithmetic as below, 16 bytes at a time
            __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(src + k), _mm512_set1_ps(inv)));
            v = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(-127)), _mm512_set1_epi32(127));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + k),
                             _mm512_cvtepi32_epi8(_mm512_add_epi32(v, _mm512_set1_epi32(128))));
            continue;
          }
        }
#endif
#if defined(__AVXVNNI__)
        if constexpr (Vnni && W == 8) {
          if (cnt == W) {  // the same arithmetic as below, 8 bytes at a time
            __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(src + k), _mm256_set1_ps(inv)));
            v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(-127)), _mm256_set1_epi32(127)),
                                 _mm256_set1_epi32(128));
            // 1..255 in each int32: keep byte 0 of each lane.
            const __m256i bytes = _mm256_shuffle_epi8(
                v, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1, -1, -1,
                                    -1, -1, -1, -1, -1, -1, -1, -1, -1));
            const std::uint32_t lo = static_cast<std::uint32_t>(_mm256_cvtsi256_si32(bytes));
            const std::uint32_t hi = static_cast<std::uint32_t>(_mm256_extract_epi32(bytes, 4));
            std::memcpy(dst + k, &lo, 4);
            std::memcpy(dst + k + 4, &hi, 4);
            continue;
          }
        }
#endif
        if (cnt == W) {
          // Lanes of a non-finite row become INT_MIN here, then -127 (scale NaN).
          xsimd::nearbyint_as_int(B::load_unaligned(src + k) * B(inv)).store_aligned(q);
          for (std::size_t j = 0; j < W; ++j) q[j] = q[j] > 127 ? 127 : q[j] < -127 ? -127 : q[j];
        } else {
          for (std::size_t j = 0; j < cnt; ++j) q[j] = clamp127(std::nearbyint(src[k + j] * inv));
        }
        for (std::size_t j = 0; j < cnt; ++j) {
          const std::int32_t v = q[j];
          const std::size_t kk = k + j;
          if constexpr (Vnni) {
            dst[kk] = static_cast<unsigned char>(v + 128);
          } else {
            // int16 quad order a0 a2 a1 a3: even k pair first, for pmaddwd with the even bytes of W.
            static constexpr std::size_t slot[4] = {0, 2, 1, 3};
            const auto s16 = static_cast<std::int16_t>(v);
            std::memcpy(dst + (kk / 4) * 8 + slot[kk & 3] * 2, &s16, 2);
          }
        }
      }
    }
  }

  template <std::size_t R>
  CLIPCAER_NOINLINE static void accumulate(const GemmLowpBlock& blk, float* dst) {
    alignas(64) std::int32_t sums[R][NR];
    if constexpr (Vnni) {
      static_assert(W == 16 || W == 8, "vpdpbusd tiles are zmm or ymm tiles");
#if defined(__AVX512VNNI__)
      if constexpr (W == 16)
        lowp_dot_int_sums<R, NV, NR, KU, 64>(blk, sums,
                                             [](__m512i c, __m512i a, __m512i b) { return _mm512_dpbusd_epi32(c, a, b); });
#endif
#if defined(__AVXVNNI__)
      if constexpr (W == 8)  // AVX-VNNI (Alder Lake and later without AVX-512): the VEX ymm form
        lowp_dot_int_sums<R, NV, NR, KU, 32>(
            blk, sums, [](__m256i c, __m256i a, __m256i b) { return _mm256_dpbusd_avx_epi32(c, a, b); });
#endif
    } else {
      typename L::V acc[R][NV];
#pragma GCC unroll 8
      for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = L::zero();
      // blk.w is the widened panel: per group, NR even pairs then NR odd pairs.
      // Per half group: NV panel vectors, then per row one broadcast of A and
      // NV pmaddwd + add: 12 accumulators + 2 + 1 fit AVX2's 16 registers.
      // L::opaque keeps GCC from hoisting the rows' broadcasts together and
      // from re-associating the sums across half groups (either kept more
      // values live and spilled the accumulators).
      const unsigned char* w = blk.w;
      const unsigned char* a = blk.a;
      std::size_t line = 0;
      for (std::size_t g = 0; g < blk.groups; ++g, w += NR * 8, a += 8) {
        lowp_prefetch<KU>(blk, g, line);
#pragma GCC unroll 8
        for (std::size_t h = 0; h < 2; ++h) {
          typename L::V x[NV];
#pragma GCC unroll 8
          for (std::size_t v = 0; v < NV; ++v) x[v] = L::load(w + h * NR * 4 + v * W * 4);
#pragma GCC unroll 8
          for (std::size_t r = 0; r < R; ++r) {
            const typename L::V b = L::opaque(L::broadcast(a + r * blk.lda + 4 * h));
#pragma GCC unroll 8
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] = L::opaque(L::add(acc[r][v], L::madd16(x[v], b)));
          }
        }
      }
#pragma GCC unroll 8
      for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) L::store(&sums[r][v * W], acc[r][v]);
    }
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r)
      dequantize_row(sums[r], Vnni ? blk.w_sum : nullptr, blk.w_scale, blk.a_scale[r], NR, dst + r * NR);
  }

  // Without VNNI: per group, the panel's int8 quads sign-extended to 16-bit
  // pairs, NR even pairs (k0, k2) then NR odd pairs (k1, k3), the order of
  // the prepared A rows (a0 a2 a1 a3). Returns out.
  static const unsigned char* widen_panel(const unsigned char* panel, std::size_t groups, float* out) {
    auto* dst = reinterpret_cast<std::int32_t*>(out);
    for (std::size_t g = 0; g < groups; ++g, panel += NR * 4, dst += 2 * NR)
      for (std::size_t v = 0; v < NV; ++v) {
        const typename L::V x = L::load(panel + v * W * 4);
        L::store(dst + v * W, L::even_bytes(x));
        L::store(dst + NR + v * W, L::odd_bytes(x));
      }
    return reinterpret_cast<const unsigned char*>(out);
  }

  // dst = float(sum - 128 x w_sum) x w_scale x a_scale over the vectors
  // covering ncols columns; w_sum null when A was stored without the +128
  // (pmaddwd path). The same operations on every table, AMX included. dst
  // may equal sums.
  static void dequantize_row(const std::int32_t* sums, const std::int32_t* w_sum, const float* w_scale,
                             float a_scale, std::size_t ncols, float* dst) {
#pragma GCC unroll 8
    for (std::size_t c = 0; c < ncols; c += W) {
      I s = I::load_aligned(sums + c);
      if (w_sum) s -= I::load_unaligned(w_sum + c) << 7;
      ((xsimd::to_float(s) * B::load_unaligned(w_scale + c)) * B(a_scale)).store_aligned(dst + c);
    }
  }

 private:
  // NaN -> -127 (never an undefined float-to-int conversion).
  static std::int32_t clamp127(float x) {
    return x >= -127.0f ? (x <= 127.0f ? static_cast<std::int32_t>(x) : 127) : -127;
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
