// Code point properties and lower-casing exactly as CLIP's Python tokenizer
// sees them (tables generated from CPython and the `regex` module by
// scripts/generate_text_tables.py; versions in unicode_table.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "clipcaer/text/unicode_table.hpp"

namespace clipcaer::text {

// Flag bits from tables:: (kLetter, kNumber, kOther, kRegexSpace, kPySpace, kCased, kCaseIgnorable).
inline std::uint8_t code_point_flags(char32_t cp) noexcept {
  if (cp < 256) return tables::kLatin1Flags[cp];
  if (cp > 0x10FFFF) return 0;
  const auto* it = std::upper_bound(std::begin(tables::kRunStart), std::end(tables::kRunStart),
                                    static_cast<std::uint32_t>(cp));
  return tables::kRunFlags[it - std::begin(tables::kRunStart) - 1];
}

inline bool has_flag(char32_t cp, std::uint8_t flag) noexcept { return (code_point_flags(cp) & flag) != 0; }

// str.lower() of one code point, when it maps to one code point (all but U+0130
// and the context-dependent capital sigma).
inline char32_t lower_simple(char32_t cp) noexcept {
  if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
  const auto* it = std::upper_bound(std::begin(tables::kLowerRuns), std::end(tables::kLowerRuns), cp,
                                    [](char32_t c, const tables::LowerRun& r) { return c < r.first; });
  if (it == std::begin(tables::kLowerRuns)) return cp;
  const tables::LowerRun& run = *(it - 1);
  if (cp > run.last || (cp - run.first) % run.stride != 0) return cp;
  return static_cast<char32_t>(static_cast<std::int64_t>(cp) + run.delta);
}

namespace detail {

// CPython's Final_Sigma test for a capital sigma at text[i]: preceded by a
// cased letter and not followed by one, skipping case-ignorable code points.
inline bool is_final_sigma(std::u32string_view text, std::size_t i) noexcept {
  using namespace tables;
  std::size_t j = i;
  std::uint8_t f = 0;
  while (j > 0) {
    f = code_point_flags(text[--j]);
    if (!(f & kCaseIgnorable)) break;
  }
  if (j == i || (f & kCaseIgnorable) || !(f & kCased)) return false;
  for (j = i + 1; j < text.size(); ++j) {
    f = code_point_flags(text[j]);
    if (!(f & kCaseIgnorable)) return !(f & kCased);
  }
  return true;
}

}  // namespace detail

// Python's str.lower(), including U+0130 -> "i\u0307" and final sigma.
inline std::u32string python_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char32_t cp = text[i];
    if (cp == 0x3A3) {
      out += detail::is_final_sigma(text, i) ? char32_t{0x3C2} : char32_t{0x3C3};
      continue;
    }
    bool pair = false;
    for (const auto& p : tables::kLowerPairs) {
      if (p.from == cp) {
        out += p.first;
        out += p.second;
        pair = true;
      }
    }
    if (!pair) out += lower_simple(cp);
  }
  return out;
}

}  // namespace clipcaer::text
