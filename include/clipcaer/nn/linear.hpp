// Linear: y = act(x W^T + b) [+ residual], weights packed once at load.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "clipcaer/core/aligned_buffer.hpp"
#include "clipcaer/io/weight_reader.hpp"
#include "clipcaer/kernels/kernel_table.hpp"
#include "clipcaer/ops/linear.hpp"

namespace clipcaer::nn {

struct LoadContext {
  const io::WeightReader& reader;
  const kernels::KernelTable& kernels;
  kernels::WeightType weight_type = kernels::WeightType::f32;
};

class Linear {
 public:
  // weight (out, in) and an optional bias (out); empty bias name = no bias.
  void load(const LoadContext& lc, const std::string& weight, const std::string& bias, std::size_t out,
            std::size_t in) {
    lc.reader.with_floats(weight, {out, in}, [&](const float* w) { set(lc, w, out, in); });
    if (!bias.empty()) bias_ = lc.reader.floats(bias, {out});
  }

  // A projection stored as (in, out) and applied as x @ P (CLIP's `proj`).
  void load_transposed(const LoadContext& lc, const std::string& name, std::size_t in, std::size_t out) {
    AlignedBuffer<float> p = lc.reader.floats(name, {in, out});
    AlignedBuffer<float> w(out * in);
    for (std::size_t i = 0; i < in; ++i)
      for (std::size_t o = 0; o < out; ++o) w[o * in + i] = p[i * out + o];
    set(lc, w.data(), out, in);
  }

  // From floats already in memory (out x in, row-major).
  void set(const LoadContext& lc, const float* w, std::size_t out, std::size_t in) {
    lc.kernels.pack_weights(w, out, in, lc.weight_type, weight_);
    weight_.packer = &lc.kernels;
  }

  std::size_t in_features() const noexcept { return weight_.k; }
  std::size_t out_features() const noexcept { return weight_.n; }
  const kernels::PackedMatrix& packed() const noexcept { return weight_; }
  const float* bias() const noexcept { return bias_.empty() ? nullptr : bias_.data(); }

  void forward(const ops::Context& ctx, const float* x, std::size_t m, std::size_t ldx, float* y, std::size_t ldy,
               kernels::Activation act = kernels::Activation::none, const float* residual = nullptr,
               std::size_t ldr = 0) const {
    ops::linear(ctx, x, m, ldx, weight_, bias(), act, {y, ldy, residual, ldr});
  }

  // Columns [n0, n1) of forward() (ops::linear_columns: ends on panel bounds).
  void forward_columns(const ops::Context& ctx, const float* x, std::size_t m, std::size_t ldx, float* y,
                       std::size_t ldy, std::size_t n0, std::size_t n1) const {
    ops::linear_columns(ctx, x, m, ldx, weight_, bias(), kernels::Activation::none, {y, ldy}, n0, n1);
  }

  // Rows [r0, r1) of forward(), on the calling thread.
  void forward_rows(const ops::Context& ctx, const float* x, std::size_t m, std::size_t ldx, float* y,
                    std::size_t ldy, kernels::Activation act, const float* residual, std::size_t ldr, std::size_t r0,
                    std::size_t r1) const {
    ops::linear_rows(ctx, x, m, ldx, weight_, bias(), act, {y, ldy, residual, ldr}, r0, r1);
  }

 private:
  kernels::PackedMatrix weight_;
  AlignedBuffer<float> bias_;
};

}  // namespace clipcaer::nn
