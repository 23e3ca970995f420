// Shared by the tokenizer tests: the CLIP merges file from ../shared, one
// tokenizer built from it, and gzip compression for making test files.
#pragma once

#include <zlib.h>

#include <stdexcept>
#include <string>

#include "clipcaer/core/error.hpp"
#include "clipcaer/text/gzip.hpp"
#include "clipcaer/text/tokenizer.hpp"
#include "error_test_util.hpp"

namespace clipcaer::test {

inline const std::string& clip_merges_path() {
  static const std::string path = CLIPCAER_SHARED_DIR "/clip/bpe_simple_vocab_16e6.txt.gz";
  return path;
}

// The inflated merges file.
inline const std::string& clip_merges_text() {
  static const std::string text = text::read_gzip_file(clip_merges_path());
  return text;
}

inline const text::Tokenizer& clip_tokenizer() {
  static const text::Tokenizer tokenizer(clip_merges_path());
  return tokenizer;
}

// gzip-compresses bytes (one member).
inline std::string gzip_bytes(const std::string& data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

}  // namespace clipcaer::test
