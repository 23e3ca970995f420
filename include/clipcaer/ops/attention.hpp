// Multi-head self-attention core over packed [q | k | v] rows: one task per
// (sequence, head). Projections in and out are Linear ops around it.
#pragma once

#include <cstddef>

#include "clipcaer/core/aligned_buffer.hpp"
#include "clipcaer/ops/context.hpp"

namespace clipcaer::ops {

struct AttentionShape {
  std::size_t batch;     // independent sequences
  std::size_t seq_len;   // tokens per sequence
  std::size_t heads;
  std::size_t head_dim;  // inner width = heads * head_dim
  float scale;
  bool causal;
};

// qkv: (batch * seq_len) rows of 3 * inner floats, [q | k | v], head h at
// columns h * head_dim of each part. out: (batch * seq_len) rows of inner floats.
// scratch: grown here if needed; each task owns a slice, so results do not
// depend on which thread runs a task.
inline void self_attention(const Context& ctx, const float* qkv, float* out, const AttentionShape& s,
                           AlignedBuffer<float>& scratch) {
  const std::size_t inner = s.heads * s.head_dim;
  const std::size_t per_task = ctx.kernels.attention_scratch_floats(s.seq_len, s.head_dim);
  const std::size_t tasks = s.batch * s.heads;
  if (scratch.size() < tasks * per_task) scratch.resize(tasks * per_task);
  ctx.pool.parallel_for(tasks, [&](std::size_t t) {
    const std::size_t b = t / s.heads, h = t % s.heads;
    const float* base = qkv + b * s.seq_len * 3 * inner + h * s.head_dim;
    kernels::AttentionArgs a;
    a.q = base;
    a.k = base + inner;
    a.v = base + 2 * inner;
    a.ld_qkv = 3 * inner;
    a.out = out + b * s.seq_len * inner + h * s.head_dim;
    a.ld_out = inner;
    a.seq_len = s.seq_len;
    a.head_dim = s.head_dim;
    a.scale = s.scale;
    a.causal = s.causal;
    a.scratch = scratch.data() + t * per_task;
    ctx.kernels.attention(a);
  });
}

}  // namespace clipcaer::ops
