// UTF-8 <-> code points. Text given to the tokenizer must be valid UTF-8:
// invalid bytes raise an error naming their offset instead of being replaced,
// so a Latin-1 or UTF-16 file is noticed rather than silently tokenised as
// something else. decode() output, which can split a character across tokens,
// uses replacement characters instead, as CLIP's decode does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "clipcaer/core/error.hpp"

namespace clipcaer::text {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

namespace detail {

// Bytes of the longest prefix of a well-formed UTF-8 sequence starting at s[i]
// (Unicode table 3-7: no overlong forms, surrogates or code points past
// U+10FFFF). Sets `complete` and `cp` when that prefix is a whole sequence.
inline std::size_t utf8_prefix(std::string_view s, std::size_t i, char32_t& cp, bool& complete) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  complete = false;
  if (b0 < 0x80) {
    cp = b0;
    complete = true;
    return 1;
  }
  std::size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0Fu;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07u;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 1;  // a continuation byte or a byte that never occurs in UTF-8
  }
  std::size_t k = 1;
  for (; k <= need && i + k < s.size(); ++k) {
    const unsigned char b = byte(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) break;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  complete = k == need + 1;
  return k;
}

}  // namespace detail

inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

inline std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

// Strict decoding; `what` names the input in the error ("text 3").
inline std::u32string decode_utf8(std::string_view bytes, std::string_view what = "text") {
  std::u32string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    char32_t cp = 0;
    bool complete = false;
    const std::size_t n = detail::utf8_prefix(bytes, i, cp, complete);
    if (!complete) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(bytes[i])));
      const unsigned char lead = static_cast<unsigned char>(bytes[i]);
      const bool cut_off = i + n == bytes.size() && lead >= 0xC2 && lead <= 0xF4;
      throw_error(ErrorCode::invalid_argument, what, " is not valid UTF-8: byte ", hex, " at byte offset ", i,
                  cut_off ? " starts a sequence cut off by the end of the text" : " starts no valid sequence");
    }
    out += cp;
    i += n;
  }
  return out;
}

// Replaces each maximal invalid subpart with U+FFFD, as Python's
// bytes.decode("utf-8", errors="replace") does.
inline std::string replace_invalid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    char32_t cp = 0;
    bool complete = false;
    const std::size_t n = detail::utf8_prefix(bytes, i, cp, complete);
    if (complete)
      out.append(bytes.data() + i, n);
    else
      append_utf8(out, kReplacementCharacter);
    i += n;
  }
  return out;
}

}  // namespace clipcaer::text
