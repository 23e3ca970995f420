// CLIP's word pattern, matched by hand:
//   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// compiled with IGNORECASE and applied with regex.findall: at each position the
// first alternative that matches wins; where none does (whitespace, and U+0345,
// which IGNORECASE leaves in no class) the position is skipped.
#pragma once

#include <cstddef>
#include <iterator>
#include <string_view>

#include "clipcaer/text/unicode.hpp"

namespace clipcaer::text {

namespace detail {

// A literal of the pattern against a text code point, under IGNORECASE ('s' also matches U+017F).
inline bool matches_literal(char32_t cp, char32_t literal) noexcept {
  if (cp == literal) return true;
  for (const auto& c : tables::kLiteralCases)
    if (c.literal == literal && c.other == cp) return true;
  return false;
}

// Length of `literal` if text starting at i matches it, else 0.
inline std::size_t match_literal(std::u32string_view text, std::size_t i, std::u32string_view literal) noexcept {
  if (text.size() - i < literal.size()) return 0;
  for (std::size_t k = 0; k < literal.size(); ++k)
    if (!matches_literal(text[i + k], literal[k])) return 0;
  return literal.size();
}

inline constexpr std::u32string_view kWordLiterals[] = {U"<|startoftext|>", U"<|endoftext|>", U"'s", U"'t", U"'re",
                                                        U"'ve",             U"'m",            U"'ll", U"'d"};

// for_each_word only tries the literals at '<' and '\'', so those must match nothing else.
constexpr bool literal_starts_are_caseless() {
  for (const auto& c : tables::kLiteralCases)
    if (c.literal == '<' || c.literal == '\'') return false;
  return true;
}
static_assert(literal_starts_are_caseless(), "regenerated tables broke an assumption of for_each_word");

}  // namespace detail

// Calls on_word(begin, end) for each match in order; stops early when it returns false.
template <class OnWord>
void for_each_word(std::u32string_view text, OnWord&& on_word) {
  using namespace tables;
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const char32_t c = text[i];
    std::size_t end = i;
    if (c == '<' || c == '\'') {
      for (std::u32string_view literal : detail::kWordLiterals) {
        if (const std::size_t len = detail::match_literal(text, i, literal)) {
          end = i + len;
          break;
        }
      }
    }
    if (end == i) {
      const std::uint8_t f = code_point_flags(c);
      if (f & kLetter) {
        for (end = i + 1; end < n && has_flag(text[end], kLetter);) ++end;
      } else if (f & kNumber) {
        end = i + 1;
      } else if (f & kOther) {
        for (end = i + 1; end < n && has_flag(text[end], kOther);) ++end;
      }
    }
    if (end == i) {
      ++i;  // no alternative matches here
      continue;
    }
    if (!on_word(i, end)) return;
    i = end;
  }
}

}  // namespace clipcaer::text
