// One attention head over one sequence, a block of R query rows at a time:
//   scores = scale Q K^T   register tile; K transposed, Q and V copied once per head
//   P = exp(scores - max)  vectorised, masked keys (causal, padding) at -inf
//   out = (P V) / sum(P)   register tile over V rows, normalised once per row
// Only R score rows are ever materialised. Causal blocks stop at their last key.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <type_traits>

#include "clipcaer/kernels/impl/elementwise.hpp"
#include "clipcaer/kernels/impl/gemm_f32_tile.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/impl/transpose.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

template <class Arch>
struct AttentionF32 {
  using B = xsimd::batch<float, Arch>;
  using E = Elementwise<Arch>;
  using Tile = GemmF32Tile<Arch>;
  static constexpr std::size_t W = B::size;
  static constexpr std::size_t R = Tile::MR;   // query rows per block
  static constexpr std::size_t CV = Tile::NV;  // vectors per register tile

  static constexpr std::size_t pad(std::size_t n) { return (n + W - 1) / W * W; }

  // 0, 1, ..., W - 1 (exact in float for any key index here).
  static B iota() {
    alignas(64) float v[W];
    for (std::size_t i = 0; i < W; ++i) v[i] = static_cast<float>(i);
    return B::load_aligned(v);
  }

  // K^T (head_dim x pad(seq)), Q and V as contiguous rows (seq x pad(head_dim)),
  // R score rows (R x pad(seq)); a multiple of 16 floats.
  static std::size_t scratch_floats(std::size_t seq_len, std::size_t head_dim) {
    return (head_dim * pad(seq_len) + 2 * seq_len * pad(head_dim) + R * pad(seq_len) + 15) / 16 * 16;
  }

  static void run(const AttentionArgs& a) {
    const std::size_t S = a.seq_len, D = a.head_dim, Sp = pad(S), Dp = pad(D);
    if (S == 0 || D == 0) return;
    // Rows of q, k, v sit ld_qkv apart (3 x width: 9 KB for ViT-B), which maps
    // them onto a few L1 sets; working copies in scratch are contiguous.
    float* kt = a.scratch;
    float* q = kt + D * Sp;
    float* v = q + S * Dp;
    float* scores = v + S * Dp;
    for (std::size_t j0 = 0; j0 < S; j0 += W) {  // K^T by W x W tiles, keys past S as zeros
      const std::size_t keys = std::min(W, S - j0);
      std::size_t d0 = 0;
      for (; d0 + W <= D; d0 += W) transpose_tile<W>(a.k + j0 * a.ld_qkv + d0, a.ld_qkv, keys, kt + d0 * Sp + j0, Sp);
      for (std::size_t d = d0; d < D; ++d)
        for (std::size_t j = j0; j < j0 + W; ++j) kt[d * Sp + j] = j < S ? a.k[j * a.ld_qkv + d] : 0.0f;
    }
    const std::size_t Q = a.queries == 0 ? S : std::min(a.queries, S);
    copy_rows(a.q, a.ld_qkv, q, Q, D);
    copy_rows(a.v, a.ld_qkv, v, S, D);
    for (std::size_t i0 = 0; i0 < Q; i0 += R) rows(std::min(R, Q - i0), a, kt, q, v, scores, i0);
  }

 private:
  // dst[i][0, pad(d)) = src[i * ld][0, d), zero-padded.
  static void copy_rows(const float* src, std::size_t ld, float* dst, std::size_t n, std::size_t d) {
    const std::size_t dp = pad(d);
    for (std::size_t i = 0; i < n; ++i, src += ld, dst += dp) {
      std::size_t c = 0;
      for (; c + W <= d; c += W) B::load_unaligned(src + c).store_unaligned(dst + c);
      for (; c < d; ++c) dst[c] = src[c];
      for (; c < dp; ++c) dst[c] = 0.0f;
    }
  }

  template <std::size_t Rr = R>
  static void rows(std::size_t n, const AttentionArgs& a, const float* kt, const float* q, const float* v,
                   float* scores, std::size_t i0) {
    if constexpr (Rr > 0) {
      if (n == Rr) return block<Rr>(a, kt, q, v, scores, i0);
      rows<Rr - 1>(n, a, kt, q, v, scores, i0);
    }
  }

  // Calls f.template operator()<N>() for N = min(CV, n) as a compile-time count.
  template <std::size_t N = CV, class F>
  static void with_vectors(std::size_t n, F&& f) {
    if constexpr (N > 0) {
      if (n >= N) return f(std::integral_constant<std::size_t, N>{});
      with_vectors<N - 1>(n, f);
    }
  }

  // Rows [i0, i0 + n) of the next head's q, k and v toward L2: its strided
  // rows defeat the hardware prefetchers and would otherwise arrive one miss
  // at a time.
  static void prefetch_next(const AttentionArgs& a, std::size_t i0, std::size_t n) {
    if (!a.next_q) return;
    const std::ptrdiff_t dk = a.k - a.q, dv = a.v - a.q;
    for (std::size_t i = i0; i < i0 + n; ++i) {
      const float* q = a.next_q + i * a.ld_qkv;
      for (std::size_t d = 0; d < a.head_dim; d += 64 / sizeof(float)) {
        prefetch_l2(q + d);
        prefetch_l2(q + dk + d);
        prefetch_l2(q + dv + d);
      }
    }
  }

  template <std::size_t Rr>
  static void block(const AttentionArgs& a, const float* kt, const float* q_rows, const float* v, float* sc,
                    std::size_t i0) {
    const std::size_t S = a.seq_len, D = a.head_dim, Sp = pad(S), ldq = pad(D), ldv = pad(D);
    prefetch_next(a, i0, Rr);
    const std::size_t keys_max = a.causal ? std::min(S, i0 + Rr) : S;
    const std::size_t L = pad(keys_max);  // score columns this block needs

    // scores[r][j] = scale * q_r . k_j, CV vectors of keys per register tile.
    for (std::size_t c = 0; c < L; c += CV * W)
      with_vectors((L - c) / W, [&](auto nv) {
        constexpr std::size_t NV = decltype(nv)::value;
        B acc[Rr][NV];
        for (std::size_t r = 0; r < Rr; ++r)
          for (std::size_t u = 0; u < NV; ++u) acc[r][u] = B(0.0f);
        const float* q = q_rows + i0 * ldq;
        for (std::size_t d = 0; d < D; ++d) {
          B kv[NV];
          for (std::size_t u = 0; u < NV; ++u) kv[u] = B::load_unaligned(kt + d * Sp + c + u * W);
          for (std::size_t r = 0; r < Rr; ++r) {
            const B qv(q[r * ldq + d]);
            for (std::size_t u = 0; u < NV; ++u) acc[r][u] = xsimd::fma(qv, kv[u], acc[r][u]);
          }
        }
        // Keys past a row's last (padding, or causal) stored as -inf here, in
        // registers: writing them into the row afterwards made the next loads
        // of that vector wait for the stores to retire.
        const B scale(a.scale), ninf(-std::numeric_limits<float>::infinity());
        for (std::size_t r = 0; r < Rr; ++r) {
          const B keys(static_cast<float>(a.causal ? i0 + r + 1 : S));
          for (std::size_t u = 0; u < NV; ++u) {
            const B key = iota() + B(static_cast<float>(c + u * W));
            xsimd::select(key < keys, acc[r][u] * scale, ninf).store_unaligned(sc + r * Sp + c + u * W);
          }
        }
        c += (NV - CV) * W;  // the loop adds CV * W
      });

    // Unnormalised softmax per row; 1 / sum applied to the output.
    float inv_sum[Rr];
    for (std::size_t r = 0; r < Rr; ++r) {
      float* row = sc + r * Sp;
      B m = B::load_unaligned(row);
      for (std::size_t j = W; j < L; j += W) m = xsimd::max(m, B::load_unaligned(row + j));
      const B mx(E::hmax(m));
      B total(0.0f);
      for (std::size_t j = 0; j < L; j += W) {
        const B e = xsimd::exp(B::load_unaligned(row + j) - mx);
        e.store_unaligned(row + j);
        total += e;
      }
      inv_sum[r] = 1.0f / xsimd::hadd(total);
    }

    // out[r] = sum_j p[r][j] v_j / sum_r, CV vectors of head_dim per register tile.
    for (std::size_t c = 0; c < D; c += CV * W)
      with_vectors((pad(D) - c) / W, [&](auto nv) {
        constexpr std::size_t NV = decltype(nv)::value;
        B acc[Rr][NV];
        for (std::size_t r = 0; r < Rr; ++r)
          for (std::size_t u = 0; u < NV; ++u) acc[r][u] = B(0.0f);
        for (std::size_t j = 0; j < keys_max; ++j) {
          B vv[NV];
          for (std::size_t u = 0; u < NV; ++u) vv[u] = B::load_unaligned(v + j * ldv + c + u * W);
          for (std::size_t r = 0; r < Rr; ++r) {
            const B p(sc[r * Sp + j]);
            for (std::size_t u = 0; u < NV; ++u) acc[r][u] = xsimd::fma(p, vv[u], acc[r][u]);
          }
        }
        for (std::size_t r = 0; r < Rr; ++r) {
          float* out = a.out + (i0 + r) * a.ld_out + c;
          for (std::size_t u = 0; u < NV; ++u) {
            const B x = acc[r][u] * B(inv_sum[r]);
            if (c + (u + 1) * W <= D) {
              x.store_unaligned(out + u * W);
            } else if (c + u * W < D) {
              alignas(64) float t[W];
              x.store_aligned(t);
              std::copy(t, t + (D - c - u * W), out + u * W);
            }
          }
        }
        c += (NV - CV) * W;
      });
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
