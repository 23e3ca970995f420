// LayerNorm over the last dimension (eps 1e-5 everywhere in CLIP-CAER).
#pragma once

#include <cstddef>
#include <string>

#include "clipcaer/nn/linear.hpp"
#include "clipcaer/ops/layer_norm.hpp"

namespace clipcaer::nn {

class LayerNorm {
 public:
  static constexpr float kEps = 1e-5f;

  void load(const LoadContext& lc, const std::string& prefix, std::size_t dim) {
    gamma_ = lc.reader.floats(prefix + ".weight", {dim});
    beta_ = lc.reader.floats(prefix + ".bias", {dim});
    dim_ = dim;
  }

  std::size_t dim() const noexcept { return dim_; }

  void forward(const ops::Context& ctx, const float* x, std::size_t ldx, float* y, std::size_t ldy,
               std::size_t rows) const {
    ops::layer_norm(ctx, x, ldx, y, ldy, rows, dim_, gamma_.data(), beta_.data(), kEps);
  }

  // The same on the calling thread.
  void forward_serial(const ops::Context& ctx, const float* x, std::size_t ldx, float* y, std::size_t ldy,
                      std::size_t rows) const {
    ctx.kernels.layer_norm(x, ldx, y, ldy, rows, dim_, gamma_.data(), beta_.data(), kEps);
  }

 private:
  AlignedBuffer<float> gamma_, beta_;
  std::size_t dim_ = 0;
};

}  // namespace clipcaer::nn
