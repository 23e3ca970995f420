// y = act(x W^T + b) + residual over M rows, tiled across the thread pool.
#pragma once

#include <algorithm>
#include <cstddef>

#include "clipcaer/core/error.hpp"
#include "clipcaer/ops/context.hpp"

namespace clipcaer::ops {

struct LinearOut {
  float* y;
  std::size_t ldy;
  const float* residual = nullptr;  // may equal y
  std::size_t ldr = 0;
};

inline void linear(const Context& ctx, const float* x, std::size_t m, std::size_t ldx, const kernels::PackedMatrix& w,
                   const float* bias, kernels::Activation act, const LinearOut& out) {
  if (m == 0) return;
  require(w.packer == &ctx.kernels, ErrorCode::internal, "weights were packed by kernel set '",
          w.packer ? w.packer->name : "none", "' but are used with '", ctx.kernels.name, "'");
  kernels::GemmArgs g;
  g.a = x;
  g.lda = ldx;
  g.b = &w;
  g.bias = bias;
  g.act = act;
  g.residual = out.residual;
  g.ldr = out.ldr;
  g.c = out.y;
  g.ldc = out.ldy;
  g.m = m;
  // Tiles: row blocks of gemm_m_step, column blocks a multiple of gemm_n_step,
  // sized so every thread gets several tiles.
  const std::size_t m_step = ctx.kernels.gemm_m_step;
  const std::size_t n_step = ctx.kernels.gemm_n_step;
  const std::size_t m_tiles = (m + m_step - 1) / m_step;
  const std::size_t n_panels = (w.n + n_step - 1) / n_step;
  const std::size_t want = ctx.pool.size() * 4;
  std::size_t panels_per_tile = n_panels;
  if (m_tiles < want) panels_per_tile = std::max<std::size_t>(1, n_panels * m_tiles / want);
  const std::size_t n_tiles = (n_panels + panels_per_tile - 1) / panels_per_tile;
  const std::size_t n = w.n;
  ctx.pool.parallel_for(m_tiles * n_tiles, [&](std::size_t t) {
    const std::size_t mi = t / n_tiles, ni = t % n_tiles;
    const std::size_t m0 = mi * m_step, m1 = std::min(m, m0 + m_step);
    const std::size_t n0 = ni * panels_per_tile * n_step, n1 = std::min(n, n0 + panels_per_tile * n_step);
    ctx.kernels.gemm(g, m0, m1, n0, n1);
  });
}

}  // namespace clipcaer::ops
