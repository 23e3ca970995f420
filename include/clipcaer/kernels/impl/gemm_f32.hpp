// f32 GEMM with weights packed at load: C = act(A W^T + bias) + residual.
//
// Packed layout: panels of NR output columns; panel p holds W[p*NR + j][k] at
// [p][k][j], zero-padded past n, so any K range of a panel is one contiguous
// slice. Loop nest of one call (rows [m0, m1) x columns [n0, n1)):
//   row block (<= MB rows: A block of MB x KC in L2)
//     column chunk (all columns, or NB while K is blocked: bounds the partials)
//       K block (all of K up to KC_MAX, else ~KC)
//         panel (W slice KC x NR, from L2; the next slice is prefetched into
//                L2 a little per tile, hiding L3 latency)
//           register tiles of <= MR rows (gemm_f32_tile.hpp)
// Partial sums between K blocks go to the thread's scratch buffer, never to C,
// so the residual may alias C. The per-element K order never changes.
#pragma once

#include <algorithm>
#include <cstddef>

#include "clipcaer/kernels/impl/gemm_f32_tile.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/impl/pack_panels.hpp"
#include "clipcaer/kernels/impl/support.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

template <class Arch>
struct GemmF32 {
  using T = GemmF32Tile<Arch>;
  static constexpr std::size_t MR = T::MR;
  static constexpr std::size_t NR = T::NR;
  static constexpr std::size_t MB = 96;        // rows per cache block (A block MB x KC ~ 300 KB)
  static constexpr std::size_t KC = 768;       // K block when K is split
  static constexpr std::size_t KC_MAX = 1024;  // K up to this runs as one block
  static constexpr std::size_t NB = 768;       // column chunk while K is split

  static void pack(const float* w, std::size_t n, std::size_t k, WeightType type, PackedMatrix& out) {
    const std::size_t panels = (n + NR - 1) / NR;
    prepare_packed(out, n, k, type, type == WeightType::f32, panels * k * NR * sizeof(float));
    PackPanels<T::W>::floats(w, n, k, NR, out.data.data());
  }

  static void gemm(const GemmArgs& g, std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1) {
    if (m0 >= m1 || n0 >= n1) return;
    const std::size_t K = g.b->k;
    const float* packed = reinterpret_cast<const float*>(g.b->data.data());
    // K blocks of equal size (a multiple of the unroll), columns chunked while K is split.
    const std::size_t k_blocks = K <= KC_MAX ? 1 : (K + KC - 1) / KC;
    const std::size_t kc_step = k_blocks == 1 ? K : round_up((K + k_blocks - 1) / k_blocks, T::KU);
    const std::size_t nb_step = k_blocks == 1 ? n1 - n0 : NB;
    // Row blocks of equal size, a multiple of MR where possible.
    const std::size_t rows = m1 - m0;
    const std::size_t m_blocks = (rows + MB - 1) / MB;
    const std::size_t mb_step = round_up((rows + m_blocks - 1) / m_blocks, MR);
    const std::size_t ldp = round_up(std::min(nb_step, n1 - n0), NR);
    float* part = k_blocks == 1 ? nullptr : thread_scratch(mb_step * ldp);

    for (std::size_t mb = m0; mb < m1; mb += mb_step) {
      const std::size_t mrows = std::min(mb_step, m1 - mb);
      const std::size_t tiles = (mrows + MR - 1) / MR;
      for (std::size_t nb = n0; nb < n1; nb += nb_step) {
        const std::size_t ne = std::min(n1, nb + nb_step);
        std::size_t kb = 0;
        do {  // at least once: K == 0 still writes act(bias) + residual
          const std::size_t kc = std::min(kc_step, K - kb);
          const bool first = kb == 0, last = kb + kc >= K;
          const std::size_t slice_lines = kc * NR * sizeof(float) / 64;
          const std::size_t per_tile = (slice_lines + tiles - 1) / tiles;
          const std::size_t slots = std::max<std::size_t>(1, kc / T::KU);
          const std::size_t per_step = (per_tile + slots - 1) / slots;
          for (std::size_t j = nb; j < ne; j += NR) {
            const float* w = packed + (j / NR) * K * NR + kb * NR;
            // Next slice in loop order: the next panel, else the first panel of the next K block.
            const float* next = j + NR < ne ? w + K * NR : (!last ? packed + (nb / NR) * K * NR + (kb + kc) * NR : nullptr);
            const std::size_t ncols = std::min(NR, n1 - j);
            float* p = part ? part + (j - nb) : nullptr;
            std::size_t i = mb;
            for (std::size_t t = 0; t < tiles; ++t) {
              // Balanced tile heights: 17 rows run as 6 + 6 + 5, never with a 1-row tile.
              const std::size_t r = mrows / tiles + (t < mrows % tiles ? 1 : 0);
              const std::size_t first_line = t * per_tile;
              GemmF32Block blk;
              blk.a = g.a + i * g.lda + kb;
              blk.lda = g.lda;
              blk.w = w;
              blk.kc = kc;
              blk.ldp = ldp;
              blk.part_in = first ? nullptr : p + (i - mb) * ldp;
              blk.part_out = last ? nullptr : p + (i - mb) * ldp;
              const bool pf = next && first_line < slice_lines;
              blk.prefetch = pf ? reinterpret_cast<const char*>(next) + 64 * first_line : nullptr;
              blk.prefetch_lines = pf ? std::min(per_tile, slice_lines - first_line) : 0;
              blk.prefetch_per_step = per_step;
              T::run_rows(r, g, blk, i, j, ncols);
              i += r;
            }
          }
          kb += kc;
        } while (kb < K);
      }
    }
  }

 private:
  static constexpr std::size_t round_up(std::size_t x, std::size_t m) { return (x + m - 1) / m * m; }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
