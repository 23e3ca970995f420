// f32 GEMM register tile: R (<= MR) rows x NR = NV vectors of columns.
// Accumulators stay in registers over one K block; A is broadcast straight
// from its rows (no packing: measured no faster here), W comes from a packed
// panel slice laid out [k][NR]. Every output element sees the same operation
// sequence whatever R, the tile position or the K block size (partial sums
// round-trip through memory exactly), so results never depend on how rows,
// columns or K are split.
#pragma once

#include <cstddef>
#include <cstring>

#include "clipcaer/kernels/impl/elementwise.hpp"
#include "clipcaer/kernels/impl/gemm_f32_tile_asm.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

#ifndef CLIPCAER_NOINLINE
#if defined(__GNUC__)
#define CLIPCAER_NOINLINE __attribute__((noinline))
#else
#define CLIPCAER_NOINLINE
#endif
#endif

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

// Tile shape per vector width. AVX-512 (32 zmm): 6 x 64 = 24 accumulators,
// 4 W loads and 6 broadcasts per k. AVX2 (16 ymm): 6 x 16 = 12 accumulators.
// 128-bit (16 xmm, mul + add without FMA on SSE2): 4 x 8.
template <std::size_t W>
struct GemmF32TileShape {
  static constexpr std::size_t mr = 6, nv = 2;
};
template <>
struct GemmF32TileShape<16> {
  static constexpr std::size_t mr = 6, nv = 4;
};
template <>
struct GemmF32TileShape<4> {
  static constexpr std::size_t mr = 4, nv = 2;
};

inline void prefetch_l2(const void* p) {
#if defined(__GNUC__)
  __builtin_prefetch(p, 0, 2);
#else
  (void)p;
#endif
}
// A line about to be written, fetched for ownership (PREFETCHW): after a read
// prefetch (all __builtin_prefetch emits without -mprfchw) the stores still
// waited for the line, 6-17 % of an int8 GEMM with K = 768 run alone on Zen 4
// (docs/performance.md, "The dot-product tiles on Zen 4"). The encoding
// (0F 0D /1) runs as a no-op on the Intel CPUs before Broadwell that lack it,
// so every x86 table uses it.
inline void prefetch_l2_write(void* p) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__GNUC__)
  __builtin_prefetch(p, 1, 2);
#else
  (void)p;
#endif
}

// One micro-kernel call: rows a[r * lda + k] for k in [0, kc), W slice w[k * NR + c].
struct GemmF32Block {
  const float* a;
  std::size_t lda;
  const float* w;
  std::size_t kc;
  const float* part_in;  // null: start from zero; else R x NR partial sums, leading dim ldp
  float* part_out;       // null: last K block, run the epilogue into C; else store partial sums
  std::size_t ldp;
  const char* prefetch;  // next W slice lines for this tile to pull into L2,
  std::size_t prefetch_lines;     // this many in all,
  std::size_t prefetch_per_step;  // this many every KU k-steps (more when a block has few tiles)
};

template <class Arch>
struct GemmF32Tile {
  using B = xsimd::batch<float, Arch>;
  using E = Elementwise<Arch>;
  static constexpr std::size_t W = B::size;
  static constexpr std::size_t MR = GemmF32TileShape<W>::mr;
  static constexpr std::size_t NV = GemmF32TileShape<W>::nv;
  static constexpr std::size_t NR = NV * W;
  static constexpr std::size_t KU = 4;  // k unroll; one prefetch per KU steps

  // acc + a * b, rounded once. xsimd 8 has no AVX-512 fma kernel: its
  // generic a * b + c is fused only where the compiler contracts it (not
  // under the sanitizers), and the asm tile always fuses.
  static B fused(B a, B b, B acc) {
#if defined(__AVX512F__)
    if constexpr (W == 16) return B(_mm512_fmadd_ps(a, b, acc));
#endif
    return xsimd::fma(a, b, acc);
  }

  template <std::size_t R>
  static inline void step(B (&acc)[R][NV], const float* a, std::size_t lda, const float* w) {
    B b[NV];
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NV; ++v) b[v] = B::load_aligned(w + v * W);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r) {
      const B av(a[r * lda]);
#pragma GCC unroll 8
      for (std::size_t v = 0; v < NV; ++v) acc[r][v] = fused(av, b[v], acc[r][v]);
    }
  }

  // acc = part_in (or 0) + A W over one K block, stored to dst (leading dim ldd).
  // Kept out of line with a local accumulator array so that every
  // accumulator lives in a register (an escaping array would be spilled).
  template <std::size_t R>
  CLIPCAER_NOINLINE static void accumulate(const GemmF32Block& blk, float* dst, std::size_t ldd) {
#if defined(CLIPCAER_GEMM_F32_ASM_6X64)
    if constexpr (R == 6 && W == 16 && NV == 4 && KU == 4) {  // the full AVX-512 tile: hand-scheduled
      alignas(64) static const float zeros[6 * 64] = {};
      gemm_f32_6x64_asm(blk.a, blk.lda, blk.w, blk.kc, blk.part_in ? blk.part_in : zeros,
                        blk.part_in ? blk.ldp : 64, dst, ldd, blk.prefetch,
                        blk.prefetch ? blk.prefetch + 64 * blk.prefetch_lines : nullptr, blk.prefetch_per_step);
      return;
    }
#endif
    B acc[R][NV];
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (std::size_t v = 0; v < NV; ++v)
        acc[r][v] = blk.part_in ? B::load_aligned(blk.part_in + r * blk.ldp + v * W) : B(0.0f);
    const float* a = blk.a;
    const float* w = blk.w;
    std::size_t k = 0, line = 0;
    for (; k + KU <= blk.kc; k += KU, a += KU, w += KU * NR) {
      for (std::size_t p = 0; p < blk.prefetch_per_step && line < blk.prefetch_lines; ++p)
        prefetch_l2(blk.prefetch + 64 * line++);
#pragma GCC unroll 4
      for (std::size_t u = 0; u < KU; ++u) step<R>(acc, a + u, blk.lda, w + u * NR);
    }
    for (; k < blk.kc; ++k, ++a, w += NR) step<R>(acc, a, blk.lda, w);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (std::size_t v = 0; v < NV; ++v) acc[r][v].store_aligned(dst + r * ldd + v * W);
  }

  // Loads / stores `count` (< W) floats through a stack buffer, lanes past count zero.
  static B load_part(const float* p, std::size_t count) {
    alignas(64) float t[W] = {};
    std::memcpy(t, p, count * sizeof(float));
    return B::load_aligned(t);
  }
  static void store_part(float* p, B x, std::size_t count) {
    alignas(64) float t[W];
    x.store_aligned(t);
    std::memcpy(p, t, count * sizeof(float));
  }

  // C = act(acc + bias) + residual for the first ncols (<= NR) columns.
  template <std::size_t R, Activation Act>
  static void epilogue(const GemmArgs& g, const float* acc, std::size_t i0, std::size_t j0, std::size_t ncols) {
    if (ncols == NR) {
      B bias[NV];
#pragma GCC unroll 8
      for (std::size_t v = 0; v < NV; ++v) bias[v] = g.bias ? B::load_unaligned(g.bias + j0 + v * W) : B(0.0f);
#pragma GCC unroll 8
      for (std::size_t r = 0; r < R; ++r) {
        float* c = g.c + (i0 + r) * g.ldc + j0;
        const float* res = g.residual ? g.residual + (i0 + r) * g.ldr + j0 : nullptr;
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) {
          const B s = B::load_aligned(acc + r * NR + v * W);
          B x = g.bias ? s + bias[v] : s;
          x = E::apply(x, Act);
          if (res) x += B::load_unaligned(res + v * W);
          x.store_unaligned(c + v * W);
        }
      }
      return;
    }
    // Column tail: the same vector arithmetic, partial loads and stores.
    for (std::size_t v = 0; v * W < ncols; ++v) {
      const std::size_t cnt = ncols - v * W < W ? ncols - v * W : W;
      const B bias = g.bias ? load_part(g.bias + j0 + v * W, cnt) : B(0.0f);
      for (std::size_t r = 0; r < R; ++r) {
        const B s = B::load_aligned(acc + r * NR + v * W);
        B x = g.bias ? s + bias : s;
        x = E::apply(x, Act);
        if (g.residual) x += load_part(g.residual + (i0 + r) * g.ldr + j0 + v * W, cnt);
        store_part(g.c + (i0 + r) * g.ldc + j0 + v * W, x, cnt);
      }
    }
  }

  // The epilogue with g.act for R rows of sums (row stride NR); every GEMM
  // (f32, bf16, int8, AMX) ends here.
  template <std::size_t R>
  static void finish(const GemmArgs& g, const float* acc, std::size_t i0, std::size_t j0, std::size_t ncols) {
    switch (g.act) {
      case Activation::quick_gelu: return epilogue<R, Activation::quick_gelu>(g, acc, i0, j0, ncols);
      case Activation::gelu_tanh: return epilogue<R, Activation::gelu_tanh>(g, acc, i0, j0, ncols);
      case Activation::none: break;
    }
    epilogue<R, Activation::none>(g, acc, i0, j0, ncols);
  }

  // finish() for a run-time row count (<= MR).
  template <std::size_t R = MR>
  static void finish_rows(std::size_t rows, const GemmArgs& g, const float* acc, std::size_t i0, std::size_t j0,
                          std::size_t ncols) {
    if constexpr (R > 0) {
      if (rows == R) return finish<R>(g, acc, i0, j0, ncols);
      finish_rows<R - 1>(rows, g, acc, i0, j0, ncols);
    }
  }

  // The epilogue's lines of C (and of the residual, when it is not C) toward
  // L2 before a tile's last K block, so they do not arrive from L3 or memory
  // at its end (gemm_lowp.hpp, where the short int8 loop gains most).
  template <std::size_t R>
  static void prefetch_output(const GemmArgs& g, std::size_t i0, std::size_t j0, std::size_t ncols) {
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t c = 0; c < ncols; c += 64 / sizeof(float)) {
        prefetch_l2_write(g.c + (i0 + r) * g.ldc + j0 + c);
        if (g.residual && g.residual != g.c) prefetch_l2(g.residual + (i0 + r) * g.ldr + j0 + c);
      }
  }

  // Rows [i0, i0 + R) x columns [j0, j0 + ncols) of C, one K block.
  template <std::size_t R>
  static void run(const GemmArgs& g, const GemmF32Block& blk, std::size_t i0, std::size_t j0, std::size_t ncols) {
    if (blk.part_out) return accumulate<R>(blk, blk.part_out, blk.ldp);
    prefetch_output<R>(g, i0, j0, ncols);
    alignas(64) float acc[R * NR];
    accumulate<R>(blk, acc, NR);
    finish<R>(g, acc, i0, j0, ncols);
  }

  template <std::size_t R = MR>
  static void run_rows(std::size_t rows, const GemmArgs& g, const GemmF32Block& blk, std::size_t i0, std::size_t j0,
                       std::size_t ncols) {
    if constexpr (R > 0) {
      if (rows == R) return run<R>(g, blk, i0, j0, ncols);
      run_rows<R - 1>(rows, g, blk, i0, j0, ncols);
    }
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
