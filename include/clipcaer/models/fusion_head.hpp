// CLIP-CAER's head: v = project_fc([face, context]); v /= |v|;
// logits = logit_scale * v . t_c over the cached, normalised text features.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>

#include "clipcaer/core/tensor.hpp"
#include "clipcaer/nn/linear.hpp"
#include "clipcaer/nn/workspace.hpp"

namespace clipcaer::models {

// Rows of x (n x dim) divided by their L2 norm, as `x / x.norm(dim=-1, keepdim=True)`.
inline void l2_normalize_rows(const kernels::KernelTable& k, float* x, std::size_t n, std::size_t dim) {
  for (std::size_t i = 0; i < n; ++i) {
    float* row = x + i * dim;
    k.scale(row, 1.0f / std::sqrt(k.dot(row, row, dim)), dim);
  }
}

class FusionHead {
 public:
  void load(const nn::LoadContext& lc, std::size_t embed_dim, float logit_scale) {
    dim_ = embed_dim;
    logit_scale_ = logit_scale;
    project_fc_.load(lc, "project_fc.weight", "project_fc.bias", dim_, 2 * dim_);
  }

  // face, context: n x dim; fused: n x dim, L2-normalised.
  void fuse(const ops::Context& ctx, const float* face, const float* context, std::size_t n, float* fused,
            nn::Workspace& ws) const {
    float* cat = nn::Workspace::ensure(ws.staging, n * 2 * dim_);
    for (std::size_t i = 0; i < n; ++i) {
      std::memcpy(cat + i * 2 * dim_, face + i * dim_, dim_ * sizeof(float));
      std::memcpy(cat + i * 2 * dim_ + dim_, context + i * dim_, dim_ * sizeof(float));
    }
    project_fc_.forward(ctx, cat, n, 2 * dim_, fused, dim_);
    l2_normalize_rows(ctx.kernels, fused, n, dim_);
  }

  // fused: n x dim; text: classes x dim (normalised); logits: n x classes.
  void logits(const kernels::KernelTable& k, const float* fused, std::size_t n, const Tensor& text,
              float* out) const {
    const std::size_t classes = text.dim(0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < classes; ++c)
        out[i * classes + c] = logit_scale_ * k.dot(fused + i * dim_, text.row(c), dim_);
  }

 private:
  std::size_t dim_ = 0;
  float logit_scale_ = 100.0f;
  nn::Linear project_fc_;
};

}  // namespace clipcaer::models
