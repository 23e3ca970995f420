// One attention head over one sequence, a block of R query rows at a time:
//   scores = scale Q K^T   register tile, K transposed once per head into scratch
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

  // K^T (head_dim x pad(seq)), V padded to whole vectors when head_dim is not
  // (seq x pad(head_dim)), R score rows (R x pad(seq)); a multiple of 16 floats.
  static std::size_t scratch_floats(std::size_t seq_len, std::size_t head_dim) {
    const std::size_t v = head_dim % W ? seq_len * pad(head_dim) : 0;
    return (head_dim * pad(seq_len) + v + R * pad(seq_len) + 15) / 16 * 16;
  }

  static void run(const AttentionArgs& a) {
    const std::size_t S = a.seq_len, D = a.head_dim, Sp = pad(S);
    if (S == 0 || D == 0) return;
    float* kt = a.scratch;
    for (std::size_t j = 0; j < S; ++j) {
      const float* kj = a.k + j * a.ld_qkv;
      for (std::size_t d = 0; d < D; ++d) kt[d * Sp + j] = kj[d];
    }
    for (std::size_t d = 0; d < D; ++d)
      for (std::size_t j = S; j < Sp; ++j) kt[d * Sp + j] = 0.0f;
    float* next = kt + D * Sp;
    const float* v = a.v;
    std::size_t ldv = a.ld_qkv;
    if (D % W) {  // copy V into whole vectors, zero-padded
      const std::size_t Dp = pad(D);
      for (std::size_t j = 0; j < S; ++j) {
        std::copy(a.v + j * a.ld_qkv, a.v + j * a.ld_qkv + D, next + j * Dp);
        std::fill(next + j * Dp + D, next + (j + 1) * Dp, 0.0f);
      }
      v = next;
      ldv = Dp;
      next += S * Dp;
    }
    float* scores = next;
    for (std::size_t i0 = 0; i0 < S; i0 += R) rows(std::min(R, S - i0), a, kt, v, ldv, scores, i0);
  }

 private:
  template <std::size_t Rr = R>
  static void rows(std::size_t n, const AttentionArgs& a, const float* kt, const float* v, std::size_t ldv,
                   float* scores, std::size_t i0) {
    if constexpr (Rr > 0) {
      if (n == Rr) return block<Rr>(a, kt, v, ldv, scores, i0);
      rows<Rr - 1>(n, a, kt, v, ldv, scores, i0);
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

  template <std::size_t Rr>
  static void block(const AttentionArgs& a, const float* kt, const float* v, std::size_t ldv, float* sc,
                    std::size_t i0) {
    const std::size_t S = a.seq_len, D = a.head_dim, Sp = pad(S);
    const std::size_t keys_max = a.causal ? std::min(S, i0 + Rr) : S;
    const std::size_t L = pad(keys_max);  // score columns this block needs

    // scores[r][j] = scale * q_r . k_j, CV vectors of keys per register tile.
    for (std::size_t c = 0; c < L; c += CV * W)
      with_vectors((L - c) / W, [&](auto nv) {
        constexpr std::size_t NV = decltype(nv)::value;
        B acc[Rr][NV];
        for (std::size_t r = 0; r < Rr; ++r)
          for (std::size_t u = 0; u < NV; ++u) acc[r][u] = B(0.0f);
        const float* q = a.q + i0 * a.ld_qkv;
        for (std::size_t d = 0; d < D; ++d) {
          B kv[NV];
          for (std::size_t u = 0; u < NV; ++u) kv[u] = B::load_unaligned(kt + d * Sp + c + u * W);
          for (std::size_t r = 0; r < Rr; ++r) {
            const B qv(q[r * a.ld_qkv + d]);
            for (std::size_t u = 0; u < NV; ++u) acc[r][u] = xsimd::fma(qv, kv[u], acc[r][u]);
          }
        }
        const B scale(a.scale);
        for (std::size_t r = 0; r < Rr; ++r)
          for (std::size_t u = 0; u < NV; ++u) (acc[r][u] * scale).store_unaligned(sc + r * Sp + c + u * W);
        c += (NV - CV) * W;  // the loop adds CV * W
      });

    // Unnormalised softmax per row; 1 / sum applied to the output.
    float inv_sum[Rr];
    for (std::size_t r = 0; r < Rr; ++r) {
      float* row = sc + r * Sp;
      const std::size_t keys = a.causal ? i0 + r + 1 : S;
      std::fill(row + keys, row + L, -std::numeric_limits<float>::infinity());
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
