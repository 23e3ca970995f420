// CLIP's image tower (OpenAI ViT layout): patch conv -> [class] + positions ->
// ln_pre -> residual blocks -> ln_post(class token) @ proj. The last block
// runs only the class token's row past its attention.
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

class VisionTransformer {
 public:
  void load(const nn::LoadContext& lc, const VisionConfig& c, std::size_t embed_dim) {
    cfg_ = c;
    embed_dim_ = embed_dim;
    const std::size_t w = c.width, p = c.patch_size;
    // conv1.weight (W, 3, P, P) is already the (W, 3*P*P) matrix for im2col rows (c, ky, kx).
    AlignedBuffer<float> conv = lc.reader.floats("visual.conv1.weight", {w, 3, p, p});
    // lc.weight_type applies to the residual blocks, patch_embed_type() to the
    // first layer; the projection stays float32.
    const nn::LoadContext f32{lc.reader, lc.kernels, kernels::WeightType::f32};
    patch_embed_.set({lc.reader, lc.kernels, patch_embed_type(lc.weight_type)}, conv.data(), w, 3 * p * p);
    class_embedding_ = lc.reader.floats("visual.class_embedding", {w});
    positional_embedding_ = lc.reader.floats("visual.positional_embedding", {c.tokens(), w});
    ln_pre_.load(lc, "visual.ln_pre", w);
    blocks_.resize(c.layers);
    const nn::BlockShape shape{w, c.heads, w / c.heads, 4 * w, kernels::Activation::quick_gelu};
    for (std::size_t i = 0; i < c.layers; ++i)
      blocks_[i].load(lc, nn::BlockNames::clip("visual.transformer.resblocks." + std::to_string(i) + "."), shape);
    ln_post_.load(lc, "visual.ln_post", w);
    proj_.load_transposed(f32, "visual.proj", w, embed_dim);
  }

  // The first layer's (raw pixels) storage for the blocks' type: float32 for
  // float32 and bfloat16, bfloat16 for int8. int8 there doubled the demo
  // model's logits error, while float32 there was ~8 % of an int8 clip
  // (docs/performance.md, "What is reduced").
  static kernels::WeightType patch_embed_type(kernels::WeightType blocks) noexcept {
    return blocks == kernels::WeightType::i8 ? kernels::WeightType::bf16 : kernels::WeightType::f32;
  }

  const VisionConfig& config() const noexcept { return cfg_; }
  const nn::Linear& patch_embed() const noexcept { return patch_embed_; }
  std::size_t embed_dim() const noexcept { return embed_dim_; }

  // images: n x 3 x S x S floats (already normalised as the model expects);
  // out: n x embed_dim image features (not L2-normalised).
  void encode(const ops::Context& ctx, const float* images, std::size_t n, float* out, nn::Workspace& ws) const {
    const std::size_t S = cfg_.image_size, P = cfg_.patch_size, G = cfg_.grid(), w = cfg_.width;
    const std::size_t patches = G * G, tokens = cfg_.tokens(), kdim = 3 * P * P;

    // im2col: one row of 3*P*P pixels per patch.
    float* cols = nn::Workspace::ensure(ws.staging, n * patches * kdim);
    ctx.pool.parallel_for(n, [&](std::size_t img) {
      const float* src = images + img * 3 * S * S;
      for (std::size_t gy = 0; gy < G; ++gy)
        for (std::size_t gx = 0; gx < G; ++gx) {
          float* row = cols + (img * patches + gy * G + gx) * kdim;
          for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t ky = 0; ky < P; ++ky)
              std::memcpy(row + (c * P + ky) * P, src + (c * S + gy * P + ky) * S + gx * P, P * sizeof(float));
        }
    });
    float* embedded = nn::Workspace::ensure(ws.attended, n * patches * w);
    patch_embed_.forward(ctx, cols, n * patches, kdim, embedded, w);

    // Token rows: [class_embedding, patches...] + positional_embedding, then ln_pre.
    float* x = nn::Workspace::ensure(ws.tokens, n * tokens * w);
    ctx.pool.parallel_for(n, [&](std::size_t img) {
      float* xi = x + img * tokens * w;
      std::memcpy(xi, class_embedding_.data(), w * sizeof(float));
      std::memcpy(xi + w, embedded + img * patches * w, patches * w * sizeof(float));
      ctx.kernels.add(xi, positional_embedding_.data(), tokens * w);
    });
    ln_pre_.forward(ctx, x, w, x, w, n * tokens);

    // The output reads only the class token, so the last block computes only
    // its row.
    float* cls = nn::Workspace::ensure(ws.staging, n * w);
    nn::forward_to_first_rows(blocks_, ctx, x, n, tokens, w, /*causal=*/false, cls, ws);
    // ln_post on each image's class token, then the projection.
    ln_post_.forward(ctx, cls, w, cls, w, n);
    proj_.forward(ctx, cls, n, w, out, embed_dim_);
  }

 private:
  VisionConfig cfg_;
  std::size_t embed_dim_ = 0;
  nn::Linear patch_embed_;
  AlignedBuffer<float> class_embedding_, positional_embedding_;
  nn::LayerNorm ln_pre_, ln_post_;
  std::vector<nn::TransformerBlock> blocks_;
  nn::Linear proj_;
};

}  // namespace clipcaer::models
