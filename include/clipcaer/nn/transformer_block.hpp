// A pre-norm transformer block, shared by CLIP's towers and the temporal
// encoders:  x += out(attention(qkv(norm1(x))));  x += fc2(act(fc1(norm2(x)))).
// The towers differ only in tensor names, biases, widths and activation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "clipcaer/nn/layer_norm.hpp"
#include "clipcaer/nn/linear.hpp"
#include "clipcaer/nn/workspace.hpp"
#include "clipcaer/ops/attention.hpp"

namespace clipcaer::nn {

struct BlockNames {
  std::string norm1, qkv_weight, qkv_bias, out_weight, out_bias, norm2, fc1_weight, fc1_bias, fc2_weight, fc2_bias;

  // OpenAI CLIP ResidualAttentionBlock (nn.MultiheadAttention, packed in_proj).
  static BlockNames clip(const std::string& p) {
    return {p + "ln_1", p + "attn.in_proj_weight", p + "attn.in_proj_bias", p + "attn.out_proj.weight",
            p + "attn.out_proj.bias", p + "ln_2", p + "mlp.c_fc.weight", p + "mlp.c_fc.bias",
            p + "mlp.c_proj.weight", p + "mlp.c_proj.bias"};
  }
  // CLIP-CAER temporal Transformer layer: [Residual(PreNorm(Attention)), Residual(PreNorm(FeedForward))].
  static BlockNames temporal(const std::string& p) {
    return {p + "0.fn.norm", p + "0.fn.fn.to_qkv.weight", "", p + "0.fn.fn.to_out.0.weight",
            p + "0.fn.fn.to_out.0.bias", p + "1.fn.norm", p + "1.fn.fn.net.0.weight", p + "1.fn.fn.net.0.bias",
            p + "1.fn.fn.net.3.weight", p + "1.fn.fn.net.3.bias"};
  }
};

struct BlockShape {
  std::size_t width = 0;     // residual stream
  std::size_t heads = 0;
  std::size_t head_dim = 0;  // inner attention width = heads * head_dim
  std::size_t mlp = 0;
  kernels::Activation act = kernels::Activation::quick_gelu;
  std::size_t inner() const { return heads * head_dim; }
};

class TransformerBlock {
 public:
  void load(const LoadContext& lc, const BlockNames& n, const BlockShape& s) {
    shape_ = s;
    norm1_.load(lc, n.norm1, s.width);
    qkv_.load(lc, n.qkv_weight, n.qkv_bias, 3 * s.inner(), s.width);
    // The official Attention drops to_out (nn.Identity) when heads == 1 and dim_head == dim.
    identity_out_ = !lc.reader.has(n.out_weight) && s.heads == 1 && s.head_dim == s.width;
    if (!identity_out_) out_.load(lc, n.out_weight, n.out_bias, s.width, s.inner());
    norm2_.load(lc, n.norm2, s.width);
    fc1_.load(lc, n.fc1_weight, n.fc1_bias, s.mlp, s.width);
    fc2_.load(lc, n.fc2_weight, n.fc2_bias, s.width, s.mlp);
  }

  const BlockShape& shape() const noexcept { return shape_; }

  // How forward() runs: op by op, each op split across the pool, or a whole
  // block per group of sequences (one task runs every op of its rows, so the
  // pool hands out work once per block instead of seven times, with no
  // thread idling at the end of each op, and a task's rows stay in its
  // core's caches between ops). The same bits either way (tested).
  enum class Schedule { automatic, by_op, by_sequence };

  // Sequences per task of the by-sequence schedule, 0 where it does not pay:
  // about kRowsPerTask rows per task (a few of the GEMM's 96-row blocks) and
  // at least 2 tasks per thread, for balance. A task under kMinRows rows
  // (many threads, or few sequences: the temporal encoders, a short text
  // batch) would read every weight for too few rows; those run op by op,
  // where a GEMM also splits its columns across threads.
  static constexpr std::size_t kRowsPerTask = 384, kMinRows = 96;
  static std::size_t sequences_per_task(std::size_t batch, std::size_t seq, std::size_t threads) {
    const std::size_t n = group_size(batch, seq, threads);
    return batch < 2 * std::max<std::size_t>(1, threads) || n * seq < kMinRows ? 0 : n;
  }

  // x: batch sequences of seq rows, width floats each; updated in place.
  void forward(const ops::Context& ctx, float* x, std::size_t batch, std::size_t seq, bool causal, Workspace& ws,
               Schedule schedule = Schedule::automatic) const {
    const std::size_t rows = batch * seq, w = shape_.width, inner = shape_.inner();
    float* normed = Workspace::ensure(ws.normed, rows * w);
    float* qkv = Workspace::ensure(ws.qkv, rows * 3 * inner);
    float* attended = Workspace::ensure(ws.attended, rows * inner);
    float* hidden = Workspace::ensure(ws.hidden, rows * shape_.mlp);
    const ops::AttentionShape as = attention_shape(batch, seq, causal);

    const std::size_t threads = ctx.pool.size();
    const std::size_t per_task = schedule == Schedule::by_op        ? 0
                                 : schedule == Schedule::automatic ? sequences_per_task(batch, seq, threads)
                                                                   : group_size(batch, seq, threads);
    if (per_task == 0) {
      norm1_.forward(ctx, x, w, normed, w, rows);
      qkv_.forward(ctx, normed, rows, w, qkv, 3 * inner);
      ops::self_attention(ctx, qkv, attended, as, ws.attention_scratch);
      if (identity_out_)
        ctx.kernels.add(x, attended, rows * w);
      else
        out_.forward(ctx, attended, rows, inner, x, w, kernels::Activation::none, x, w);
      norm2_.forward(ctx, x, w, normed, w, rows);
      fc1_.forward(ctx, normed, rows, w, hidden, shape_.mlp, shape_.act);
      fc2_.forward(ctx, hidden, rows, shape_.mlp, x, w, kernels::Activation::none, x, w);
      return;
    }

    const std::size_t tasks = (batch + per_task - 1) / per_task;
    const std::size_t scratch = ctx.kernels.attention_scratch_floats(seq, shape_.head_dim);
    float* att_scratch = Workspace::ensure(ws.attention_scratch, tasks * scratch);
    ctx.pool.parallel_for(tasks, [&](std::size_t t) {
      const std::size_t b0 = t * per_task, b1 = std::min(batch, b0 + per_task);
      const std::size_t r0 = b0 * seq, r1 = b1 * seq, n = r1 - r0;
      norm1_.forward_serial(ctx, x + r0 * w, w, normed + r0 * w, w, n);
      qkv_.forward_rows(ctx, normed, rows, w, qkv, 3 * inner, kernels::Activation::none, nullptr, 0, r0, r1);
      ops::self_attention_seqs(ctx, qkv, attended, as, b0, b1, att_scratch + t * scratch);
      if (identity_out_)
        ctx.kernels.add(x + r0 * w, attended + r0 * w, n * w);
      else
        out_.forward_rows(ctx, attended, rows, inner, x, w, kernels::Activation::none, x, w, r0, r1);
      norm2_.forward_serial(ctx, x + r0 * w, w, normed + r0 * w, w, n);
      fc1_.forward_rows(ctx, normed, rows, w, hidden, shape_.mlp, shape_.act, nullptr, 0, r0, r1);
      fc2_.forward_rows(ctx, hidden, rows, shape_.mlp, x, w, kernels::Activation::none, x, w, r0, r1);
    });
  }

  // The first row of each sequence after this block, and nothing else: a
  // tower's last block, whose output is its first token. Keys and values
  // still come from every row, but queries, the out projection and the MLP
  // run on batch rows instead of batch * seq (in CLIP's ViT, 1 row in 50).
  // x: batch * seq rows, read only; out: batch rows of width floats, apart
  // from x and ws. The same bits as forward()'s first rows (tested).
  void forward_first_rows(const ops::Context& ctx, const float* x, std::size_t batch, std::size_t seq, bool causal,
                          float* out, Workspace& ws) const {
    const std::size_t rows = batch * seq, w = shape_.width, inner = shape_.inner();
    float* normed = Workspace::ensure(ws.normed, rows * w);
    float* qkv = Workspace::ensure(ws.qkv, rows * 3 * inner);
    float* attended = Workspace::ensure(ws.attended, batch * inner);
    float* hidden = Workspace::ensure(ws.hidden, batch * shape_.mlp);
    const ops::AttentionShape as = attention_shape(batch, seq, causal, /*queries=*/1);

    norm1_.forward(ctx, x, w, normed, w, rows);
    // Keys and values of every row; queries of first rows only (their rows
    // of normed and qkv read and written in place, seq rows apart). Column
    // ranges start on panel bounds: query columns past the last bound below
    // `inner` are computed for every row too.
    const std::size_t n_step = std::max<std::size_t>(1, ctx.kernels.gemm_n_step), split = inner / n_step * n_step;
    qkv_.forward_columns(ctx, normed, rows, w, qkv, 3 * inner, split, 3 * inner);
    qkv_.forward_columns(ctx, normed, batch, seq * w, qkv, seq * 3 * inner, 0, split);
    ops::self_attention(ctx, qkv, attended, as, ws.attention_scratch);
    // out = first rows of x + attention, then the MLP on those rows.
    if (identity_out_) {
      copy_first_rows(x, batch, seq, w, out);
      ctx.kernels.add(out, attended, batch * w);
    } else {
      out_.forward(ctx, attended, batch, inner, out, w, kernels::Activation::none, x, seq * w);
    }
    norm2_.forward(ctx, out, w, normed, w, batch);
    fc1_.forward(ctx, normed, batch, w, hidden, shape_.mlp, shape_.act);
    fc2_.forward(ctx, hidden, batch, shape_.mlp, out, w, kernels::Activation::none, out, w);
  }

  // out (batch x width) = the first row of each of batch sequences of seq rows of x.
  static void copy_first_rows(const float* x, std::size_t batch, std::size_t seq, std::size_t width, float* out) {
    for (std::size_t b = 0; b < batch; ++b) std::copy(x + b * seq * width, x + b * seq * width + width, out + b * width);
  }

 private:
  ops::AttentionShape attention_shape(std::size_t batch, std::size_t seq, bool causal,
                                      std::size_t queries = 0) const {
    const float scale = 1.0f / std::sqrt(static_cast<float>(shape_.head_dim));
    // int8 blocks: attention's products in bf16 too, where the CPU has them
    // (docs/performance.md "Reduced precision").
    const bool bf16 = qkv_.packed().type == kernels::WeightType::i8;
    return {batch, seq, shape_.heads, shape_.head_dim, scale, causal, queries, bf16};
  }

  // Sequences per task by the row target and 2 tasks per thread, at least 1.
  static std::size_t group_size(std::size_t batch, std::size_t seq, std::size_t threads) {
    const std::size_t want = std::max<std::size_t>(1, (kRowsPerTask + seq / 2) / std::max<std::size_t>(1, seq));
    const std::size_t most = std::max<std::size_t>(1, batch / (2 * std::max<std::size_t>(1, threads)));
    return std::min(want, most);
  }

  BlockShape shape_;
  LayerNorm norm1_, norm2_;
  Linear qkv_, out_, fc1_, fc2_;
  bool identity_out_ = false;
};

// A tower's blocks over x (batch sequences of seq rows of width floats,
// updated in place) when only each sequence's first row is read afterwards:
// every block but the last runs whole, the last computes only those rows
// (TransformerBlock::forward_first_rows) into out (batch x width). With no
// blocks, out is the first rows of x.
inline void forward_to_first_rows(const std::vector<TransformerBlock>& blocks, const ops::Context& ctx, float* x,
                                  std::size_t batch, std::size_t seq, std::size_t width, bool causal, float* out,
                                  Workspace& ws) {
  if (blocks.empty()) {
    TransformerBlock::copy_first_rows(x, batch, seq, width, out);
    return;
  }
  for (std::size_t i = 0; i + 1 < blocks.size(); ++i) blocks[i].forward(ctx, x, batch, seq, causal, ws);
  blocks.back().forward_first_rows(ctx, x, batch, seq, causal, out, ws);
}

}  // namespace clipcaer::nn
