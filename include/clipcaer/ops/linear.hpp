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

// How linear() cuts an m x n GEMM into tasks: m_tasks row ranges of
// rows_per_task rows (the last shorter) times n_tasks column ranges.
struct LinearTiling {
  std::size_t rows_per_task, m_tasks;
  std::size_t cols_per_task, n_tasks;
};

// About 4 tasks per thread (the pool hands them out dynamically, so a thread
// slowed down by something else does not hold the others up), rows first
// while each task keeps at least a cache block of rows (each row task reuses
// the whole W), then columns. Tiny problems run as one task.
inline LinearTiling linear_tiling(const kernels::KernelTable& kt, std::size_t threads, std::size_t m, std::size_t n,
                                  std::size_t k) {
  constexpr std::size_t kMinTaskMacs = std::size_t{1} << 19;  // ~5 us: below that, waking a thread costs more
  const std::size_t mr = std::max<std::size_t>(1, kt.gemm_mr);
  const std::size_t m_step = std::max<std::size_t>(1, kt.gemm_m_step);
  const std::size_t n_step = std::max<std::size_t>(1, kt.gemm_n_step);
  const std::size_t n_panels = std::max<std::size_t>(1, (n + n_step - 1) / n_step);
  std::size_t want = threads <= 1 ? 1 : threads * 4;
  want = std::min(want, std::max<std::size_t>(1, m * n * std::max<std::size_t>(k, 1) / kMinTaskMacs));
  const std::size_t m_tasks = std::min(want, std::max<std::size_t>(1, m / m_step));
  const std::size_t n_tasks = std::min(n_panels, (want + m_tasks - 1) / m_tasks);
  LinearTiling t;
  t.rows_per_task = ((m + m_tasks - 1) / m_tasks + mr - 1) / mr * mr;
  t.m_tasks = (m + t.rows_per_task - 1) / t.rows_per_task;
  const std::size_t panels_per_task = (n_panels + n_tasks - 1) / n_tasks;
  t.cols_per_task = panels_per_task * n_step;
  t.n_tasks = (n_panels + panels_per_task - 1) / panels_per_task;
  return t;
}

inline kernels::GemmArgs linear_args(const Context& ctx, const float* x, std::size_t m, std::size_t ldx,
                                     const kernels::PackedMatrix& w, const float* bias, kernels::Activation act,
                                     const LinearOut& out) {
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
  return g;
}

// Whether column n can start or end a column range of linear_columns().
inline bool panel_aligned(const kernels::KernelTable& kt, const kernels::PackedMatrix& w, std::size_t n) {
  return n == w.n || n % std::max<std::size_t>(1, kt.gemm_n_step) == 0;
}

// Columns [n0, n1) of the product only (the others of out.y untouched): n0,
// and n1 unless it is the last column, on multiples of the kernel's
// gemm_n_step (panel_aligned()). The same bits as linear() there.
inline void linear_columns(const Context& ctx, const float* x, std::size_t m, std::size_t ldx,
                           const kernels::PackedMatrix& w, const float* bias, kernels::Activation act,
                           const LinearOut& out, std::size_t n0, std::size_t n1) {
  const std::size_t n_step = std::max<std::size_t>(1, ctx.kernels.gemm_n_step);
  require(n0 <= n1 && n1 <= w.n && panel_aligned(ctx.kernels, w, n0) && panel_aligned(ctx.kernels, w, n1),
          ErrorCode::invalid_argument, "linear columns [", n0, ", ", n1, ") of ", w.n,
          ": the range must lie within the output, its ends on multiples of ", n_step, " (or the last column)");
  if (m == 0 || n0 == n1) return;
  const kernels::GemmArgs g = linear_args(ctx, x, m, ldx, w, bias, act, out);
  const std::size_t n = n1 - n0;
  const LinearTiling t = linear_tiling(ctx.kernels, ctx.pool.size(), m, n, w.k);
  ctx.pool.parallel_for(t.m_tasks * t.n_tasks, [&](std::size_t i) {
    const std::size_t mi = i / t.n_tasks, ni = i % t.n_tasks;
    const std::size_t m0 = mi * t.rows_per_task, m1 = std::min(m, m0 + t.rows_per_task);
    const std::size_t c0 = n0 + ni * t.cols_per_task, c1 = std::min(n1, c0 + t.cols_per_task);
    ctx.kernels.gemm(g, m0, m1, c0, c1);
  });
}

inline void linear(const Context& ctx, const float* x, std::size_t m, std::size_t ldx, const kernels::PackedMatrix& w,
                   const float* bias, kernels::Activation act, const LinearOut& out) {
  linear_columns(ctx, x, m, ldx, w, bias, act, out, 0, w.n);
}

// Rows [r0, r1) of the same product, all columns, on the calling thread (for
// callers that already split work across the pool). The same bits as linear().
inline void linear_rows(const Context& ctx, const float* x, std::size_t m, std::size_t ldx,
                        const kernels::PackedMatrix& w, const float* bias, kernels::Activation act,
                        const LinearOut& out, std::size_t r0, std::size_t r1) {
  if (r0 >= r1) return;
  ctx.kernels.gemm(linear_args(ctx, x, m, ldx, w, bias, act, out), r0, std::min(r1, m), 0, w.n);
}

}  // namespace clipcaer::ops
