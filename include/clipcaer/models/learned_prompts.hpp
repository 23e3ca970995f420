// The prompt learner's output: per class [SOT, ctx_1..ctx_n, descriptor
// tokens, EOT, ...] as text-tower input embeddings (computed once at load).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "clipcaer/core/tensor.hpp"
#include "clipcaer/io/weight_reader.hpp"
#include "clipcaer/models/config.hpp"

namespace clipcaer::models {

// Returns (C, len, Wt) embeddings with len = max EOT position + 1: the text
// tower is causal, so rows after a class's EOT cannot change its output.
inline Tensor learned_prompt_embeddings(const io::WeightReader& reader, const ModelConfig& cfg) {
  const std::size_t C = cfg.num_classes(), n_ctx = cfg.n_ctx, W = cfg.text.width, L = cfg.text.context_length;
  require(L > 1 + n_ctx, ErrorCode::format, "weights file '", reader.file().path(), "': n_ctx ", n_ctx,
          " leaves no room in a ", L, "-token prompt");
  const std::size_t suffix_rows = L - 1 - n_ctx;
  auto prefix = reader.floats("prompt_learner.token_prefix", {C, 1, W});
  auto suffix = reader.floats("prompt_learner.token_suffix", {C, suffix_rows, W});
  auto ctx = cfg.class_specific_ctx ? reader.floats("prompt_learner.ctx", {C, n_ctx, W})
                                    : reader.floats("prompt_learner.ctx", {n_ctx, W});
  const std::size_t len = *std::max_element(cfg.eot_positions.begin(), cfg.eot_positions.end()) + 1;
  Tensor out({C, len, W});
  for (std::size_t c = 0; c < C; ++c) {
    float* dst = out.data() + c * len * W;
    std::memcpy(dst, prefix.data() + c * W, W * sizeof(float));
    const float* ctx_c = ctx.data() + (cfg.class_specific_ctx ? c * n_ctx * W : 0);
    std::memcpy(dst + W, ctx_c, n_ctx * W * sizeof(float));
    std::memcpy(dst + (1 + n_ctx) * W, suffix.data() + c * suffix_rows * W, (len - 1 - n_ctx) * W * sizeof(float));
  }
  return out;
}

}  // namespace clipcaer::models
