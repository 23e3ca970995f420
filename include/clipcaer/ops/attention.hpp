// Multi-head self-attention core over packed [q | k | v] rows: one task per
// (sequence, head). Projections in and out are Linear ops around it.
#pragma once

#include <algorithm>
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
  // Query rows per sequence that get outputs: the first `queries` tokens,
  // against every key; 0 means all. out then holds batch * queries rows.
  std::size_t queries = 0;
  // Q K^T and P V in bf16 where the kernel table has it (AttentionArgs::bf16).
  bool bf16 = false;

  std::size_t query_rows() const { return queries == 0 ? seq_len : std::min(queries, seq_len); }
};

// The kernel's arguments for head h of sequence b (no next head to prefetch).
inline kernels::AttentionArgs head_args(const float* qkv, float* out, const AttentionShape& s, std::size_t b,
                                        std::size_t h, float* scratch) {
  const std::size_t inner = s.heads * s.head_dim;
  kernels::AttentionArgs a;
  a.q = qkv + b * s.seq_len * 3 * inner + h * s.head_dim;
  a.k = a.q + inner;
  a.v = a.q + 2 * inner;
  a.ld_qkv = 3 * inner;
  a.out = out + b * s.query_rows() * inner + h * s.head_dim;
  a.ld_out = inner;
  a.seq_len = s.seq_len;
  a.head_dim = s.head_dim;
  a.scale = s.scale;
  a.causal = s.causal;
  a.queries = s.query_rows();
  a.bf16 = s.bf16;
  a.scratch = scratch;
  return a;
}

// Every head of sequences [b0, b1) on the calling thread, one scratch slice
// (attention_scratch_floats) for all. The same bits as self_attention().
inline void self_attention_seqs(const Context& ctx, const float* qkv, float* out, const AttentionShape& s,
                                std::size_t b0, std::size_t b1, float* scratch) {
  for (std::size_t b = b0; b < b1; ++b)
    for (std::size_t h = 0; h < s.heads; ++h) {
      kernels::AttentionArgs a = head_args(qkv, out, s, b, h, scratch);
      // Prefetch the next head, or the next sequence's first.
      a.next_q = h + 1 < s.heads  ? a.q + s.head_dim
                 : b + 1 < b1       ? head_args(qkv, out, s, b + 1, 0, scratch).q
                                    : nullptr;
      ctx.kernels.attention(a);
    }
}

// qkv: (batch * seq_len) rows of 3 * inner floats, [q | k | v], head h at
// columns h * head_dim of each part. out: (batch * s.query_rows()) rows of inner floats.
// scratch: grown here if needed. A task runs a few heads of one sequence in a
// row (telling the kernel which head comes next, so it can prefetch it), about
// 4 tasks per thread; each task owns a scratch slice, so results do not depend
// on which thread runs a task.
inline void self_attention(const Context& ctx, const float* qkv, float* out, const AttentionShape& s,
                           AlignedBuffer<float>& scratch) {
  const std::size_t per_task = ctx.kernels.attention_scratch_floats(s.seq_len, s.head_dim);
  const std::size_t want = ctx.pool.size() * 4;
  const std::size_t heads_per_task =
      std::max<std::size_t>(1, std::min(s.heads, s.batch * s.heads / std::max<std::size_t>(1, want)));
  const std::size_t groups = (s.heads + heads_per_task - 1) / heads_per_task;
  const std::size_t tasks = s.batch * groups;
  if (scratch.size() < tasks * per_task) scratch.resize(tasks * per_task);
  ctx.pool.parallel_for(tasks, [&](std::size_t t) {
    const std::size_t b = t / groups, h0 = (t % groups) * heads_per_task;
    const std::size_t h1 = std::min(s.heads, h0 + heads_per_task);
    for (std::size_t h = h0; h < h1; ++h) {
      kernels::AttentionArgs a = head_args(qkv, out, s, b, h, scratch.data() + t * per_task);
      a.next_q = h + 1 < h1 ? a.q + s.head_dim : nullptr;
      ctx.kernels.attention(a);
    }
  });
}

}  // namespace clipcaer::ops
