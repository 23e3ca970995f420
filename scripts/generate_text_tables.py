#!/usr/bin/env python3
"""Generates the lookup tables of clipcaer's CLIP tokenizer (include/clipcaer/text/*_table.hpp).

The C++ tokenizer must split and lower-case text exactly as OpenAI's
simple_tokenizer.py does under CPython, so every table is measured from the
reference itself rather than from the Unicode data files:

- code point classes, from the `regex` module (the one CLIP's word pattern runs
  on), with the pattern's IGNORECASE flag: `[\\p{L}]`, `[\\p{N}]`,
  `[^\\s\\p{L}\\p{N}]`, and `\\s` (used by whitespace_clean);
- `str.isspace` (used by `str.strip`), `str.lower`, and the cased /
  case-ignorable properties behind `str.lower`'s final-sigma rule, from CPython;
- the HTML5 character references of `html.unescape`, from the `html` module.

Usage (regex is a pip package; any target dir works):
    python3 -m pip install --target /tmp/tokref regex
    PYTHONPATH=/tmp/tokref /usr/bin/python3 scripts/generate_text_tables.py
"""
import html
import html.entities
import os
import sys
import unicodedata

import regex

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "include", "clipcaer", "text")
MAX_CP = 0x110000

# Flag bits, mirrored in unicode_table.hpp.
LETTER, NUMBER, OTHER, REGEX_SPACE, PY_SPACE, CASED, CASE_IGNORABLE = 1, 2, 4, 8, 16, 32, 64

# One code point first assigned as a letter in each Unicode version, newest first:
# the newest that `regex` classifies as a letter tells its Unicode version.
VERSION_PROBES = [("17.0", 0x1E6C0), ("16.0", 0x10D50), ("15.1", 0x2EBF0), ("15.0", 0x11F04), ("14.0", 0x1E290)]


def code_points():
    return (cp for cp in range(MAX_CP) if not 0xD800 <= cp <= 0xDFFF)


def regex_unicode_version():
    letter = regex.compile(r"\p{L}")
    for version, cp in VERSION_PROBES:
        if letter.match(chr(cp)):
            return version
    return "older than 14.0"


def case_properties(c):
    """(case_ignorable, cased) as str.lower's final-sigma rule sees them, probed
    through str.lower itself; `cased` only matters for non-ignorable code points."""
    after_cased = ("A" + c + "\u03a3").lower()[-1] == "\u03c2"      # ignorable or cased
    after_uncased = ("1" + c + "\u03a3").lower()[-1] == "\u03c2"    # not ignorable and cased
    ignorable = after_cased and not after_uncased
    return ignorable, (after_uncased and not ignorable)


def property_flags():
    letter = regex.compile(r"[\p{L}]", regex.IGNORECASE)
    number = regex.compile(r"[\p{N}]", regex.IGNORECASE)
    other = regex.compile(r"[^\s\p{L}\p{N}]", regex.IGNORECASE)
    space = regex.compile(r"\s")
    flags = [0] * MAX_CP
    for cp in code_points():
        c = chr(cp)
        f = 0
        if letter.match(c): f |= LETTER
        if number.match(c): f |= NUMBER
        if other.match(c): f |= OTHER
        if space.match(c): f |= REGEX_SPACE
        if c.isspace(): f |= PY_SPACE
        ignorable, cased = case_properties(c)
        if ignorable: f |= CASE_IGNORABLE
        if cased: f |= CASED
        flags[cp] = f
    # Surrogates never reach the tables' users (UTF-8 input); give them the flags of a neighbour run.
    for cp in range(0xD800, 0xE000):
        flags[cp] = flags[0xD7FF]
    return flags


def runs(flags):
    out = []
    for cp, f in enumerate(flags):
        if not out or out[-1][1] != f:
            out.append((cp, f))
    return out


def lower_mapping():
    """Single-code-point str.lower() changes as (first, last, delta, stride) runs, and the multi-code-point ones."""
    single, multi = [], []
    for cp in code_points():
        if cp == 0x3A3:
            continue  # capital sigma: context dependent, handled in code
        low = chr(cp).lower()
        if low == chr(cp):
            continue
        if len(low) == 1:
            single.append((cp, ord(low) - cp))
        else:
            multi.append((cp, [ord(x) for x in low]))
    out = []
    for cp, delta in single:
        if out:
            first, last, d, stride = out[-1]
            if d == delta and (stride == 0 or cp - last == stride) and cp - last in (1, 2):
                out[-1] = (first, cp, d, cp - last)
                continue
        out.append((cp, cp, delta, 0))
    out = [(f, l, d, s or 1) for f, l, d, s in out]
    expanded = [(cp, d) for f, l, d, s in out for cp in range(f, l + 1, s)]
    assert expanded == single, "lower-case runs do not reproduce str.lower"
    return out, multi


def u32(cp):
    return "0x%X" % cp


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote", os.path.relpath(path, ROOT))


def unicode_table():
    flags = property_flags()
    prop_runs = runs(flags)
    lower_runs, lower_multi = lower_mapping()
    assert len(lower_multi) <= 4 and all(len(v) == 2 for _, v in lower_multi), lower_multi
    unclassified = [cp for cp in code_points() if not flags[cp] & (LETTER | NUMBER | OTHER | REGEX_SPACE)]
    overlapping = [cp for cp in code_points()
                   if bin(flags[cp] & (LETTER | NUMBER | OTHER | REGEX_SPACE)).count("1") > 1]
    assert not overlapping, overlapping
    # Where `regex` and this Python's unicodedata disagree on \p{L} / \p{N}.
    newer = sum(1 for cp in code_points()
                if bool(flags[cp] & LETTER) != (unicodedata.category(chr(cp))[0] == "L")
                or bool(flags[cp] & NUMBER) != (unicodedata.category(chr(cp))[0] == "N"))
    literals = sorted(set("<|startoftext|>endoftext's't're've'm'll'd"))
    literal_pairs = []
    for lit in literals:
        pattern = regex.compile(regex.escape(lit), regex.IGNORECASE)
        for cp in code_points():
            if cp != ord(lit) and pattern.fullmatch(chr(cp)):
                literal_pairs.append((ord(lit), cp))
    latin1 = flags[:256]

    lines = [
        "// Generated by scripts/generate_text_tables.py; do not edit.",
        "// Sources: CPython %s (unicodedata %s) for str.isspace / str.lower / final sigma;"
        % (sys.version.split()[0], unicodedata.unidata_version),
        "// regex %s (Unicode %s) for the classes of CLIP's word pattern (IGNORECASE) and \\s."
        % (regex.__version__, regex_unicode_version()),
        "// %d code points are letters or numbers to regex but unassigned in unicodedata %s;"
        % (newer, unicodedata.unidata_version),
        "// %d code point(s) fall in no class of the pattern (skipped like spaces): %s."
        % (len(unclassified), ", ".join("U+%04X" % cp for cp in unclassified)),
        "#pragma once",
        "",
        "#include <cstdint>",
        "",
        "namespace clipcaer::text::tables {",
        "",
        'inline constexpr const char* kPythonUnicodeVersion = "%s";' % unicodedata.unidata_version,
        'inline constexpr const char* kRegexVersion = "%s";' % regex.__version__,
        'inline constexpr const char* kRegexUnicodeVersion = "%s";' % regex_unicode_version(),
        "",
        "// Flag bits of a code point.",
        "enum : std::uint8_t {",
        "  kLetter = %d,         // [\\p{L}] under IGNORECASE" % LETTER,
        "  kNumber = %d,         // [\\p{N}] under IGNORECASE" % NUMBER,
        "  kOther = %d,          // [^\\s\\p{L}\\p{N}] under IGNORECASE" % OTHER,
        "  kRegexSpace = %d,     // regex \\s (whitespace_clean)" % REGEX_SPACE,
        "  kPySpace = %d,       // str.isspace (str.strip)" % PY_SPACE,
        "  kCased = %d,         // cased, for str.lower's final sigma (meaningful when not case-ignorable)" % CASED,
        "  kCaseIgnorable = %d, // case-ignorable, for str.lower's final sigma" % CASE_IGNORABLE,
        "};",
        "",
        "// Flags of U+0000..U+00FF, the fast path.",
        "inline constexpr std::uint8_t kLatin1Flags[256] = {",
    ]
    for i in range(0, 256, 16):
        lines.append("    " + ", ".join(str(f) for f in latin1[i:i + 16]) + ",")
    lines += [
        "};",
        "",
        "// The flags hold from kRunStart[i] up to kRunStart[i + 1] - 1 (the last run to U+10FFFF).",
        "inline constexpr std::uint32_t kRunStart[%d] = {" % len(prop_runs),
    ]
    for i in range(0, len(prop_runs), 10):
        lines.append("    " + ", ".join("0x%X" % cp for cp, _ in prop_runs[i:i + 10]) + ",")
    lines += ["};", "inline constexpr std::uint8_t kRunFlags[%d] = {" % len(prop_runs)]
    for i in range(0, len(prop_runs), 20):
        lines.append("    " + ", ".join(str(f) for _, f in prop_runs[i:i + 20]) + ",")
    lines += [
        "};",
        "",
        "// str.lower, one code point to one: cp in [first, last] with (cp - first) % stride == 0 maps to cp + delta.",
        "// U+03A3 (capital sigma) is left to the final-sigma rule in code.",
        "struct LowerRun {",
        "  std::uint32_t first, last;",
        "  std::int32_t delta;",
        "  std::uint32_t stride;",
        "};",
        "inline constexpr LowerRun kLowerRuns[%d] = {" % len(lower_runs),
    ]
    for f, l, d, s in lower_runs:
        lines.append("    {0x%X, 0x%X, %d, %d}," % (f, l, d, s))
    lines += [
        "};",
        "",
        "// str.lower, one code point to two.",
        "struct LowerPair {",
        "  char32_t from, first, second;",
        "};",
        "inline constexpr LowerPair kLowerPairs[%d] = {" % len(lower_multi),
    ]
    for cp, (a, b) in lower_multi:
        lines.append("    {%s, %s, %s}," % (u32(cp), u32(a), u32(b)))
    lines += [
        "};",
        "",
        "// Code points other than the literal itself that a literal of CLIP's pattern matches under IGNORECASE.",
        "struct LiteralCase {",
        "  char32_t literal, other;",
        "};",
        "inline constexpr LiteralCase kLiteralCases[%d] = {" % len(literal_pairs),
    ]
    for lit, cp in literal_pairs:
        lines.append("    {%s, %s}," % (u32(lit), u32(cp)))
    lines += ["};", "", "}  // namespace clipcaer::text::tables", ""]
    write(os.path.join(OUT_DIR, "unicode_table.hpp"), "\n".join(lines))


def html_table():
    entities = sorted(html.entities.html5.items())
    invalid_charrefs = sorted(html._invalid_charrefs.items())
    invalid_codepoints = sorted(html._invalid_codepoints)
    assert all(len(v) in (1, 2) for _, v in entities)
    assert all(len(v) <= 1 for _, v in invalid_charrefs)
    assert all(k.isascii() for k, _ in entities)
    lines = [
        "// Generated by scripts/generate_text_tables.py; do not edit.",
        "// Source: CPython %s `html` module: html.entities.html5 (%d names, %d of them legacy names"
        % (sys.version.split()[0], len(entities), sum(1 for k, _ in entities if not k.endswith(";"))),
        "// without ';'), and html.unescape's tables for numeric references.",
        "#pragma once",
        "",
        "#include <cstdint>",
        "#include <string_view>",
        "",
        "namespace clipcaer::text::tables {",
        "",
        "// A named reference and its replacement: one or two code points (second is 0 when one).",
        "struct HtmlEntity {",
        "  std::string_view name;",
        "  char32_t first, second;",
        "};",
        "",
        "// Sorted by name (byte order).",
        "inline constexpr HtmlEntity kHtmlEntities[%d] = {" % len(entities),
    ]
    for name, value in entities:
        second = u32(ord(value[1])) if len(value) == 2 else "0"
        lines.append('    {"%s", %s, %s},' % (name, u32(ord(value[0])), second))
    lines += [
        "};",
        "",
        "// Numeric references replaced rather than taken as code points (html._invalid_charrefs).",
        "struct HtmlCharref {",
        "  std::uint32_t number;",
        "  char32_t replacement;",
        "};",
        "inline constexpr HtmlCharref kHtmlInvalidCharrefs[%d] = {" % len(invalid_charrefs),
    ]
    for num, rep in invalid_charrefs:
        lines.append("    {0x%X, %s}," % (num, u32(ord(rep))))
    lines += [
        "};",
        "",
        "// Numeric references that html.unescape drops (html._invalid_codepoints), sorted.",
        "inline constexpr std::uint32_t kHtmlDroppedCodepoints[%d] = {" % len(invalid_codepoints),
    ]
    for i in range(0, len(invalid_codepoints), 10):
        lines.append("    " + ", ".join("0x%X" % cp for cp in invalid_codepoints[i:i + 10]) + ",")
    lines += ["};", "", "}  // namespace clipcaer::text::tables", ""]
    write(os.path.join(OUT_DIR, "html_entity_table.hpp"), "\n".join(lines))


if __name__ == "__main__":
    unicode_table()
    html_table()
