// bf16 GEMM tile: W stored as bf16, A rounded to bf16, sums in f32.
//
// Packed panel: pairs of k, [k / 2][NR][2] bf16, zero-padded (odd K, past n):
// one 32-bit lane holds one column's two k values, the operand layout of
// AVX512_BF16's vdpbf16ps. With that instruction (Native) A rows are bf16
// pairs broadcast 32 bits at a time. Without it, once per panel and row
// block, the panel is widened into f32 rows (a bf16 is the top half of a
// float) in the order odd k, even k of each pair, A rows are stored as
// bf16-rounded floats in the same order, and the f32 register tile runs on
// them: the FMA sequence of vdpbf16ps's emulation (odd k's product first),
// so both paths compute the same bits, at the f32 tile's speed. (Widening in
// registers inside the tile instead cost ~1.6x the f32 time: the shifts
// compete with the FMAs for ports.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "clipcaer/kernels/impl/gemm_f32_tile.hpp"
#include "clipcaer/kernels/impl/gemm_lowp.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/impl/pack_panels.hpp"
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
  // Emulated: GemmLowp widens each panel (panel_floats) before its tiles run.
  static constexpr bool kWidensPanel = !Native;
  static std::size_t panel_floats(std::size_t K) { return Native ? 0 : 2 * groups(K) * NR; }

  static std::size_t groups(std::size_t K) { return lowp_round_up((K + 1) / 2, GroupAlign); }
  static std::size_t panel_bytes(std::size_t K) { return groups(K) * NR * 4; }
  // Native: bf16 pairs; emulated: bf16-rounded floats.
  static std::size_t a_row_bytes(std::size_t K) { return lowp_round_up(groups(K) * (Native ? 4 : 8), 64); }

  static void pack(const float* w, std::size_t n, std::size_t k, PackedMatrix& out) {
    const std::size_t panels = (n + NR - 1) / NR, g = groups(k);
    prepare_packed(out, n, k, WeightType::bf16, true, panels * panel_bytes(k));
    // A unit: k pair (2u, 2u + 1) rounded, the even k in the low half; zero past k.
    PackPanels<W>::converted(n, g, NR, out.data.data(), [&](std::size_t row, std::uint32_t* units) {
      const float* src = w + row * k;
      alignas(64) std::uint32_t h[W];
      std::size_t kk = 0;
      for (; kk + W <= k; kk += W) {  // W is even: whole pairs
        round_bits(U::load_unaligned(reinterpret_cast<const std::uint32_t*>(src + kk))).store_aligned(h);
        for (std::size_t j = 0; j < W; j += 2) units[(kk + j) / 2] = (h[j] >> 16) | h[j + 1];
      }
      auto half = [&](std::size_t i) -> std::uint32_t {
        if (i >= k) return 0;
        std::uint32_t b;
        std::memcpy(&b, src + i, 4);
        return bf16_round_bits(b) >> 16;
      };
      for (std::size_t u = kk / 2; u < g; ++u) units[u] = half(2 * u) | (half(2 * u + 1) << 16);
    });
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
        // Pairs swapped (odd k first), as the widened panel.
        auto* d = reinterpret_cast<std::uint32_t*>(dst);
        using U64 = xsimd::batch<std::uint64_t, Arch>;
        for (; k + W <= K; k += W) {
          const U64 x = xsimd::bitwise_cast<U64>(
              round_bits(U::load_unaligned(reinterpret_cast<const std::uint32_t*>(src + k))));
          ((x << 32) | (x >> 32)).store_unaligned(reinterpret_cast<std::uint64_t*>(d + k));
        }
        for (; k < 2 * groups(K); ++k) {
          std::uint32_t bits = 0;
          if (k < K) std::memcpy(&bits, src + k, 4);
          d[k ^ 1] = k < K ? bf16_round_bits(bits) : 0;
        }
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
      // blk.w is the widened panel (widen_panel), blk.a the swapped rows.
      GemmF32Block fb;
      fb.a = reinterpret_cast<const float*>(blk.a);
      fb.lda = blk.lda / 4;
      fb.w = reinterpret_cast<const float*>(blk.w);
      fb.kc = 2 * blk.groups;
      fb.part_in = nullptr;
      fb.part_out = nullptr;
      fb.ldp = NR;
      fb.prefetch = blk.prefetch;
      fb.prefetch_lines = blk.prefetch_lines;
      fb.prefetch_per_step = blk.prefetch_per_step;
      F::template accumulate<R>(fb, dst, NR);
    }
  }

  // The emulation's panel: [g][NR] bf16 pairs -> 2 x groups f32 rows of NR,
  // odd k then even k of each pair. Returns out.
  static const unsigned char* widen_panel(const unsigned char* panel, std::size_t groups, float* out) {
    const auto* w = reinterpret_cast<const std::uint32_t*>(panel);
    for (std::size_t g = 0; g < groups; ++g, w += NR, out += 2 * NR)
      for (std::size_t v = 0; v < NV; ++v) {
        const U x = U::load_aligned(w + v * W);
        xsimd::bitwise_cast<B>(x & U(0xffff0000u)).store_aligned(out + v * W);
        xsimd::bitwise_cast<B>(x << 16).store_aligned(out + NR + v * W);
      }
    return reinterpret_cast<const unsigned char*>(out - 2 * groups * NR);
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
