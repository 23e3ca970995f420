// CLIP's text normalisation before splitting (simple_tokenizer.py: basic_clean,
// whitespace_clean, lower), without its first step, ftfy.fix_text (see
// docs/text.md for what that leaves out).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "clipcaer/text/html_unescape.hpp"
#include "clipcaer/text/unicode.hpp"

namespace clipcaer::text {

// str.strip(): drops leading and trailing str.isspace() code points.
inline std::u32string_view python_strip(std::u32string_view s) noexcept {
  std::size_t b = 0, e = s.size();
  while (b < e && has_flag(s[b], tables::kPySpace)) ++b;
  while (e > b && has_flag(s[e - 1], tables::kPySpace)) --e;
  return s.substr(b, e - b);
}

// re.sub(r'\s+', ' ', s) with the `regex` module's \s.
inline std::u32string collapse_whitespace(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (!has_flag(s[i], tables::kRegexSpace)) {
      out += s[i++];
      continue;
    }
    while (i < s.size() && has_flag(s[i], tables::kRegexSpace)) ++i;
    out += ' ';
  }
  return out;
}

// html.unescape twice, strip, whitespace runs to one space, strip, lower-case.
inline std::u32string clean_text(std::u32string_view text) {
  std::u32string unescaped;
  if (text.find(U'&') != std::u32string_view::npos) {
    unescaped = html_unescape(html_unescape(text));
    text = unescaped;
  }
  const std::u32string collapsed = collapse_whitespace(python_strip(text));
  return python_lower(python_strip(collapsed));
}

}  // namespace clipcaer::text
