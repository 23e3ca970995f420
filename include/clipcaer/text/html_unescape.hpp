// Python's html.unescape (CPython 3.11), which CLIP applies twice: every
// HTML5 named reference of html.entities.html5 (with the legacy names that
// need no ';' and their longest-prefix rule), decimal and hex references with
// or without ';', and its handling of invalid numbers (Windows-1252 remapping
// of 0x80-0x9F, U+FFFD for 0, surrogates and numbers past U+10FFFF, dropping
// of noncharacters and most controls).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "clipcaer/text/html_entity_table.hpp"

namespace clipcaer::text {

namespace detail {

inline bool is_ascii_digit(char32_t c) noexcept { return c >= '0' && c <= '9'; }

inline int hex_value(char32_t c) noexcept {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
  return -1;
}

// The named entity `name` (ASCII, ';' included when present), or nullptr.
inline const tables::HtmlEntity* find_html_entity(std::u32string_view name) {
  if (name.size() > 33) return nullptr;
  char ascii[34];
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] >= 0x80) return nullptr;
    ascii[i] = static_cast<char>(name[i]);
  }
  const std::string_view key(ascii, name.size());
  const auto* it = std::lower_bound(std::begin(tables::kHtmlEntities), std::end(tables::kHtmlEntities), key,
                                    [](const tables::HtmlEntity& e, std::string_view k) { return e.name < k; });
  return it != std::end(tables::kHtmlEntities) && it->name == key ? it : nullptr;
}

inline void append_entity(std::u32string& out, const tables::HtmlEntity& e) {
  out += e.first;
  if (e.second) out += e.second;
}

// html.unescape's replacement for a numeric reference; `number` saturates at 0x110000.
inline void append_charref(std::u32string& out, std::uint32_t number) {
  for (const auto& r : tables::kHtmlInvalidCharrefs) {
    if (r.number == number) {
      out += r.replacement;
      return;
    }
  }
  if ((number >= 0xD800 && number <= 0xDFFF) || number > 0x10FFFF) {
    out += char32_t{0xFFFD};
    return;
  }
  if (std::binary_search(std::begin(tables::kHtmlDroppedCodepoints), std::end(tables::kHtmlDroppedCodepoints), number))
    return;
  out += static_cast<char32_t>(number);
}

// Whether c may be part of an entity name: [^\t\n\f <&#;].
inline bool is_name_char(char32_t c) noexcept {
  return c != '\t' && c != '\n' && c != '\f' && c != ' ' && c != '<' && c != '&' && c != '#' && c != ';';
}

// Tries a reference at text[amp] == '&'. On a match appends its replacement,
// and returns the index after it; otherwise returns amp.
inline std::size_t unescape_one(std::u32string_view text, std::size_t amp, std::u32string& out) {
  const std::size_t n = text.size();
  std::size_t i = amp + 1;
  if (i < n && text[i] == '#') {
    const bool hex = i + 1 < n && (text[i + 1] == 'x' || text[i + 1] == 'X');
    std::size_t j = i + (hex ? 2 : 1);
    const std::size_t digits_begin = j;
    std::uint32_t number = 0;
    for (; j < n && (hex ? hex_value(text[j]) >= 0 : is_ascii_digit(text[j])); ++j) {
      const std::uint32_t digit = hex ? static_cast<std::uint32_t>(hex_value(text[j])) : text[j] - U'0';
      number = std::min<std::uint32_t>(number * (hex ? 16 : 10) + digit, 0x110000);
    }
    if (j == digits_begin) return amp;
    if (j < n && text[j] == ';') ++j;
    append_charref(out, number);
    return j;
  }
  std::size_t j = i;
  while (j < n && j - i < 32 && is_name_char(text[j])) ++j;
  if (j == i) return amp;
  if (j < n && text[j] == ';') ++j;
  const std::u32string_view name = text.substr(i, j - i);
  if (const auto* e = find_html_entity(name)) {
    append_entity(out, *e);
    return j;
  }
  // The longest prefix (of 2 or more characters) that is a legacy name wins; the rest stays.
  for (std::size_t len = name.size() - 1; len >= 2; --len) {
    if (const auto* e = find_html_entity(name.substr(0, len))) {
      append_entity(out, *e);
      out.append(name.substr(len));
      return j;
    }
  }
  out += '&';
  out.append(name);
  return j;
}

}  // namespace detail

inline std::u32string html_unescape(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '&') {
      out += text[i++];
      continue;
    }
    const std::size_t next = detail::unescape_one(text, i, out);
    if (next == i) {
      out += '&';
      ++i;
    } else {
      i = next;
    }
  }
  return out;
}

}  // namespace clipcaer::text
