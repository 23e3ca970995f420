// TextHead: class names and their (C, E) L2-normalised text features, the
// classifier of a zero-shot or fine-tuned CLIP. Made by a Model (learned
// prompts, prompt ensembles) or by combine_heads; tied to that model.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/core/tensor.hpp"

namespace clipcaer {

class TextHead {
 public:
  TextHead() = default;
  // features: (C, E), rows L2-normalised; model_id: the Model it belongs to.
  TextHead(std::vector<std::string> names, std::shared_ptr<const Tensor> features, std::uint64_t model_id)
      : names_(std::move(names)), features_(std::move(features)), model_id_(model_id) {
    require(features_ && features_->ndim() == 2 && features_->dim(0) == names_.size() && !names_.empty(),
            ErrorCode::invalid_argument, "a text head needs one feature row per class and at least one class");
  }

  bool empty() const noexcept { return names_.empty(); }
  std::size_t num_classes() const noexcept { return names_.size(); }
  std::size_t embed_dim() const { return features_ ? features_->dim(1) : 0; }
  const std::vector<std::string>& names() const noexcept { return names_; }
  const Tensor& features() const {
    require(features_ != nullptr, ErrorCode::invalid_argument, "empty text head");
    return *features_;
  }
  std::uint64_t model_id() const noexcept { return model_id_; }
  // Heads sharing storage (a cache hit, or copies of one head).
  bool shares_features_with(const TextHead& o) const noexcept { return features_ && features_ == o.features_; }

 private:
  std::vector<std::string> names_;
  std::shared_ptr<const Tensor> features_;
  std::uint64_t model_id_ = 0;
};

namespace text {

// row /= |row|, the norm accumulated in double (rows are short; exactness
// over speed). A zero row stays zero rather than becoming NaN.
inline void normalize_row(float* row, std::size_t dim) {
  double ss = 0;
  for (std::size_t i = 0; i < dim; ++i) ss += static_cast<double>(row[i]) * row[i];
  if (ss == 0) return;
  const double inv = 1.0 / std::sqrt(ss);
  for (std::size_t i = 0; i < dim; ++i) row[i] = static_cast<float>(row[i] * inv);
}

// CLIP's prompt ensemble: rows (sum(counts) x dim) are encoded prompts, class
// c owning the next counts[c] rows; out (C x dim) = normalise(mean(normalise(row))).
inline Tensor ensemble_features(const float* rows, const std::vector<std::size_t>& counts, std::size_t dim) {
  Tensor out = Tensor::zeros({counts.size(), dim});
  std::vector<float> row(dim);
  std::size_t r = 0;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    require(counts[c] >= 1, ErrorCode::invalid_argument, "class ", c, " has no prompts");
    std::vector<double> sum(dim, 0.0);
    for (std::size_t k = 0; k < counts[c]; ++k, ++r) {
      row.assign(rows + r * dim, rows + (r + 1) * dim);
      normalize_row(row.data(), dim);
      for (std::size_t i = 0; i < dim; ++i) sum[i] += row[i];
    }
    for (std::size_t i = 0; i < dim; ++i) out.row(c)[i] = static_cast<float>(sum[i] / static_cast<double>(counts[c]));
    normalize_row(out.row(c), dim);
  }
  return out;
}

}  // namespace text

// normalise((1 - weight) * a + weight * b) per class: weight 0 gives a, 1 gives b.
// Both heads must come from one model and list the same classes in the same order.
inline TextHead combine_heads(const TextHead& a, const TextHead& b, float weight = 0.5f) {
  require(!a.empty() && !b.empty(), ErrorCode::invalid_argument, "combine_heads: empty head");
  require(a.model_id() == b.model_id(), ErrorCode::invalid_argument,
          "combine_heads: the heads come from different models");
  require(a.num_classes() == b.num_classes(), ErrorCode::invalid_argument, "combine_heads: class counts differ (",
          a.num_classes(), " vs ", b.num_classes(), ")");
  for (std::size_t c = 0; c < a.num_classes(); ++c)
    require(a.names()[c] == b.names()[c], ErrorCode::invalid_argument, "combine_heads: class ", c, " is '",
            a.names()[c], "' in one head and '", b.names()[c], "' in the other");
  require(std::isfinite(weight) && weight >= 0.0f && weight <= 1.0f, ErrorCode::invalid_argument,
          "combine_heads: weight ", weight, " is outside [0, 1]");
  const std::size_t C = a.num_classes(), E = a.embed_dim();
  auto out = std::make_shared<Tensor>(Shape{C, E});
  for (std::size_t c = 0; c < C; ++c) {
    for (std::size_t i = 0; i < E; ++i)
      out->row(c)[i] = static_cast<float>((1.0 - weight) * a.features().row(c)[i] + double{weight} * b.features().row(c)[i]);
    text::normalize_row(out->row(c), E);
  }
  return TextHead(a.names(), std::move(out), a.model_id());
}

}  // namespace clipcaer
