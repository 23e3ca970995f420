// f32 GEMM with weights packed at load: C = act(A W^T + bias) + residual.
// Packed layout: panels of NR = 2 vectors of output columns; panel p stores,
// for each k, W[p*NR + j][k] for j in [0, NR), zero-padded past n.
// Each MR x NR tile accumulates over the whole K in registers, so results do
// not depend on how callers split rows and columns among threads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "clipcaer/core/error.hpp"
#include "clipcaer/kernels/impl/elementwise.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

template <class Arch>
struct GemmF32 {
  using B = xsimd::batch<float, Arch>;
  using E = Elementwise<Arch>;
  static constexpr std::size_t W = B::size;
  static constexpr std::size_t NR = 2 * W;
  static constexpr std::size_t MR = W >= 16 ? 12 : 6;  // accumulators: 2*MR vector registers
  static constexpr std::size_t MB = 96;                 // rows per cache block (multiple of MR)

  static void pack(const float* w, std::size_t n, std::size_t k, WeightType type, PackedMatrix& out) {
    require(type == WeightType::f32, ErrorCode::unsupported, "this kernel table packs float32 weights only, not ",
            weight_type_name(type));
    const std::size_t panels = (n + NR - 1) / NR;
    out.n = n;
    out.k = k;
    out.type = type;
    out.data.resize(panels * k * NR * sizeof(float));
    float* dst = reinterpret_cast<float*>(out.data.data());
    for (std::size_t p = 0; p < panels; ++p)
      for (std::size_t kk = 0; kk < k; ++kk)
        for (std::size_t j = 0; j < NR; ++j) {
          std::size_t row = p * NR + j;
          *dst++ = row < n ? w[row * k + kk] : 0.0f;
        }
  }

  template <std::size_t R>
  static void tile(const GemmArgs& g, const float* panel, std::size_t i0, std::size_t j0, std::size_t ncols) {
    const std::size_t K = g.b->k;
    B acc[R][2];
    for (std::size_t r = 0; r < R; ++r) acc[r][0] = acc[r][1] = B(0.0f);
    const float* a = g.a + i0 * g.lda;
    const float* bp = panel;
    for (std::size_t kk = 0; kk < K; ++kk, bp += NR) {
      const B b0 = B::load_aligned(bp);
      const B b1 = B::load_aligned(bp + W);
      for (std::size_t r = 0; r < R; ++r) {
        const B av(a[r * g.lda + kk]);
        acc[r][0] = xsimd::fma(av, b0, acc[r][0]);
        acc[r][1] = xsimd::fma(av, b1, acc[r][1]);
      }
    }
    if (ncols == NR) {
      B bias0(0.0f), bias1(0.0f);
      if (g.bias) {
        bias0 = B::load_unaligned(g.bias + j0);
        bias1 = B::load_unaligned(g.bias + j0 + W);
      }
      for (std::size_t r = 0; r < R; ++r) {
        B v0 = E::apply(acc[r][0] + bias0, g.act);
        B v1 = E::apply(acc[r][1] + bias1, g.act);
        float* c = g.c + (i0 + r) * g.ldc + j0;
        if (g.residual) {
          const float* res = g.residual + (i0 + r) * g.ldr + j0;
          v0 += B::load_unaligned(res);
          v1 += B::load_unaligned(res + W);
        }
        v0.store_unaligned(c);
        v1.store_unaligned(c + W);
      }
      return;
    }
    alignas(64) float tmp[NR];
    for (std::size_t r = 0; r < R; ++r) {
      acc[r][0].store_aligned(tmp);
      acc[r][1].store_aligned(tmp + W);
      float* c = g.c + (i0 + r) * g.ldc + j0;
      const float* res = g.residual ? g.residual + (i0 + r) * g.ldr + j0 : nullptr;
      for (std::size_t j = 0; j < ncols; ++j) {
        float v = E::apply(tmp[j] + (g.bias ? g.bias[j0 + j] : 0.0f), g.act);
        c[j] = res ? v + res[j] : v;
      }
    }
  }

  template <std::size_t R = MR>
  static void tail_tile(std::size_t rows, const GemmArgs& g, const float* panel, std::size_t i0, std::size_t j0,
                        std::size_t ncols) {
    if constexpr (R > 0) {
      if (rows == R) return tile<R>(g, panel, i0, j0, ncols);
      tail_tile<R - 1>(rows, g, panel, i0, j0, ncols);
    }
  }

  static void gemm(const GemmArgs& g, std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1) {
    const std::size_t K = g.b->k;
    const float* packed = reinterpret_cast<const float*>(g.b->data.data());
    for (std::size_t mb = m0; mb < m1; mb += MB) {
      const std::size_t mb_end = std::min(m1, mb + MB);
      for (std::size_t j0 = n0; j0 < n1; j0 += NR) {
        const float* panel = packed + (j0 / NR) * K * NR;
        const std::size_t ncols = std::min(NR, n1 - j0);
        std::size_t i = mb;
        for (; i + MR <= mb_end; i += MR) tile<MR>(g, panel, i, j0, ncols);
        if (i < mb_end) tail_tile(mb_end - i, g, panel, i, j0, ncols);
      }
    }
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
