// CLIP-CAER's temporal encoder (Temporal_Transformer_Cls): [cls] + frame
// features + positions -> pre-norm blocks (tanh-GELU MLP) -> the cls row.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "clipcaer/models/config.hpp"
#include "clipcaer/nn/linear.hpp"
#include "clipcaer/nn/transformer_block.hpp"
#include "clipcaer/nn/workspace.hpp"

namespace clipcaer::models {

class TemporalEncoder {
 public:
  // prefix: "temporal_net." (faces) or "temporal_net_body." (context)
  void load(const nn::LoadContext& lc, const std::string& prefix, const TemporalConfig& c, std::size_t embed_dim) {
    cfg_ = c;
    dim_ = embed_dim;
    cls_token_ = lc.reader.floats(prefix + "cls_token", {1, 1, dim_});
    pos_embedding_ = lc.reader.floats(prefix + "pos_embedding", {1, c.num_frames + 1, dim_});
    blocks_.resize(c.depth);
    const nn::BlockShape shape{dim_, c.heads, c.dim_head, c.mlp_dim, kernels::Activation::gelu_tanh};
    for (std::size_t d = 0; d < c.depth; ++d)
      blocks_[d].load(lc, nn::BlockNames::temporal(prefix + "temporal_transformer.layers." + std::to_string(d) + "."),
                      shape);
  }

  std::size_t max_frames() const noexcept { return cfg_.num_frames; }

  // features: batch x frames x dim (frames <= max_frames: like the official
  // code, fewer frames use the first frames + 1 rows of the position table).
  // out: batch x dim.
  void forward(const ops::Context& ctx, const float* features, std::size_t batch, std::size_t frames, float* out,
               nn::Workspace& ws) const {
    require(frames >= 1 && frames <= cfg_.num_frames, ErrorCode::invalid_argument, "the temporal encoder takes 1 to ",
            cfg_.num_frames, " frames, got ", frames);
    const std::size_t seq = frames + 1;
    float* x = nn::Workspace::ensure(ws.tokens, batch * seq * dim_);
    for (std::size_t b = 0; b < batch; ++b) {
      float* xb = x + b * seq * dim_;
      std::memcpy(xb, cls_token_.data(), dim_ * sizeof(float));
      std::memcpy(xb + dim_, features + b * frames * dim_, frames * dim_ * sizeof(float));
      ctx.kernels.add(xb, pos_embedding_.data(), seq * dim_);
    }
    // The output is token 0: the last block computes only its row.
    nn::forward_to_first_rows(blocks_, ctx, x, batch, seq, dim_, /*causal=*/false, out, ws);
  }

 private:
  TemporalConfig cfg_;
  std::size_t dim_ = 0;
  AlignedBuffer<float> cls_token_, pos_embedding_;
  std::vector<nn::TransformerBlock> blocks_;
};

}  // namespace clipcaer::models
