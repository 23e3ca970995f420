// Row-wise LayerNorm across the thread pool.
#pragma once

#include <algorithm>
#include <cstddef>

#include "clipcaer/ops/context.hpp"

namespace clipcaer::ops {

inline void layer_norm(const Context& ctx, const float* x, std::size_t ldx, float* y, std::size_t ldy,
                       std::size_t rows, std::size_t dim, const float* gamma, const float* beta, float eps) {
  constexpr std::size_t kRowsPerTask = 32;
  const std::size_t tasks = (rows + kRowsPerTask - 1) / kRowsPerTask;
  ctx.pool.parallel_for(tasks, [&](std::size_t t) {
    const std::size_t r0 = t * kRowsPerTask, r1 = std::min(rows, r0 + kRowsPerTask);
    ctx.kernels.layer_norm(x + r0 * ldx, ldx, y + r0 * ldy, ldy, r1 - r0, dim, gamma, beta, eps);
  });
}

}  // namespace clipcaer::ops
