// CLIP's token embedding table, read lazily from the memory-mapped weights
// file: a prompt needs a few dozen of its 49408 rows, so copying the whole
// (V, Wt) table (100 MB for ViT-B/32) at load would be waste.
#pragma once

#include <cstddef>
#include <cstdint>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/weight_reader.hpp"
#include "clipcaer/models/config.hpp"

namespace clipcaer::models {

class TokenEmbedding {
 public:
  // Checks dtype and shape once; keeps a view into the mapping, which must
  // outlive this object (Model owns both).
  void load(const io::WeightReader& reader, const TextConfig& c) {
    table_ = &reader.expect("token_embedding.weight", {c.vocab_size, c.width});
    vocab_size_ = c.vocab_size;
    width_ = c.width;
  }

  std::size_t vocab_size() const noexcept { return vocab_size_; }

  // Throws unless every id of the n x len batch is in [0, V); names the first bad one.
  void check_ids(const std::int32_t* ids, std::size_t n, std::size_t len) const {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < len; ++j) {
        const std::int32_t id = ids[i * len + j];
        require(id >= 0 && static_cast<std::size_t>(id) < vocab_size_, ErrorCode::invalid_argument, "token id ", id,
                " at text ", i, ", position ", j, " is outside the vocabulary [0, ", vocab_size_, ")");
      }
  }

  // ids: n rows of `stride` ids, of which the first `len` are embedded;
  // out: n x len x width floats. Ids must have passed check_ids.
  void gather(const std::int32_t* ids, std::size_t n, std::size_t stride, std::size_t len, float* out) const {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < len; ++j)
        io::WeightReader::to_float(*table_, static_cast<std::size_t>(ids[i * stride + j]) * width_, width_,
                                   out + (i * len + j) * width_);
  }

 private:
  const io::TensorInfo* table_ = nullptr;
  std::size_t vocab_size_ = 0, width_ = 0;
};

}  // namespace clipcaer::models
