// bf16 GEMM tile: W stored as bf16, A rounded to bf16, sums in f32.
//
// Packed panel: pairs of k, [k / 2][NR][2] bf16, zero-padded (odd K, past n):
// one 32-bit lane holds one column's two k values, the operand layout of
// AVX512_BF16's vdpbf16ps. With that instruction (Native) A rows are bf16
// pairs broadcast 32 bits at a time. Without it the same panel is widened in
// registers (a bf16 is the top half of a float) and multiplied with A rows
// stored as bf16-rounded floats, odd k first as vdpbf16ps does, so both paths
// compute the same products.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "clipcaer/kernels/impl/gemm_f32_tile.hpp"
#include "clipcaer/kernels/impl/gemm_lowp.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/impl/support.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

#if defined(__AVX512BF16__)
#include <immintrin.h>
#endif

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

// Round to nearest even, keeping the top 16 bits; NaN stays NaN. (A local
// copy: kernel TUs must not instantiate helpers shared with other code.)
inline std::uint32_t bf16_round_bits(std::uint32_t bits) {
  if ((bits & 0x7fffffffu) > 0x7f800000u) return (bits | 0x00400000u) & 0xffff0000u;
  return (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
}

// GroupAlign: K groups padded to a multiple of it (16 for AMX tiles of 32 k).
template <class Arch, bool Native, std::size_t GroupAlign = 1>
struct GemmBf16Tile {
  using B = xsimd::batch<float, Arch>;
  using U = xsimd::batch<std::uint32_t, Arch>;
  using F = GemmF32Tile<Arch>;
  static constexpr std::size_t W = B::size;
  static constexpr std::size_t MR = F::MR;
  static constexpr std::size_t NV = F::NV;
  static constexpr std::size_t NR = F::NR;
  static constexpr std::size_t KU = 4;  // groups per prefetch slot
  static constexpr bool kScaled = false;

  static std::size_t groups(std::size_t K) { return lowp_round_up((K + 1) / 2, GroupAlign); }
  static std::size_t panel_bytes(std::size_t K) { return groups(K) * NR * 4; }
  // Native: bf16 pairs; emulated: bf16-rounded floats.
  static std::size_t a_row_bytes(std::size_t K) { return lowp_round_up(groups(K) * (Native ? 4 : 8), 64); }

  static void pack(const float* w, std::size_t n, std::size_t k, PackedMatrix& out) {
    const std::size_t panels = (n + NR - 1) / NR, g = groups(k);
    prepare_packed(out, n, k, WeightType::bf16, true, panels * panel_bytes(k));
    auto* dst = reinterpret_cast<std::uint16_t*>(out.data.data());
    if (panels * panel_bytes(k) > 0) std::memset(dst, 0, panels * panel_bytes(k));
    for (std::size_t row = 0; row < n; ++row) {
      std::uint16_t* col = dst + (row / NR) * g * NR * 2 + (row % NR) * 2;
      for (std::size_t kk = 0; kk < k; ++kk) {
        std::uint32_t bits;
        std::memcpy(&bits, w + row * k + kk, 4);
        col[(kk / 2) * NR * 2 + (kk & 1)] = static_cast<std::uint16_t>(bf16_round_bits(bits) >> 16);
      }
    }
  }

  // Rounds `rows` rows of A (K floats each) into the operand format, zero-padded to whole pairs.
  static void prepare_rows(const float* a, std::size_t lda, std::size_t rows, std::size_t K, unsigned char* out,
                           std::size_t row_bytes, float* /*scales*/) {
    for (std::size_t r = 0; r < rows; ++r) {
      const float* src = a + r * lda;
      unsigned char* dst = out + r * row_bytes;
      std::size_t k = 0;
      if constexpr (Native) {
#if defined(__AVX512BF16__)
        auto* d = reinterpret_cast<std::uint16_t*>(dst);
        for (; k + 16 <= K; k += 16) {
          const U r16 = round_bits(U::load_unaligned(reinterpret_cast<const std::uint32_t*>(src + k))) >> 16;
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + k), _mm512_cvtepi32_epi16(r16));
        }
        for (; k < K; ++k) {
          std::uint32_t bits;
          std::memcpy(&bits, src + k, 4);
          d[k] = static_cast<std::uint16_t>(bf16_round_bits(bits) >> 16);
        }
        for (; k < 2 * groups(K); ++k) d[k] = 0;
#endif
      } else {
        auto* d = reinterpret_cast<std::uint32_t*>(dst);
        for (; k + W <= K; k += W)
          round_bits(U::load_unaligned(reinterpret_cast<const std::uint32_t*>(src + k))).store_unaligned(d + k);
        for (; k < K; ++k) {
          std::uint32_t bits;
          std::memcpy(&bits, src + k, 4);
          d[k] = bf16_round_bits(bits);
        }
        for (; k < 2 * groups(K); ++k) d[k] = 0;
      }
    }
  }

  // dst (R x NR floats) = the tile's sums over all of K.
  template <std::size_t R>
  CLIPCAER_NOINLINE static void accumulate(const GemmLowpBlock& blk, float* dst) {
    if constexpr (Native) {
#if defined(__AVX512BF16__)
      static_assert(W == 16, "vdpbf16ps tiles are zmm tiles");
      __m512 acc[R][NV];
#pragma GCC unroll 8
      for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
      lowp_dot_tile<R, NV, NR, KU, 64>(blk, acc, [](__m512 c, __m512i a, __m512i b) {
        return _mm512_dpbf16_ps(c, (__m512bh)a, (__m512bh)b);
      });
#pragma GCC unroll 8
      for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) _mm512_store_ps(dst + r * NR + v * W, acc[r][v]);
#else
      (void)blk;
      (void)dst;
#endif
    } else {
      B acc[R][NV];
#pragma GCC unroll 8
      for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = B(0.0f);
      const auto* w = reinterpret_cast<const std::uint32_t*>(blk.w);
      const std::size_t lda = blk.lda / 4;
      const auto* a = reinterpret_cast<const float*>(blk.a);
      std::size_t line = 0;
      for (std::size_t g = 0; g < blk.groups; ++g, w += NR, a += 2) {
        lowp_prefetch<KU>(blk, g, line);
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) {
          const U x = U::load_aligned(w + v * W);
          const B even = xsimd::bitwise_cast<B>(x << 16);
          const B odd = xsimd::bitwise_cast<B>(x & U(0xffff0000u));
#pragma GCC unroll 8
          for (std::size_t r = 0; r < R; ++r) {
            acc[r][v] = xsimd::fma(B(a[r * lda + 1]), odd, acc[r][v]);
            acc[r][v] = xsimd::fma(B(a[r * lda]), even, acc[r][v]);
          }
        }
      }
#pragma GCC unroll 8
      for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) acc[r][v].store_aligned(dst + r * NR + v * W);
    }
  }

 private:
  // Vector bf16_round_bits (NaN lanes too).
  static U round_bits(U bits) {
    const U mag = bits & U(0x7fffffffu);
    const U rounded = (bits + U(0x7fffu) + ((bits >> 16) & U(1u))) & U(0xffff0000u);
    const U nan = (bits | U(0x00400000u)) & U(0xffff0000u);
    return xsimd::select(mag > U(0x7f800000u), nan, rounded);
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
