// The CLIP BPE vocabulary, built from the merges file as simple_tokenizer.py
// builds it: 256 byte tokens, their 256 end-of-word ("</w>") forms, one token
// per merge for the first 48894 merges, then <|startoftext|> and
// <|endoftext|>: 49408 tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <functional>
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
  Vocabulary(std::string_view text, const std::string& source) : merge_slots_(kSlots) {
    SpellingIndex spellings;  // token spelling (UTF-8, as in the file) -> id, while reading
    bytes_offset_.reserve(kSize + 1);
    bytes_offset_.push_back(0);
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
        spellings.add(spelling);
        add_token_bytes(bytes);
      }
    }

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
      const std::string_view left = line.substr(0, space), right = line.substr(space + 1);
      const std::int32_t left_id = known_token(spellings, left, source, line_number);
      const std::int32_t right_id = known_token(spellings, right, source, line_number);
      // Each merged spelling is new: then a pair is only ever formed after the
      // merges that made its parts, which the heap order of bpe.hpp relies on.
      std::string merged(left);
      merged += right;
      require(*spellings.slot_of(merged) < 0 && merged != "<|startoftext|>" && merged != "<|endoftext|>",
              ErrorCode::format, source, ": line ", line_number, " merges into '", merged,
              "', which is already a token");
      const std::int32_t result = spellings.add(merged);
      add_token_bytes(std::string(token_bytes(left_id)) + std::string(token_bytes(right_id)));
      MergeSlot* slot = merge_slot(pair_key(left_id, right_id));
      *slot = {pair_key(left_id, right_id), Merge{rank, result}};
    }
    add_token_bytes("<|startoftext|>");
    add_token_bytes("<|endoftext|>");
  }

  std::size_t size() const noexcept { return bytes_offset_.size() - 1; }

  // The merge of two adjacent tokens, or nullptr.
  const Merge* find_merge(std::int32_t left, std::int32_t right) const noexcept {
    const std::uint64_t key = pair_key(left, right);
    for (std::size_t h = slot_hash(key);; h = (h + 1) & (kSlots - 1)) {
      const MergeSlot& s = merge_slots_[h];
      if (s.key == key) return &s.merge;
      if (s.key == kEmptyKey) return nullptr;
    }
  }

  // The bytes a token stands for; end-of-word tokens end in "</w>".
  std::string_view token_bytes(std::int32_t id) const {
    require(id >= 0 && static_cast<std::size_t>(id) < size(), ErrorCode::invalid_argument, "token id ", id,
            " is outside the vocabulary [0, ", size(), ")");
    const auto i = static_cast<std::size_t>(id);
    return std::string_view(bytes_arena_).substr(bytes_offset_[i], bytes_offset_[i + 1] - bytes_offset_[i]);
  }

  static std::int32_t byte_token(unsigned char byte) noexcept { return kByteTokenIds[byte]; }
  static std::int32_t end_of_word_byte_token(unsigned char byte) noexcept {
    return kByteTokenIds[byte] + kEndOfWordOffset;
  }

 private:
  // Open-addressing tables (no allocation per entry): 2^17 slots keep the
  // ~49k entries at a low load factor.
  static constexpr int kSlotBits = 17;
  static constexpr std::size_t kSlots = std::size_t{1} << kSlotBits;
  static_assert(2 * kSize <= kSlots, "hash tables too small for the vocabulary");
  static constexpr std::uint64_t kEmptyKey = ~std::uint64_t{0};  // ids < 2^31 never make it

  struct MergeSlot {
    std::uint64_t key = kEmptyKey;
    Merge merge{};
  };

  // Token spellings in one buffer, indexed by a hash table of ids.
  struct SpellingIndex {
    std::string arena;
    std::vector<std::uint32_t> offset{0};
    std::vector<std::int32_t> slots = std::vector<std::int32_t>(kSlots, -1);

    std::string_view spelling(std::int32_t id) const {
      const auto i = static_cast<std::size_t>(id);
      return std::string_view(arena).substr(offset[i], offset[i + 1] - offset[i]);
    }
    // The slot holding s, or the empty slot (-1) where it would go.
    std::int32_t* slot_of(std::string_view s) {
      std::size_t h = std::hash<std::string_view>()(s) & (kSlots - 1);
      while (slots[h] >= 0 && spelling(slots[h]) != s) h = (h + 1) & (kSlots - 1);
      return &slots[h];
    }
    std::int32_t add(std::string_view s) {
      const auto id = static_cast<std::int32_t>(offset.size() - 1);
      *slot_of(s) = id;
      arena.append(s.data(), s.size());
      offset.push_back(static_cast<std::uint32_t>(arena.size()));
      return id;
    }
  };

  static std::uint64_t pair_key(std::int32_t left, std::int32_t right) noexcept {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) | static_cast<std::uint32_t>(right);
  }
  static std::size_t slot_hash(std::uint64_t key) noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - kSlotBits));  // Fibonacci hashing
  }
  MergeSlot* merge_slot(std::uint64_t key) noexcept {
    std::size_t h = slot_hash(key);
    while (merge_slots_[h].key != kEmptyKey && merge_slots_[h].key != key) h = (h + 1) & (kSlots - 1);
    return &merge_slots_[h];
  }

  void add_token_bytes(std::string_view bytes) {
    bytes_arena_.append(bytes.data(), bytes.size());
    bytes_offset_.push_back(static_cast<std::uint32_t>(bytes_arena_.size()));
  }

  static unsigned byte_of_token(std::int32_t id) noexcept {
    for (unsigned b = 0; b < 256; ++b)
      if (kByteTokenIds[b] == id) return b;
    return 0;
  }

  static std::int32_t known_token(SpellingIndex& spellings, std::string_view token, const std::string& source,
                                  std::size_t line_number) {
    const std::int32_t id = *spellings.slot_of(token);
    require(id >= 0, ErrorCode::format, source, ": line ", line_number, ": '", token.substr(0, 80),
            "' is neither a byte token nor the result of an earlier merge");
    return id;
  }

  std::string bytes_arena_;                   // the bytes of every token, back to back
  std::vector<std::uint32_t> bytes_offset_;   // token id -> its start in bytes_arena_; size() + 1 entries
  std::vector<MergeSlot> merge_slots_;        // (left << 32 | right) -> merge
};

}  // namespace clipcaer::text
