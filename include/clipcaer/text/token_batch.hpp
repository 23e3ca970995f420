// The output of Tokenizer::tokenize: one row of token ids per text, zero-padded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace clipcaer::text {

struct TokenBatch {
  std::size_t rows = 0;  // texts
  std::size_t cols = 0;  // context length
  std::vector<std::int32_t> ids;  // rows * cols, row-major

  const std::int32_t* row(std::size_t r) const noexcept { return ids.data() + r * cols; }
  std::int32_t at(std::size_t r, std::size_t c) const noexcept { return ids[r * cols + c]; }
};

}  // namespace clipcaer::text
