// GEMM with reduced-precision weights (bf16, int8), packed at load:
// C = act(A W^T + bias) + residual, A and C float.
//
// The loop nest is the f32 one (gemm_f32.hpp) without K blocking: a panel of
// W is half (bf16) or a quarter (int8) of its f32 size, so a whole-K panel
// (<= 3072 x 64) and a row block of prepared A stay in L2 together. Per row
// block, A is first converted into the tile's operand format (bf16 values, or
// int8 with one scale per row); each row is converted on its own, so results
// stay bitwise independent of how rows, columns and threads are split.
// Tiles (gemm_bf16_tile.hpp, gemm_i8_tile.hpp) accumulate in registers and
// hand float sums to the f32 epilogue (bias, activation, residual).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "clipcaer/kernels/impl/gemm_f32_tile.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/impl/support.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

// One tile call over all of K: prepared rows a[r * lda] (bytes), packed panel w.
struct GemmLowpBlock {
  const unsigned char* a;
  std::size_t lda;          // bytes between prepared rows
  const float* a_scale;     // int8: scale of each of the tile's rows
  const unsigned char* w;   // the panel: groups x NR x (k values per group)
  std::size_t groups;       // K groups (pairs for bf16, quads for int8)
  const std::int32_t* w_sum;  // int8: column sums of the panel (NR)
  const float* w_scale;       // int8: column scales of the panel (NR)
  const char* prefetch;       // next panel's lines for this tile to pull into L2,
  std::size_t prefetch_lines;     // this many in all,
  std::size_t prefetch_per_step;  // this many every KU groups
};

constexpr std::size_t lowp_round_up(std::size_t x, std::size_t m) { return (x + m - 1) / m * m; }

// Every KU groups: this tile's share of the next panel, pulled toward L2.
template <std::size_t KU>
inline void lowp_prefetch(const GemmLowpBlock& blk, std::size_t g, std::size_t& line) {
  if (g % KU == 0)
    for (std::size_t p = 0; p < blk.prefetch_per_step && line < blk.prefetch_lines; ++p)
      prefetch_l2(blk.prefetch + 64 * line++);
}

#if defined(__AVX2__)
// Panel vectors of the dot-product tiles by width in bytes: zmm (AVX-512)
// or ymm (AVX-VNNI). (Keyed by width: vector types lose their attributes as
// template arguments.)
template <std::size_t Bytes>
struct LowpDotVec;
#if defined(__AVX512F__)
template <>
struct LowpDotVec<64> {
  using V = __m512i;
  static __m512i load(const unsigned char* p) { return _mm512_load_si512(p); }
  static __m512i set1(std::int32_t x) { return _mm512_set1_epi32(x); }
  static __m512i zero() { return _mm512_setzero_si512(); }
  static void store(std::int32_t* p, __m512i x) { _mm512_store_si512(p, x); }
};
#endif
template <>
struct LowpDotVec<32> {
  using V = __m256i;
  static __m256i load(const unsigned char* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
  static __m256i set1(std::int32_t x) { return _mm256_set1_epi32(x); }
  static __m256i zero() { return _mm256_setzero_si256(); }
  static void store(std::int32_t* p, __m256i x) { _mm256_store_si256(reinterpret_cast<__m256i*>(p), x); }
};

// The register tile of the dot-product instructions (vdpbf16ps, vpdpbusd on
// zmm or ymm, VecBytes wide): per group, NV panel vectors and, per row, 32 bits of A
// (a bf16 pair or an int8 quad) broadcast; acc[r][v] = dot(acc[r][v], a_r, w_v).
template <std::size_t R, std::size_t NV, std::size_t NR, std::size_t KU, std::size_t VecBytes, class Acc, class Dot>
inline void lowp_dot_tile(const GemmLowpBlock& blk, Acc (&acc)[R][NV], Dot dot) {
  using V = LowpDotVec<VecBytes>;
  using Vec = typename V::V;
  const unsigned char* w = blk.w;
  std::size_t line = 0;
  for (std::size_t g = 0; g < blk.groups; ++g, w += NR * 4) {
    lowp_prefetch<KU>(blk, g, line);
    Vec wv[NV];
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NV; ++v) wv[v] = V::load(w + v * VecBytes);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) {
      std::int32_t bits;
      std::memcpy(&bits, blk.a + r * blk.lda + 4 * g, 4);
      const Vec ab = V::set1(bits);
#pragma GCC unroll 8
      for (std::size_t v = 0; v < NV; ++v) acc[r][v] = dot(acc[r][v], ab, wv[v]);
    }
  }
}

// The same tile with int32 sums (vpdpbusd), from zero, stored to sums.
template <std::size_t R, std::size_t NV, std::size_t NR, std::size_t KU, std::size_t VecBytes, class Dot>
inline void lowp_dot_int_sums(const GemmLowpBlock& blk, std::int32_t (&sums)[R][NR], Dot dot) {
  using V = LowpDotVec<VecBytes>;
  constexpr std::size_t lanes = VecBytes / 4;
  typename V::V acc[R][NV];
#pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NV; ++v) acc[r][v] = V::zero();
  lowp_dot_tile<R, NV, NR, KU, VecBytes>(blk, acc, dot);
#pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NV; ++v) V::store(&sums[r][v * lanes], acc[r][v]);
}
#endif

// Shared by the tiles: the f32 epilogue after `Tile::accumulate` has made float sums.
template <class Arch, class Tile>
struct GemmLowpRun {
  using F = GemmF32Tile<Arch>;
  static constexpr std::size_t NR = F::NR;

  template <std::size_t R>
  static void run(const GemmArgs& g, const GemmLowpBlock& blk, std::size_t i0, std::size_t j0, std::size_t ncols) {
    alignas(64) float acc[R * NR];
    // The epilogue's lines of C toward L2 while the tile runs: an int8 tile's
    // loop is short (K / 4 steps) and waiting for them at its end cost ~10 %
    // of in_proj / out_proj (Zen 4).
    F::template prefetch_output<R>(g, i0, j0, ncols);
    Tile::template accumulate<R>(blk, acc);
    F::template finish<R>(g, acc, i0, j0, ncols);
  }

  template <std::size_t R = Tile::MR>
  static void run_rows(std::size_t rows, const GemmArgs& g, const GemmLowpBlock& blk, std::size_t i0, std::size_t j0,
                       std::size_t ncols) {
    if constexpr (R > 0) {
      if (rows == R) return run<R>(g, blk, i0, j0, ncols);
      run_rows<R - 1>(rows, g, blk, i0, j0, ncols);
    }
  }
};

template <class Arch, class Tile>
struct GemmLowp {
  static constexpr std::size_t MR = Tile::MR;
  static constexpr std::size_t NR = Tile::NR;
  static constexpr std::size_t MB = 96;  // rows per cache block

  static void pack(const float* w, std::size_t n, std::size_t k, PackedMatrix& out) { Tile::pack(w, n, k, out); }

  static void gemm(const GemmArgs& g, std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1) {
    if (m0 >= m1 || n0 >= n1) return;
    const PackedMatrix& b = *g.b;
    const std::size_t K = b.k, groups = Tile::groups(K);
    const std::size_t panel_bytes = Tile::panel_bytes(K);
    const std::size_t rows = m1 - m0;
    const std::size_t m_blocks = (rows + MB - 1) / MB;
    const std::size_t mb_step = lowp_round_up((rows + m_blocks - 1) / m_blocks, MR);
    const std::size_t row_bytes = Tile::a_row_bytes(K);
    // Prepared rows, one float scale per row, then (tiles that widen their
    // panel) the widened panel, 64-byte aligned.
    const std::size_t wide_floats = [&] {
      if constexpr (Tile::kWidensPanel)
        return Tile::panel_floats(K);
      else
        return std::size_t{0};
    }();
    const std::size_t head_floats = mb_step * row_bytes / 4 + lowp_round_up(mb_step, 16);
    auto* abuf = reinterpret_cast<unsigned char*>(thread_scratch(head_floats + wide_floats));
    float* a_scale = reinterpret_cast<float*>(abuf + mb_step * row_bytes);
    float* wide = reinterpret_cast<float*>(abuf) + head_floats;
    const unsigned char* packed = b.data.data();
    const std::size_t panels = (b.n + NR - 1) / NR;
    // int8 panels are followed by the column sums and scales.
    const auto* sums = Tile::kScaled ? reinterpret_cast<const std::int32_t*>(packed + panels * panel_bytes) : nullptr;
    const auto* scales = Tile::kScaled ? reinterpret_cast<const float*>(sums + panels * NR) : nullptr;
    const std::size_t slice_lines = panel_bytes / 64;
    const std::size_t slots = groups / Tile::KU > 0 ? groups / Tile::KU : 1;

    for (std::size_t mb = m0; mb < m1; mb += mb_step) {
      const std::size_t mrows = mb_step < m1 - mb ? mb_step : m1 - mb;
      const std::size_t tiles = (mrows + MR - 1) / MR;
      Tile::prepare_rows(g.a + mb * g.lda, g.lda, mrows, K, abuf, row_bytes, a_scale);
      const std::size_t per_tile = (slice_lines + tiles - 1) / tiles;
      const std::size_t per_step = (per_tile + slots - 1) / slots;
      for (std::size_t j = n0; j < n1; j += NR) {
        const std::size_t p = j / NR;
        const unsigned char* w = packed + p * panel_bytes;
        const unsigned char* next = j + NR < n1 ? w + panel_bytes : nullptr;
        const unsigned char* tile_w = w;
        if constexpr (Tile::kWidensPanel) tile_w = Tile::widen_panel(w, groups, wide);
        const std::size_t ncols = NR < n1 - j ? NR : n1 - j;
        std::size_t i = mb;
        for (std::size_t t = 0; t < tiles; ++t) {
          const std::size_t r = mrows / tiles + (t < mrows % tiles ? 1 : 0);  // balanced heights
          const std::size_t first_line = t * per_tile;
          GemmLowpBlock blk;
          blk.a = abuf + (i - mb) * row_bytes;
          blk.lda = row_bytes;
          blk.a_scale = a_scale + (i - mb);
          blk.w = tile_w;
          blk.groups = groups;
          blk.w_sum = sums ? sums + p * NR : nullptr;
          blk.w_scale = scales ? scales + p * NR : nullptr;
          const bool pf = next && first_line < slice_lines;
          blk.prefetch = pf ? reinterpret_cast<const char*>(next) + 64 * first_line : nullptr;
          blk.prefetch_lines = pf ? (per_tile < slice_lines - first_line ? per_tile : slice_lines - first_line) : 0;
          blk.prefetch_per_step = per_step;
          GemmLowpRun<Arch, Tile>::run_rows(r, g, blk, i, j, ncols);
          i += r;
        }
      }
    }
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
