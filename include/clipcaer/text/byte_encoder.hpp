// CLIP's reversible byte <-> character map (bytes_to_unicode in
// simple_tokenizer.py): BPE runs on characters, one per UTF-8 byte, so any
// text has a spelling in the 256 byte tokens. Printable Latin-1 bytes stand
// for themselves; the other 68 map to U+0100.. in byte order.
#pragma once

#include <array>
#include <cstdint>

namespace clipcaer::text {

namespace detail {

constexpr bool is_self_mapped_byte(unsigned b) noexcept {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

constexpr std::array<char32_t, 256> make_byte_to_char() {
  std::array<char32_t, 256> out{};
  char32_t next = 256;
  for (unsigned b = 0; b < 256; ++b) out[b] = is_self_mapped_byte(b) ? char32_t(b) : next++;
  return out;
}

// Vocabulary index of each byte token: the self-mapped bytes first, then the others, each in byte order.
constexpr std::array<std::int32_t, 256> make_byte_token_ids() {
  std::array<std::int32_t, 256> out{};
  std::int32_t id = 0;
  for (unsigned b = 0; b < 256; ++b)
    if (is_self_mapped_byte(b)) out[b] = id++;
  for (unsigned b = 0; b < 256; ++b)
    if (!is_self_mapped_byte(b)) out[b] = id++;
  return out;
}

}  // namespace detail

inline constexpr std::array<char32_t, 256> kByteToChar = detail::make_byte_to_char();
inline constexpr std::array<std::int32_t, 256> kByteTokenIds = detail::make_byte_token_ids();

// Token id of byte b as the last byte of a word: its "</w>" form.
inline constexpr std::int32_t kEndOfWordOffset = 256;

static_assert(kByteToChar['a'] == U'a' && kByteToChar[0] == 0x100 && kByteToChar[0xAD] == 0x143);
static_assert(kByteTokenIds['!'] == 0 && kByteTokenIds[0xFF] == 187 && kByteTokenIds[0] == 188);

}  // namespace clipcaer::text
