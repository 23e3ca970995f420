// The CLIP BPE vocabulary, built from the merges file as simple_tokenizer.py
// builds it: 256 byte tokens, their 256 end-of-word ("</w>") forms, one token
// per merge for the first 48894 merges, then <|startoftext|> and
// <|endoftext|>: 49408 tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/text/byte_encoder.hpp"
#include "clipcaer/text/utf8.hpp"

namespace clipcaer::text {

class Vocabulary {
 public:
  static constexpr std::int32_t kMergeCount = 49152 - 256 - 2;  // merges CLIP reads from the file
  static constexpr std::int32_t kSize = 512 + kMergeCount + 2;
  static constexpr std::int32_t kStartOfText = kSize - 2;
  static constexpr std::int32_t kEndOfText = kSize - 1;

  struct Merge {
    std::int32_t rank;    // line order: lower merges first
    std::int32_t result;  // token id of the merged pair
  };

  // `text`: the merges file, inflated. Its first line is a header (ignored, as
  // by CLIP), then at least kMergeCount lines "left right"; later lines are
  // ignored. `source` names the file in errors.
  Vocabulary(std::string_view text, const std::string& source) {
    std::unordered_map<std::string, std::int32_t> ids;  // token spelling (UTF-8) -> id
    ids.reserve(kSize);
    token_bytes_.reserve(kSize);
    for (int end_of_word = 0; end_of_word < 2; ++end_of_word) {
      for (std::int32_t id = 0; id < 256; ++id) {
        const unsigned byte = byte_of_token(id);
        std::string spelling;
        append_utf8(spelling, kByteToChar[byte]);
        std::string bytes(1, static_cast<char>(byte));
        if (end_of_word) {
          spelling += "</w>";
          bytes += "</w>";
        }
        ids.emplace(std::move(spelling), static_cast<std::int32_t>(token_bytes_.size()));
        token_bytes_.push_back(std::move(bytes));
      }
    }

    merges_.reserve(2 * kMergeCount);
    std::size_t pos = text.find('\n');  // skip the header line
    for (std::int32_t rank = 0; rank < kMergeCount; ++rank) {
      const std::size_t line_number = static_cast<std::size_t>(rank) + 2;
      require(pos != std::string_view::npos && pos + 1 < text.size(), ErrorCode::format, source, ": has ", rank,
              " merge lines after the header; CLIP's vocabulary needs ", kMergeCount);
      const std::size_t begin = pos + 1;
      pos = text.find('\n', begin);
      std::string_view line = text.substr(begin, pos == std::string_view::npos ? std::string_view::npos : pos - begin);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const std::size_t space = line.find(' ');
      require(space != std::string_view::npos && space > 0 && space + 1 < line.size() &&
                  line.find_first_of(" \t", space + 1) == std::string_view::npos,
              ErrorCode::format, source, ": line ", line_number, " is not a merge 'left right': '",
              line.substr(0, 80), "'");
      const std::string left(line.substr(0, space)), right(line.substr(space + 1));
      const std::int32_t left_id = known_token(ids, left, source, line_number);
      const std::int32_t right_id = known_token(ids, right, source, line_number);
      const std::int32_t result = static_cast<std::int32_t>(token_bytes_.size());
      // Each merged spelling is new: then a pair is only ever formed after the
      // merges that made its parts, which the heap order of bpe.hpp relies on.
      const bool is_new = ids.emplace(left + right, result).second && left + right != "<|startoftext|>" &&
                          left + right != "<|endoftext|>";
      require(is_new, ErrorCode::format, source, ": line ", line_number, " merges into '", left + right,
              "', which is already a token");
      token_bytes_.push_back(token_bytes_[left_id] + token_bytes_[right_id]);
      merges_.emplace(pair_key(left_id, right_id), Merge{rank, result});
    }
    token_bytes_.emplace_back("<|startoftext|>");
    token_bytes_.emplace_back("<|endoftext|>");
  }

  std::size_t size() const noexcept { return token_bytes_.size(); }

  // The merge of two adjacent tokens, or nullptr.
  const Merge* find_merge(std::int32_t left, std::int32_t right) const {
    const auto it = merges_.find(pair_key(left, right));
    return it == merges_.end() ? nullptr : &it->second;
  }

  // The bytes a token stands for; end-of-word tokens end in "</w>".
  const std::string& token_bytes(std::int32_t id) const {
    require(id >= 0 && static_cast<std::size_t>(id) < token_bytes_.size(), ErrorCode::invalid_argument, "token id ",
            id, " is outside the vocabulary [0, ", token_bytes_.size(), ")");
    return token_bytes_[static_cast<std::size_t>(id)];
  }

  static std::int32_t byte_token(unsigned char byte) noexcept { return kByteTokenIds[byte]; }
  static std::int32_t end_of_word_byte_token(unsigned char byte) noexcept {
    return kByteTokenIds[byte] + kEndOfWordOffset;
  }

 private:
  static std::uint64_t pair_key(std::int32_t left, std::int32_t right) noexcept {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) | static_cast<std::uint32_t>(right);
  }

  static unsigned byte_of_token(std::int32_t id) noexcept {
    for (unsigned b = 0; b < 256; ++b)
      if (kByteTokenIds[b] == id) return b;
    return 0;
  }

  static std::int32_t known_token(const std::unordered_map<std::string, std::int32_t>& ids, const std::string& token,
                                  const std::string& source, std::size_t line_number) {
    const auto it = ids.find(token);
    require(it != ids.end(), ErrorCode::format, source, ": line ", line_number, ": '", token.substr(0, 80),
            "' is neither a byte token nor the result of an earlier merge");
    return it->second;
  }

  std::vector<std::string> token_bytes_;             // by id
  std::unordered_map<std::uint64_t, Merge> merges_;  // (left << 32 | right) -> merge
};

}  // namespace clipcaer::text
