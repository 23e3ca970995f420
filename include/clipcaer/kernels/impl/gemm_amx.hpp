// bf16 and int8 GEMM on AMX tiles (Sapphire Rapids and later).
//
// Same packed panels and prepared A rows as the AVX-512 dot-product tiles
// (gemm_bf16_tile.hpp, gemm_i8_tile.hpp: the pair / quad interleave is AMX's B
// layout), with K padded to whole tiles (32 k for bf16, 64 for int8). Each
// step multiplies a 32 x 32 block of C in four 16 x 16 accumulator tiles:
// tmm0..3 accumulators, tmm4/5 two 16-row A tiles, tmm6/7 two 16-column B
// tiles (a last group of <= 16 rows uses one A tile and two accumulators).
// A row block is padded to whole 16-row tiles; padding rows are computed and
// dropped. Accumulators go through memory to the usual f32
// epilogue (int8: the same dequantisation as the VNNI tile, so int8 results
// are the same bits on every table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "clipcaer/kernels/impl/gemm_bf16_tile.hpp"
#include "clipcaer/kernels/impl/gemm_f32_tile.hpp"
#include "clipcaer/kernels/impl/gemm_i8_tile.hpp"
#include "clipcaer/kernels/impl/gemm_lowp.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/impl/support.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

#if defined(__AMX_TILE__) && defined(__AMX_BF16__) && defined(__AMX_INT8__)
#include <immintrin.h>
#define CLIPCAER_HAVE_AMX 1

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

// Palette 1, all eight tiles 16 rows x 64 bytes.
struct alignas(64) AmxTileConfig {
  std::uint8_t palette = 1, start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  std::uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

// Int8: A as u8 (q + 128), int32 sums; else bf16 pairs, f32 sums.
template <class Arch, bool Int8>
struct GemmAmx {
  using Tile = std::conditional_t<Int8, GemmI8Tile<Arch, true, 16>, GemmBf16Tile<Arch, true, 16>>;
  using F = GemmF32Tile<Arch>;
  static constexpr std::size_t NR = Tile::NR;  // 64: two 32-column halves
  static constexpr std::size_t MR = 32;        // rows per AMX step (two A tiles)
  static constexpr std::size_t MB = 96;        // rows per cache block
  static_assert(NR == 64 && F::W == 16, "AMX tiles pair with the AVX-512 panel layout");

  static void pack(const float* w, std::size_t n, std::size_t k, PackedMatrix& out) { Tile::pack(w, n, k, out); }

  static void gemm(const GemmArgs& g, std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1) {
    if (m0 >= m1 || n0 >= n1) return;
    const PackedMatrix& b = *g.b;
    const std::size_t K = b.k, steps = Tile::groups(K) / 16;
    const std::size_t panel_bytes = Tile::panel_bytes(K);
    const std::size_t rows = m1 - m0;
    const std::size_t m_blocks = (rows + MB - 1) / MB;
    const std::size_t mb_step = lowp_round_up((rows + m_blocks - 1) / m_blocks, 16);
    const std::size_t row_bytes = Tile::a_row_bytes(K);
    // Prepared rows, one float scale per row, then C for the row block (int32 or float).
    auto* abuf = reinterpret_cast<unsigned char*>(
        thread_scratch(mb_step * row_bytes / 4 + mb_step + lowp_round_up(mb_step, MR) * NR));
    float* a_scale = reinterpret_cast<float*>(abuf + mb_step * row_bytes);
    auto* cbuf = reinterpret_cast<unsigned char*>(a_scale + mb_step);  // 64-byte aligned: mb_step % 16 == 0
    const unsigned char* packed = b.data.data();
    const std::size_t panels = (b.n + NR - 1) / NR;
    const auto* sums = Int8 ? reinterpret_cast<const std::int32_t*>(packed + panels * panel_bytes) : nullptr;
    const auto* scales = Int8 ? reinterpret_cast<const float*>(sums + panels * NR) : nullptr;

    static const AmxTileConfig config;
    _tile_loadconfig(&config);
    for (std::size_t mb = m0; mb < m1; mb += mb_step) {
      const std::size_t mrows = mb_step < m1 - mb ? mb_step : m1 - mb;
      const std::size_t padded = lowp_round_up(mrows, 16);
      Tile::prepare_rows(g.a + mb * g.lda, g.lda, mrows, K, abuf, row_bytes, a_scale);
      if (padded > mrows) std::memset(abuf + mrows * row_bytes, 0, (padded - mrows) * row_bytes);  // dropped rows
      for (std::size_t j = n0; j < n1; j += NR) {
        const std::size_t p = j / NR;
        const unsigned char* w = packed + p * panel_bytes;
        const std::size_t ncols = NR < n1 - j ? NR : n1 - j;
        // One half panel (K x 32, ~48 KB at K = 768) against every row group of the block, then the next half.
        for (std::size_t h = 0; h * 32 < ncols; ++h)
          for (std::size_t r0 = 0; r0 < mrows; r0 += MR) {
            const unsigned char* a = abuf + r0 * row_bytes;
            unsigned char* c = cbuf + (r0 * NR + h * 32) * 4;
            if (mrows - r0 > 16)
              multiply<2>(a, row_bytes, w + h * 32 * 4, steps, c);
            else
              multiply<1>(a, row_bytes, w + h * 32 * 4, steps, c);
          }
        for (std::size_t r0 = 0; r0 < mrows; r0 += MR) {
          const std::size_t valid = mrows - r0 < MR ? mrows - r0 : MR;
          finish(g, cbuf + r0 * NR * 4, valid, mb + r0, j, ncols, Int8 ? sums + p * NR : nullptr,
                 Int8 ? scales + p * NR : nullptr, a_scale + r0);
        }
      }
    }
    _tile_release();
  }

 private:
  // C (16 x RT rows x 32 columns, row stride NR x 4 bytes) = A rows (16 RT x K) x panel half (K x 32).
  template <int RT>
  static void multiply(const unsigned char* a, std::size_t lda, const unsigned char* w, std::size_t steps,
                       unsigned char* c) {
    constexpr std::size_t ldw = NR * 4, ldc = NR * 4;
    _tile_zero(0);
    _tile_zero(1);
    if constexpr (RT == 2) {
      _tile_zero(2);
      _tile_zero(3);
    }
    for (std::size_t s = 0; s < steps; ++s) {
      const unsigned char* as = a + s * 64;
      const unsigned char* ws = w + s * 16 * ldw;
      _tile_loadd(4, as, lda);
      _tile_loadd(6, ws, ldw);
      _tile_loadd(7, ws + 64, ldw);
      if constexpr (RT == 2) _tile_loadd(5, as + 16 * lda, lda);
      if constexpr (Int8) {
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        if constexpr (RT == 2) {
          _tile_dpbusd(2, 5, 6);
          _tile_dpbusd(3, 5, 7);
        }
      } else {
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        if constexpr (RT == 2) {
          _tile_dpbf16ps(2, 5, 6);
          _tile_dpbf16ps(3, 5, 7);
        }
      }
    }
    _tile_stored(0, c, ldc);
    _tile_stored(1, c + 64, ldc);
    if constexpr (RT == 2) {
      _tile_stored(2, c + 16 * ldc, ldc);
      _tile_stored(3, c + 16 * ldc + 64, ldc);
    }
  }

  // Dequantises (int8) in place, then runs the epilogue on the valid rows, 6 at a time.
  static void finish(const GemmArgs& g, unsigned char* c, std::size_t valid, std::size_t i0, std::size_t j0,
                     std::size_t ncols, const std::int32_t* w_sum, const float* w_scale, const float* a_scale) {
    auto* acc = reinterpret_cast<float*>(c);
    if constexpr (Int8)
      for (std::size_t r = 0; r < valid; ++r)
        Tile::dequantize_row(reinterpret_cast<const std::int32_t*>(c) + r * NR, w_sum, w_scale, a_scale[r], ncols,
                             acc + r * NR);
    for (std::size_t r = 0; r < valid; r += F::MR) {
      const std::size_t rows = valid - r < F::MR ? valid - r : F::MR;
      F::finish_rows(rows, g, acc + r * NR, i0 + r, j0, ncols);
    }
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels

#endif
