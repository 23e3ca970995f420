// CLIP's text tower over token embeddings: + positions -> causal residual
// blocks -> ln_final(EOT row) @ text_projection.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "clipcaer/models/config.hpp"
#include "clipcaer/nn/layer_norm.hpp"
#include "clipcaer/nn/linear.hpp"
#include "clipcaer/nn/transformer_block.hpp"
#include "clipcaer/nn/workspace.hpp"

namespace clipcaer::models {

class TextTransformer {
 public:
  void load(const nn::LoadContext& lc, const TextConfig& c, std::size_t embed_dim) {
    cfg_ = c;
    embed_dim_ = embed_dim;
    const std::size_t w = c.width;
    positional_embedding_ = lc.reader.floats("positional_embedding", {c.context_length, w});
    blocks_.resize(c.layers);
    const nn::BlockShape shape{w, c.heads, w / c.heads, 4 * w, kernels::Activation::quick_gelu};
    for (std::size_t i = 0; i < c.layers; ++i)
      blocks_[i].load(lc, nn::BlockNames::clip("transformer.resblocks." + std::to_string(i) + "."), shape);
    ln_final_.load(lc, "ln_final", w);
    proj_.load_transposed(lc, "text_projection", w, embed_dim);
  }

  const TextConfig& config() const noexcept { return cfg_; }

  // embeddings: n sequences of len rows (len <= context_length), width floats
  // each; eot[i] < len picks each sequence's output row. out: n x embed_dim,
  // not normalised. Rows after a sequence's EOT never influence it (causal
  // mask), so callers may pass len = max(eot) + 1.
  void encode(const ops::Context& ctx, const float* embeddings, std::size_t n, std::size_t len,
              const std::size_t* eot, float* out, nn::Workspace& ws) const {
    const std::size_t w = cfg_.width;
    require(len >= 1 && len <= cfg_.context_length, ErrorCode::invalid_argument, "text length ", len,
            " is outside [1, ", cfg_.context_length, "]");
    float* x = nn::Workspace::ensure(ws.tokens, n * len * w);
    for (std::size_t i = 0; i < n; ++i) {
      require(eot[i] < len, ErrorCode::invalid_argument, "EOT position ", eot[i], " of text ", i,
              " is outside its ", len, " tokens");
      std::memcpy(x + i * len * w, embeddings + i * len * w, len * w * sizeof(float));
      ctx.kernels.add(x + i * len * w, positional_embedding_.data(), len * w);
    }
    for (const auto& block : blocks_) block.forward(ctx, x, n, len, /*causal=*/true, ws);
    float* picked = nn::Workspace::ensure(ws.staging, n * w);
    for (std::size_t i = 0; i < n; ++i) std::memcpy(picked + i * w, x + (i * len + eot[i]) * w, w * sizeof(float));
    ln_final_.forward(ctx, picked, w, picked, w, n);
    proj_.forward(ctx, picked, n, w, out, embed_dim_);
  }

 private:
  TextConfig cfg_;
  std::size_t embed_dim_ = 0;
  AlignedBuffer<float> positional_embedding_;
  std::vector<nn::TransformerBlock> blocks_;
  nn::LayerNorm ln_final_;
  nn::Linear proj_;
};

}  // namespace clipcaer::models
