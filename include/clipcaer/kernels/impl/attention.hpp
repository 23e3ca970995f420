// One attention head over one sequence, a block of R query rows at a time:
//   scores = scale Q K^T   register tile; K transposed, Q and V copied once per head
//   P = exp(scores - max)  vectorised, masked keys (causal, padding) at -inf
//   out = (P V) / sum(P)   register tile over V rows, normalised once per row
// Only R score rows are ever materialised. Causal blocks stop at their last key.
// With AttentionArgs::bf16 on an AVX512_BF16 table (int8 models), Q K^T and
// P V run as vdpbf16ps on bf16 pairs instead: K^T paired along head_dim, V
// along keys, Q and P rounded per row; the masking and softmax stay float32.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "clipcaer/kernels/impl/elementwise.hpp"
#include "clipcaer/kernels/impl/gemm_f32_tile.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/impl/transpose.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

#if defined(__AVX512BF16__)
#include <immintrin.h>
#endif

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
#if defined(__AVX512BF16__)
  static constexpr bool kBf16 = W == 16;  // AttentionArgs::bf16 runs vdpbf16ps here
#else
  static constexpr bool kBf16 = false;
#endif

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
#if defined(__AVX512BF16__)
    if constexpr (kBf16) {
      if (a.bf16 && D % 32 == 0) return run_bf16(a);
    }
#endif
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
#if defined(__AVX512BF16__)
  // The vdpbf16ps path (kBf16, D a multiple of 32). Scratch, in the f32
  // layout's regions: K^T as bf16 pairs of head_dim (D/2 x Sp words) and the
  // R probability rows as bf16 after it; Q rows as bf16 (S x D/2 words) and
  // K's bf16 rows before the transpose after them; V as bf16 pairs of keys
  // (ceil(S/2) x Dp words, a missing odd key zero); the R float score rows.
  static void run_bf16(const AttentionArgs& a) {
    const std::size_t S = a.seq_len, D = a.head_dim, Sp = pad(S), Dp = pad(D), DW = D / 2;
    auto* kt = reinterpret_cast<std::uint32_t*>(a.scratch);
    auto* q = reinterpret_cast<std::uint32_t*>(a.scratch + D * Sp);
    auto* kb = q + S * DW;
    auto* v = reinterpret_cast<std::uint32_t*>(a.scratch + D * Sp + S * Dp);
    float* scores = a.scratch + D * Sp + 2 * S * Dp;
    auto* p = reinterpret_cast<std::uint16_t*>(kt + DW * Sp);
    for (std::size_t j = 0; j < S; ++j) to_bf16(a.k + j * a.ld_qkv, D, kb + j * DW);
    for (std::size_t j0 = 0; j0 < S; j0 += W)  // 32-bit pairs move as floats would
      for (std::size_t d0 = 0; d0 < DW; d0 += W)
        transpose_tile<W>(reinterpret_cast<const float*>(kb + j0 * DW + d0), DW, std::min(W, S - j0),
                          reinterpret_cast<float*>(kt + d0 * Sp + j0), Sp);
    const std::size_t Q = a.queries == 0 ? S : std::min(a.queries, S);
    for (std::size_t i = 0; i < Q; ++i) to_bf16(a.q + i * a.ld_qkv, D, q + i * DW);
    for (std::size_t jp = 0; jp < (S + 1) / 2; ++jp)
      for (std::size_t c = 0; c < D; c += W) {
        const __m512i lo = widen_bf16(a.v + 2 * jp * a.ld_qkv + c);
        const __m512i hi = 2 * jp + 1 < S ? widen_bf16(a.v + (2 * jp + 1) * a.ld_qkv + c) : _mm512_setzero_si512();
        _mm512_storeu_si512(v + jp * Dp + c, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
      }
    for (std::size_t i0 = 0; i0 < Q; i0 += R) rows_bf16(std::min(R, Q - i0), a, kt, q, v, scores, p, i0);
  }

  // d floats (a multiple of 16) -> d bf16, nearest even.
  static void to_bf16(const float* src, std::size_t d, std::uint32_t* dst) {
    for (std::size_t c = 0; c < d; c += W)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(reinterpret_cast<std::uint16_t*>(dst) + c),
                          (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + c)));
  }
  // 16 floats -> 16 bf16 in the low halves of 32-bit lanes.
  static __m512i widen_bf16(const float* src) {
    return _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src)));
  }

  // The register tile of both products: acc[r][u] = sum over steps t of the
  // bf16 pair a[r * lda + t] times the pairs of b[t * ldb + u * W], from zero.
  template <std::size_t Rr, std::size_t NV>
  static void dot_bf16(const std::uint32_t* a, std::size_t lda, const std::uint32_t* b, std::size_t ldb,
                       std::size_t steps, __m512 (&acc)[Rr][NV]) {
    for (std::size_t r = 0; r < Rr; ++r)
      for (std::size_t u = 0; u < NV; ++u) acc[r][u] = _mm512_setzero_ps();
    for (std::size_t t = 0; t < steps; ++t) {
      __m512bh bv[NV];
      for (std::size_t u = 0; u < NV; ++u) bv[u] = (__m512bh)_mm512_loadu_si512(b + t * ldb + u * W);
      for (std::size_t r = 0; r < Rr; ++r) {
        const auto av = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[r * lda + t]));
        for (std::size_t u = 0; u < NV; ++u) acc[r][u] = _mm512_dpbf16_ps(acc[r][u], av, bv[u]);
      }
    }
  }

  template <std::size_t Rr = R>
  static void rows_bf16(std::size_t n, const AttentionArgs& a, const std::uint32_t* kt, const std::uint32_t* q,
                        const std::uint32_t* v, float* sc, std::uint16_t* p, std::size_t i0) {
    if constexpr (Rr > 0) {
      if (n == Rr) return block_bf16<Rr>(a, kt, q, v, sc, p, i0);
      rows_bf16<Rr - 1>(n, a, kt, q, v, sc, p, i0);
    }
  }

  template <std::size_t Rr>
  static void block_bf16(const AttentionArgs& a, const std::uint32_t* kt, const std::uint32_t* q,
                         const std::uint32_t* v, float* sc, std::uint16_t* p, std::size_t i0) {
    const std::size_t S = a.seq_len, D = a.head_dim, Sp = pad(S), Dp = pad(D), DW = D / 2;
    prefetch_next(a, i0, Rr);
    const std::size_t keys_max = a.causal ? std::min(S, i0 + Rr) : S;
    const std::size_t L = pad(keys_max);

    // scores[r][j] = scale * q_r . k_j, one head_dim pair per step.
    for (std::size_t c = 0; c < L; c += CV * W)
      with_vectors((L - c) / W, [&](auto nv) {
        constexpr std::size_t NV = decltype(nv)::value;
        __m512 acc[Rr][NV];
        dot_bf16(q + i0 * DW, DW, kt + c, Sp, DW, acc);
        store_scores<Rr, NV>(a, acc, sc, i0, c);
        c += (NV - CV) * W;
      });

    float inv_sum[Rr];
    for (std::size_t r = 0; r < Rr; ++r) inv_sum[r] = softmax_row(sc + r * Sp, L, p + r * Sp);

    // out[r] = sum over key pairs of p[r] . v_pair / sum_r.
    const std::size_t pairs = (keys_max + 1) / 2;
    const auto* pw = reinterpret_cast<const std::uint32_t*>(p);
    for (std::size_t c = 0; c < D; c += CV * W)
      with_vectors((Dp - c) / W, [&](auto nv) {
        constexpr std::size_t NV = decltype(nv)::value;
        __m512 acc[Rr][NV];
        dot_bf16(pw, Sp / 2, v + c, Dp, pairs, acc);
        store_out<Rr, NV>(a, acc, inv_sum, i0, c);
        c += (NV - CV) * W;
      });
  }
#endif

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
        store_scores<Rr, NV>(a, acc, sc, i0, c);
        c += (NV - CV) * W;  // the loop adds CV * W
      });

    float inv_sum[Rr];
    for (std::size_t r = 0; r < Rr; ++r) inv_sum[r] = softmax_row(sc + r * Sp, L);

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
        store_out<Rr, NV>(a, acc, inv_sum, i0, c);
        c += (NV - CV) * W;
      });
  }

  // Score tile -> R score rows: scale, and keys past a row's last (padding,
  // or causal) as -inf, in registers: writing them into the row afterwards
  // made the next loads of that vector wait for the stores to retire.
  template <std::size_t Rr, std::size_t NV, class Acc>
  static void store_scores(const AttentionArgs& a, const Acc (&acc)[Rr][NV], float* sc, std::size_t i0,
                           std::size_t c) {
    const std::size_t Sp = pad(a.seq_len);
    const B scale(a.scale), ninf(-std::numeric_limits<float>::infinity());
    for (std::size_t r = 0; r < Rr; ++r) {
      const B keys(static_cast<float>(a.causal ? i0 + r + 1 : a.seq_len));
      for (std::size_t u = 0; u < NV; ++u) {
        const B key = iota() + B(static_cast<float>(c + u * W));
        xsimd::select(key < keys, B(acc[r][u]) * scale, ninf).store_unaligned(sc + r * Sp + c + u * W);
      }
    }
  }

  // Unnormalised softmax of row[0, L) in place; returns 1 / sum, applied to
  // the output. With bf16 set, the probabilities also go there as bf16.
  static float softmax_row(float* row, std::size_t L, std::uint16_t* bf16 = nullptr) {
    B m = B::load_unaligned(row);
    for (std::size_t j = W; j < L; j += W) m = xsimd::max(m, B::load_unaligned(row + j));
    const B mx(E::hmax(m));
    B total(0.0f);
    for (std::size_t j = 0; j < L; j += W) {
      const B e = xsimd::exp(B::load_unaligned(row + j) - mx);
#if defined(__AVX512BF16__)
      if constexpr (kBf16) {
        if (bf16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(bf16 + j), (__m256i)_mm512_cvtneps_pbh(e));
      }
#else
      (void)bf16;
#endif
      e.store_unaligned(row + j);
      total += e;
    }
    return 1.0f / xsimd::hadd(total);
  }

  // Output tile (R rows x NV vectors of head_dim from column c) times 1 / sum.
  template <std::size_t Rr, std::size_t NV, class Acc>
  static void store_out(const AttentionArgs& a, const Acc (&acc)[Rr][NV], const float (&inv_sum)[Rr], std::size_t i0,
                        std::size_t c) {
    const std::size_t D = a.head_dim;
    for (std::size_t r = 0; r < Rr; ++r) {
      float* out = a.out + (i0 + r) * a.ld_out + c;
      for (std::size_t u = 0; u < NV; ++u) {
        const B x = B(acc[r][u]) * B(inv_sum[r]);
        if (c + (u + 1) * W <= D) {
          x.store_unaligned(out + u * W);
        } else if (c + u * W < D) {
          alignas(64) float t[W];
          x.store_aligned(t);
          std::copy(t, t + (D - c - u * W), out + u * W);
        }
      }
    }
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
