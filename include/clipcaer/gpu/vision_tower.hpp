// CLIP's image tower on a gpu::Device: the same computation as
// models::VisionTransformer (patch conv -> [class] + positions -> ln_pre ->
// residual blocks -> ln_post(class token) @ proj), float32, weights resident
// on the device. Every GEMM is one (strided batched) cuBLAS call; attention
// is two batched GEMMs around a row softmax. Only the image tower runs on
// the GPU: it is ~97 % of a clip's work; the temporal encoders, the fusion
// head and the text tower stay on the CPU (docs/architecture.md, "CUDA").
#pragma once

#include <cmath>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/gpu/device.hpp"
#include "clipcaer/io/weight_reader.hpp"
#include "clipcaer/models/config.hpp"

namespace clipcaer::gpu {

class VisionTower {
 public:
  static constexpr float kEps = 1e-5f;

  void load(const io::WeightReader& r, const VisionConfig& c, std::size_t embed_dim, Device& d) {
    cfg_ = c;
    embed_dim_ = embed_dim;
    device_ = &d;
    const std::size_t w = c.width, p = c.patch_size;
    conv_ = up(r, "visual.conv1.weight", {w, 3, p, p});
    class_embedding_ = up(r, "visual.class_embedding", {w});
    positional_ = up(r, "visual.positional_embedding", {c.tokens(), w});
    ln_pre_ = norm(r, "visual.ln_pre", w);
    blocks_.clear();
    blocks_.resize(c.layers);
    for (std::size_t i = 0; i < c.layers; ++i) {
      const std::string pre = "visual.transformer.resblocks." + std::to_string(i) + ".";
      Block& b = blocks_[i];
      b.ln1 = norm(r, pre + "ln_1", w);
      b.qkv = linear(r, pre + "attn.in_proj_weight", pre + "attn.in_proj_bias", 3 * w, w);
      b.out = linear(r, pre + "attn.out_proj.weight", pre + "attn.out_proj.bias", w, w);
      b.ln2 = norm(r, pre + "ln_2", w);
      b.fc1 = linear(r, pre + "mlp.c_fc.weight", pre + "mlp.c_fc.bias", 4 * w, w);
      b.fc2 = linear(r, pre + "mlp.c_proj.weight", pre + "mlp.c_proj.bias", w, 4 * w);
    }
    ln_post_ = norm(r, "visual.ln_post", w);
    proj_ = up(r, "visual.proj", {w, embed_dim});
  }

  // images: n x 3 x S x S host floats (normalised as the model expects);
  // out: n x embed_dim host floats. One call at a time per tower (locked):
  // the device's queue and scratch are shared.
  void encode(const float* images, std::size_t n, float* out) const {
    require(device_ != nullptr, ErrorCode::internal, "GPU image tower used before load");
    std::lock_guard<std::mutex> lock(mutex_);
    Device& d = *device_;
    const std::size_t S = cfg_.image_size, P = cfg_.patch_size, G = cfg_.grid(), w = cfg_.width;
    const std::size_t patches = G * G, tokens = cfg_.tokens(), kdim = 3 * P * P, rows = n * tokens;
    const std::size_t heads = cfg_.heads, hd = w / heads;
    Scratch& s = scratch_;

    float* img = s.images.ensure(d, n * 3 * S * S);
    d.upload(img, images, n * 3 * S * S * sizeof(float));
    float* cols = s.cols.ensure(d, n * patches * kdim);
    d.launch(Im2colOp{img, cols, n, S, P, G});
    // tmp: the patch rows (n * patches <= rows) here, the blocks' GEMM outputs below.
    float* tmp = s.tmp.ensure(d, rows * w);
    d.gemm(linear_args(cols, n * patches, kdim, conv_.data(), w, tmp));
    float* x = s.x.ensure(d, rows * w);
    d.launch(EmbedTokensOp{tmp, class_embedding_.data(), positional_.data(), x, n, tokens, w});
    d.launch(layer_norm(ln_pre_, x, w, x, w, rows));

    float* normed = s.normed.ensure(d, rows * w);
    float* qkv = s.qkv.ensure(d, rows * 3 * w);
    float* q = s.q.ensure(d, rows * w);
    float* k = s.k.ensure(d, rows * w);
    float* v = s.v.ensure(d, rows * w);
    float* scores = s.scores.ensure(d, n * heads * tokens * tokens);
    float* o = s.o.ensure(d, rows * w);
    float* attended = s.attended.ensure(d, rows * w);
    float* hidden = s.hidden.ensure(d, rows * 4 * w);
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    for (const Block& b : blocks_) {
      d.launch(layer_norm(b.ln1, x, w, normed, w, rows));
      d.gemm(linear_args(normed, rows, w, b.qkv.weight.data(), 3 * w, qkv));
      d.launch(BiasActOp{qkv, b.qkv.bias.data(), nullptr, qkv, rows, 3 * w, GpuActivation::none});
      attention(q, k, v, qkv, scores, o, attended, n, tokens, heads, hd, scale);
      d.gemm(linear_args(attended, rows, w, b.out.weight.data(), w, tmp));
      d.launch(BiasActOp{tmp, b.out.bias.data(), x, x, rows, w, GpuActivation::none});
      d.launch(layer_norm(b.ln2, x, w, normed, w, rows));
      d.gemm(linear_args(normed, rows, w, b.fc1.weight.data(), 4 * w, hidden));
      d.launch(BiasActOp{hidden, b.fc1.bias.data(), nullptr, hidden, rows, 4 * w, GpuActivation::quick_gelu});
      d.gemm(linear_args(hidden, rows, 4 * w, b.fc2.weight.data(), w, tmp));
      d.launch(BiasActOp{tmp, b.fc2.bias.data(), x, x, rows, w, GpuActivation::none});
    }
    // ln_post of each image's class token (row 0, tokens * w apart), then proj.
    float* cls = s.cls.ensure(d, n * w);
    d.launch(layer_norm(ln_post_, x, tokens * w, cls, w, n));
    float* feats = s.features.ensure(d, n * embed_dim_);
    GemmArgs g;
    g.m = n, g.n = embed_dim_, g.k = w;
    g.a = cls, g.lda = w;
    g.b = proj_.data(), g.ldb = embed_dim_;
    g.c = feats, g.ldc = embed_dim_;
    d.gemm(g);
    d.download(out, feats, n * embed_dim_ * sizeof(float));
  }

 private:
  struct Norm {
    DeviceBuffer gamma, beta;
  };
  struct LinearWeights {
    DeviceBuffer weight, bias;  // (out, in), (out)
  };
  struct Block {
    Norm ln1, ln2;
    LinearWeights qkv, out, fc1, fc2;
  };
  // Activations, grown to the largest batch seen.
  struct Scratch {
    DeviceBuffer images, cols, x, normed, qkv, q, k, v, scores, o, attended, hidden, tmp, cls, features;
  };

  DeviceBuffer up(const io::WeightReader& r, const std::string& name, const Shape& shape) const {
    const AlignedBuffer<float> host = r.floats(name, shape);
    return upload_floats(*device_, host.data(), host.size());
  }
  Norm norm(const io::WeightReader& r, const std::string& prefix, std::size_t dim) const {
    return {up(r, prefix + ".weight", {dim}), up(r, prefix + ".bias", {dim})};
  }
  LinearWeights linear(const io::WeightReader& r, const std::string& weight, const std::string& bias,
                       std::size_t out, std::size_t in) const {
    return {up(r, weight, {out, in}), up(r, bias, {out})};
  }

  static LayerNormOp layer_norm(const Norm& nm, const float* x, std::size_t ldx, float* y, std::size_t ldy,
                                std::size_t rows) {
    return LayerNormOp{x, y, nm.gamma.data(), nm.beta.data(), rows, nm.gamma.size(), ldx, ldy, kEps};
  }

  // y (rows x out) = x (rows x in) * W^T, W stored (out, in) as in the file.
  static GemmArgs linear_args(const float* x, std::size_t rows, std::size_t in, const float* weight,
                              std::size_t out, float* y) {
    GemmArgs g;
    g.m = rows, g.n = out, g.k = in;
    g.a = x, g.lda = in;
    g.b = weight, g.ldb = in, g.b_transposed = true;
    g.c = y, g.ldc = out;
    return g;
  }

  // attended (n, tokens, w) = softmax(q k^T * scale) v per image and head.
  void attention(float* q, float* k, float* v, const float* qkv, float* scores, float* o, float* attended,
                 std::size_t n, std::size_t tokens, std::size_t heads, std::size_t hd, float scale) const {
    Device& d = *device_;
    d.launch(SplitHeadsOp{qkv, q, k, v, n, tokens, heads, hd});
    GemmArgs s;  // scores = scale * q k^T, one (tokens x tokens) per image and head
    s.m = tokens, s.n = tokens, s.k = hd;
    s.a = q, s.lda = hd, s.stride_a = tokens * hd;
    s.b = k, s.ldb = hd, s.stride_b = tokens * hd, s.b_transposed = true;
    s.c = scores, s.ldc = tokens, s.stride_c = tokens * tokens;
    s.batch = n * heads;
    s.alpha = scale;
    d.gemm(s);
    d.launch(SoftmaxRowsOp{scores, n * heads * tokens, tokens});
    GemmArgs pv;  // o = p v
    pv.m = tokens, pv.n = hd, pv.k = tokens;
    pv.a = scores, pv.lda = tokens, pv.stride_a = tokens * tokens;
    pv.b = v, pv.ldb = hd, pv.stride_b = tokens * hd;
    pv.c = o, pv.ldc = hd, pv.stride_c = tokens * hd;
    pv.batch = n * heads;
    d.gemm(pv);
    d.launch(MergeHeadsOp{o, attended, n, tokens, heads, hd});
  }

  VisionConfig cfg_;
  std::size_t embed_dim_ = 0;
  Device* device_ = nullptr;
  DeviceBuffer conv_, class_embedding_, positional_, proj_;
  Norm ln_pre_, ln_post_;
  std::vector<Block> blocks_;
  mutable std::mutex mutex_;
  mutable Scratch scratch_;
};

}  // namespace clipcaer::gpu
