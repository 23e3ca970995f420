// clipcaer::text::Tokenizer: OpenAI CLIP's BPE tokenizer (simple_tokenizer.py
// and clip.tokenize) in C++, minus ftfy.fix_text. See docs/text.md.
//
// Thread safety: a Tokenizer is immutable after construction except for its
// word cache, which is locked; every const member function may be called from
// several threads at once on the same Tokenizer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/text/bpe.hpp"
#include "clipcaer/text/clean.hpp"
#include "clipcaer/text/gzip.hpp"
#include "clipcaer/text/token_batch.hpp"
#include "clipcaer/text/utf8.hpp"
#include "clipcaer/text/vocabulary.hpp"
#include "clipcaer/text/word_cache.hpp"
#include "clipcaer/text/word_split.hpp"

namespace clipcaer::text {

class Tokenizer {
 public:
  static constexpr std::size_t kDefaultContextLength = 77;
  static constexpr std::int32_t kStartOfText = Vocabulary::kStartOfText;  // 49406
  static constexpr std::int32_t kEndOfText = Vocabulary::kEndOfText;      // 49407

  // From the gzip merges file (bpe_simple_vocab_16e6.txt.gz).
  explicit Tokenizer(const std::string& merges_gz_path) : Tokenizer(read_gzip_file(merges_gz_path), "'" + merges_gz_path + "'") {}

  // From the gzip file's bytes in memory, e.g. a weights file's tokenizer.bpe_vocab_gz tensor.
  static Tokenizer from_gzip_bytes(const void* data, std::size_t size, const std::string& source = "gzip bytes") {
    return Tokenizer(gunzip(data, size, source), source);
  }

  // From the merges file's inflated text.
  static Tokenizer from_merges_text(std::string_view text, const std::string& source = "merges text") {
    return Tokenizer(text, source);
  }

  std::size_t vocab_size() const noexcept { return vocab_.size(); }
  const Vocabulary& vocabulary() const noexcept { return vocab_; }

  // Token ids of a UTF-8 text, without <|startoftext|> / <|endoftext|>.
  std::vector<std::int32_t> encode(std::string_view text) const {
    std::vector<std::int32_t> ids;
    encode_into(text, "text", ids, static_cast<std::size_t>(-1));
    return ids;
  }

  // clip.tokenize: per text <|startoftext|>, its tokens, <|endoftext|>, zeros
  // up to context_length. A longer text is cut to context_length tokens ending
  // in <|endoftext|> when truncate is set, and is an error otherwise.
  TokenBatch tokenize(const std::vector<std::string>& texts, std::size_t context_length = kDefaultContextLength,
                      bool truncate = true) const {
    require(context_length >= 2, ErrorCode::invalid_argument, "context_length must be at least 2 (room for ",
            "<|startoftext|> and <|endoftext|>), got ", context_length);
    require(texts.empty() || context_length <= static_cast<std::size_t>(-1) / sizeof(std::int32_t) / texts.size(),
            ErrorCode::invalid_argument, "tokenize: ", texts.size(), " texts x context_length ", context_length,
            " is too large");
    TokenBatch batch;
    batch.rows = texts.size();
    batch.cols = context_length;
    batch.ids.assign(texts.size() * context_length, 0);
    const std::size_t room = context_length - 2;  // tokens between the two markers
    std::vector<std::int32_t> ids;
    for (std::size_t r = 0; r < texts.size(); ++r) {
      ids.clear();
      const std::string what = "text " + std::to_string(r);
      // When truncating, tokens past room + 1 are never used: stop encoding there.
      encode_into(texts[r], what, ids, truncate ? room + 1 : static_cast<std::size_t>(-1));
      if (ids.size() > room) {
        require(truncate, ErrorCode::invalid_argument, what, " (\"", shorten(texts[r]), "\") has ", ids.size() + 2,
                " tokens with <|startoftext|> and <|endoftext|>, more than context_length ", context_length,
                "; shorten it or tokenize with truncate=true");
        ids.resize(room);
      }
      std::int32_t* row = batch.ids.data() + r * context_length;
      row[0] = kStartOfText;
      std::copy(ids.begin(), ids.end(), row + 1);
      row[ids.size() + 1] = kEndOfText;
    }
    return batch;
  }

  // The text of token ids, for debugging: "</w>" becomes a space and bytes
  // that are not valid UTF-8 become U+FFFD, as in CLIP's decode.
  std::string decode(const std::vector<std::int32_t>& ids) const {
    std::string bytes;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      require(ids[i] >= 0 && static_cast<std::size_t>(ids[i]) < vocab_.size(), ErrorCode::invalid_argument,
              "decode: token id ", ids[i], " at position ", i, " is outside the vocabulary [0, ", vocab_.size(), ")");
      bytes += vocab_.token_bytes(ids[i]);
    }
    std::string text = replace_invalid_utf8(bytes);
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
      if (text.compare(i, 4, "</w>") == 0) {
        out += ' ';
        i += 4;
      } else {
        out += text[i++];
      }
    }
    return out;
  }

  // Words whose ids are cached (for tests and diagnostics).
  std::size_t cached_words() const { return cache_->size(); }

 private:
  Tokenizer(std::string_view merges_text, const std::string& source)
      : vocab_(merges_text, source), cache_(std::make_unique<WordCache>()) {}

  // Appends the ids of `text`, stopping once out holds max_tokens or more.
  void encode_into(std::string_view text, std::string_view what, std::vector<std::int32_t>& out,
                   std::size_t max_tokens) const {
    const std::u32string cleaned = clean_text(decode_utf8(text, what));
    BpeScratch scratch;
    std::string word;
    for_each_word(cleaned, [&](std::size_t begin, std::size_t end) {
      word = encode_utf8(std::u32string_view(cleaned).substr(begin, end - begin));
      // Only the exact markers are special (CLIP seeds its BPE cache with them).
      if (word == "<|startoftext|>") {
        out.push_back(kStartOfText);
      } else if (word == "<|endoftext|>") {
        out.push_back(kEndOfText);
      } else if (!cache_->lookup(word, out)) {
        const std::size_t before = out.size();
        bpe_word(vocab_, word, out, scratch);
        cache_->insert(word, out.data() + before, out.size() - before);
      }
      return out.size() < max_tokens;
    });
  }

  // The start of a text for an error message, cut at a character boundary.
  static std::string shorten(std::string_view text) {
    constexpr std::size_t kMax = 48;
    if (text.size() <= kMax) return std::string(text);
    std::size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return std::string(text.substr(0, cut)) + "...";
  }

  Vocabulary vocab_;
  std::unique_ptr<WordCache> cache_;
};

}  // namespace clipcaer::text
