// The tokenizer's parts: gzip reading, the merges file checks, UTF-8, the
// Unicode tables, html.unescape, word splitting, and the heap BPE against a
// direct transcription of the reference's merge loop.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "clipcaer/io/safetensors.hpp"
#include "clipcaer/text/bpe.hpp"
#include "clipcaer/text/clean.hpp"
#include "clipcaer/text/gzip.hpp"
#include "clipcaer/text/html_unescape.hpp"
#include "clipcaer/text/tokenizer.hpp"
#include "clipcaer/text/unicode.hpp"
#include "clipcaer/text/utf8.hpp"
#include "clipcaer/text/word_split.hpp"
#include "test_util.hpp"
#include "tokenizer_test_util.hpp"

using namespace clipcaer;
using namespace clipcaer::text;
using clipcaer::test::error_of;
using clipcaer::test::contains;
using clipcaer::test::clip_merges_path;
using clipcaer::test::clip_merges_text;
using clipcaer::test::clip_tokenizer;
using clipcaer::test::gzip_bytes;
using clipcaer::test::TempFile;

namespace {

std::u32string u32(std::string_view utf8) { return decode_utf8(utf8); }

// The merges text with line `line` (1-based, header = 1) replaced.
std::string with_line(std::size_t line, const std::string& replacement) {
  const std::string& text = clip_merges_text();
  std::size_t begin = 0;
  for (std::size_t l = 1; l < line; ++l) begin = text.find('\n', begin) + 1;
  const std::size_t end = text.find('\n', begin);
  return text.substr(0, begin) + replacement + text.substr(end);
}

std::vector<std::string> words_of(std::string_view utf8) {
  const std::u32string t = u32(utf8);
  std::vector<std::string> out;
  for_each_word(t, [&](std::size_t b, std::size_t e) {
    out.push_back(encode_utf8(std::u32string_view(t).substr(b, e - b)));
    return true;
  });
  return out;
}

}  // namespace

// --- gzip ---------------------------------------------------------------------

TEST_CASE("gzip: round trip, several members, and the output cap") {
  const std::string data = "hello gzip\n" + std::string(100000, 'x');
  const std::string gz = gzip_bytes(data);
  CHECK(gunzip(gz.data(), gz.size(), "mem") == data);
  const std::string two = gz + gzip_bytes("second");
  CHECK(gunzip(two.data(), two.size(), "mem") == data + "second");
  const auto e = error_of([&] { gunzip(gz.data(), gz.size(), "mem", 1000); });
  CHECK(e.code() == ErrorCode::format);
  CHECK(contains(e.what(), "inflates to more than 1000 bytes"));
}

TEST_CASE("gzip: bad data gives format errors naming the source") {
  const std::string gz = gzip_bytes(std::string(5000, 'y') + "tail");
  SUBCASE("not gzip") {
    const auto e = error_of([&] { gunzip("plain text", 10, "src.gz"); });
    CHECK(e.code() == ErrorCode::format);
    CHECK(contains(e.what(), "src.gz: not gzip data"));
  }
  SUBCASE("empty") {
    CHECK(error_of([&] { gunzip(nullptr, 0, "src.gz"); }).code() == ErrorCode::format);
  }
  SUBCASE("truncated") {
    const auto e = error_of([&] { gunzip(gz.data(), gz.size() - 9, "src.gz"); });
    CHECK(e.code() == ErrorCode::format);
    CHECK(contains(e.what(), "truncated"));
  }
  SUBCASE("checksum wrong") {
    std::string bad = gz;
    bad[bad.size() - 6] ^= 0x55;  // inside the CRC-32
    const auto e = error_of([&] { gunzip(bad.data(), bad.size(), "src.gz"); });
    CHECK(e.code() == ErrorCode::format);
    CHECK(contains(e.what(), "corrupt gzip data"));
  }
  SUBCASE("deflate stream corrupt") {
    std::string bad = gz;
    for (std::size_t i = 12; i < 20; ++i) bad[i] = static_cast<char>(0xFF);
    CHECK(error_of([&] { gunzip(bad.data(), bad.size(), "src.gz"); }).code() == ErrorCode::format);
  }
  SUBCASE("trailing bytes") {
    const std::string bad = gz + "junk";
    const auto e = error_of([&] { gunzip(bad.data(), bad.size(), "src.gz"); });
    CHECK(e.code() == ErrorCode::format);
    CHECK(contains(e.what(), "4 bytes of trailing data"));
  }
}

TEST_CASE("gzip: files") {
  const auto missing = error_of([] { read_gzip_file("/nonexistent/bpe.txt.gz"); });
  CHECK(missing.code() == ErrorCode::file_not_found);
  CHECK(contains(missing.what(), "/nonexistent/bpe.txt.gz"));
  CHECK(error_of([] { read_gzip_file("/tmp"); }).code() == ErrorCode::io);
  TempFile f("empty.gz");
  test::write_bytes(f.path, "");
  CHECK(error_of([&] { read_gzip_file(f.path); }).code() == ErrorCode::format);
}

// --- the merges file ----------------------------------------------------------

TEST_CASE("tokenizer construction: from path, gzip bytes and text agree") {
  const std::string gz = test::read_bytes(clip_merges_path());
  const Tokenizer from_bytes = Tokenizer::from_gzip_bytes(gz.data(), gz.size(), "tensor tokenizer.bpe_vocab_gz");
  const Tokenizer from_text = Tokenizer::from_merges_text(clip_merges_text());
  const std::string t = "a photo of a confused student, 2 × 3 ≠ 7 😀";
  CHECK(from_bytes.encode(t) == clip_tokenizer().encode(t));
  CHECK(from_text.encode(t) == clip_tokenizer().encode(t));
  // CRLF line ends read the same.
  std::string crlf;
  for (char c : clip_merges_text()) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  CHECK(Tokenizer::from_merges_text(crlf).encode(t) == clip_tokenizer().encode(t));
}

TEST_CASE("tokenizer construction: from a weights file's tokenizer.bpe_vocab_gz tensor") {
  const std::string gz = test::read_bytes(clip_merges_path());
  TempFile f("tok.safetensors");
  test::SafetensorsBuilder().add("tokenizer.bpe_vocab_gz", "U8", {gz.size()}, gz.data(), gz.size()).write(f.path);
  const io::SafetensorsFile weights(f.path);
  const io::TensorInfo& t = weights.tensor("tokenizer.bpe_vocab_gz");
  REQUIRE(t.dtype == DType::u8);
  const Tokenizer tok = Tokenizer::from_gzip_bytes(t.data, t.nbytes, "tensor tokenizer.bpe_vocab_gz");
  CHECK(tok.encode("a photo of a student") == clip_tokenizer().encode("a photo of a student"));
  const auto e = error_of([&] { Tokenizer::from_gzip_bytes(t.data, 100, "tensor tokenizer.bpe_vocab_gz"); });
  CHECK(e.code() == ErrorCode::format);
  CHECK(contains(e.what(), "tensor tokenizer.bpe_vocab_gz: gzip data is truncated"));
}

TEST_CASE("tokenizer construction: missing and corrupt files") {
  const auto missing = error_of([] { Tokenizer t("/nonexistent/bpe_simple_vocab_16e6.txt.gz"); });
  CHECK(missing.code() == ErrorCode::file_not_found);
  TempFile f("vocab.txt.gz");
  test::write_bytes(f.path, clip_merges_text().substr(0, 1000));  // not compressed
  const auto plain = error_of([&] { Tokenizer t(f.path); });
  CHECK(plain.code() == ErrorCode::format);
  CHECK(contains(plain.what(), f.path));
  const std::string gz = test::read_bytes(clip_merges_path());
  CHECK(error_of([&] { Tokenizer::from_gzip_bytes(gz.data(), gz.size() / 2); }).code() == ErrorCode::format);
}

TEST_CASE("tokenizer construction: merges file with the wrong line count or format") {
  const auto merges_error = [](const std::string& text) {
    return error_of([&] { Tokenizer::from_merges_text(text, "test.txt"); });
  };
  SUBCASE("too few lines") {
    const std::string& text = clip_merges_text();
    std::size_t pos = 0;
    for (int l = 0; l < 1000; ++l) pos = text.find('\n', pos) + 1;
    const auto e = merges_error(text.substr(0, pos));
    CHECK(e.code() == ErrorCode::format);
    CHECK(contains(e.what(), "test.txt: has 999 merge lines"));
    CHECK(contains(e.what(), "needs 48894"));
    CHECK(merges_error("").code() == ErrorCode::format);
    CHECK(merges_error("#version: 0.2").code() == ErrorCode::format);
  }
  SUBCASE("exactly enough lines") {
    const std::string& text = clip_merges_text();
    std::size_t pos = 0;
    for (int l = 0; l < 48895; ++l) pos = text.find('\n', pos) + 1;
    CHECK(Tokenizer::from_merges_text(text.substr(0, pos - 1)).vocab_size() == 49408);  // no final newline
  }
  SUBCASE("a line that is not two tokens") {
    for (const char* line : {"", "ab", "a b c", "a  b", " a", "a ", "a\tb"}) {
      CAPTURE(line);
      const auto e = merges_error(with_line(7, line));
      CHECK(e.code() == ErrorCode::format);
      CHECK(contains(e.what(), "line 7"));
    }
  }
  SUBCASE("an unknown token") {
    const auto e = merges_error(with_line(3, "i zzzzz"));
    CHECK(e.code() == ErrorCode::format);
    CHECK(contains(e.what(), "line 3: 'zzzzz' is neither a byte token nor the result of an earlier merge"));
    CHECK(merges_error(with_line(3, "i \xFF")).code() == ErrorCode::format);
  }
  SUBCASE("a merge used before it is made") {
    // Line 2 is "i n"; using "in" on line 2 itself means before it exists.
    CHECK(contains(merges_error(with_line(2, "in g")).what(), "'in' is neither"));
  }
  SUBCASE("a duplicate merge result") {
    const auto e = merges_error(with_line(30, "i n"));  // "in" is made on line 2
    CHECK(e.code() == ErrorCode::format);
    CHECK(contains(e.what(), "line 30 merges into 'in', which is already a token"));
  }
}

// --- UTF-8 --------------------------------------------------------------------

TEST_CASE("utf8: round trip over every code point class") {
  for (char32_t cp : {U'\0', U'a', char32_t{0x7F}, char32_t{0x80}, char32_t{0x7FF}, char32_t{0x800},
                      char32_t{0xD7FF}, char32_t{0xE000}, char32_t{0xFFFF}, char32_t{0x10000}, char32_t{0x10FFFF}}) {
    const std::u32string s(1, cp);
    CHECK(decode_utf8(encode_utf8(s)) == s);
  }
}

TEST_CASE("utf8: replacement as Python's decode(errors='replace')") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(replace_invalid_utf8("\xE2\x82" "a") == fffd + "a");
  CHECK(replace_invalid_utf8("\xF0\x80\x80") == fffd + fffd + fffd);
  CHECK(replace_invalid_utf8("\xED\xA0\x80") == fffd + fffd + fffd);
  CHECK(replace_invalid_utf8("\xC0\xAF") == fffd + fffd);
  CHECK(replace_invalid_utf8("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);
  CHECK(replace_invalid_utf8("a\xFF\xFE" "b") == "a" + fffd + fffd + "b");
  CHECK(replace_invalid_utf8("\xE2\x82") == fffd);
  CHECK(replace_invalid_utf8("\xF0\x9F\x98") == fffd);
  CHECK(replace_invalid_utf8("\xF0\x9F\x98\x80\x80") == "\xF0\x9F\x98\x80" + fffd);
  CHECK(replace_invalid_utf8("ok \xC3\xA9") == "ok \xC3\xA9");
}

TEST_CASE("utf8: decode_utf8 names the input") {
  const auto e = error_of([] { decode_utf8("abc\xFF", "descriptor 4"); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(contains(e.what(), "descriptor 4 is not valid UTF-8: byte 0xFF at byte offset 3"));
}

// --- Unicode tables -----------------------------------------------------------

TEST_CASE("unicode: classes of the word pattern") {
  using namespace tables;
  CHECK(code_point_flags('a') == (kLetter | kCased));
  CHECK(code_point_flags('7') == kNumber);
  CHECK(code_point_flags('!') == kOther);
  CHECK(code_point_flags('\'') == (kOther | kCaseIgnorable));
  CHECK(code_point_flags(' ') == (kRegexSpace | kPySpace));
  CHECK(code_point_flags(0x1C) == (kOther | kPySpace));  // str.isspace but not regex \s
  CHECK(has_flag(0x3000, kRegexSpace));
  CHECK(has_flag(0x4E2D, kLetter));    // 中
  CHECK(has_flag(0xBD, kNumber));      // ½
  CHECK(has_flag(0x1F600, kOther));    // 😀
  CHECK(has_flag(0x1E6C0, kLetter));   // Unicode 17 (regex), unassigned in Python 3.11's 14.0
  CHECK((code_point_flags(0x345) & (kLetter | kNumber | kOther | kRegexSpace)) == 0);
  CHECK(code_point_flags(0x110000) == 0);
}

TEST_CASE("unicode: Python's str.lower") {
  CHECK(python_lower(U"ABC xyz") == U"abc xyz");
  CHECK(python_lower(U"\u0130") == U"i\u0307");
  CHECK(python_lower(U"ΟΔΟΣ") == U"οδος");
  CHECK(python_lower(U"ΣΑΣ.") == U"σας.");
  CHECK(python_lower(U"Σ") == U"σ");
  CHECK(python_lower(U"ΑΣ'Β") == U"ασ'β");   // ' is case-ignorable: Β follows
  CHECK(python_lower(U"ΑΣ1") == U"ας1");
  CHECK(python_lower(U"ЁЖИК Straße") == U"ёжик straße");
  CHECK(python_lower(U"\u212A") == U"k");  // Kelvin sign
  CHECK(lower_simple(0x10400) == 0x10428);  // Deseret
  CHECK(lower_simple(0x1F600) == 0x1F600);
}

TEST_CASE("clean: strip, whitespace collapse and lower as CLIP") {
  CHECK(clean_text(U"  Hello \t\n  World\u3000!  ") == U"hello world !");
  CHECK(clean_text(U"\x1c a\x1c b \x1c") == U"a\x1c b");
  CHECK(clean_text(U"&amp;amp;") == U"&");
  CHECK(clean_text(U"&nbsp;x&nbsp;") == U"x");
  CHECK(clean_text(U"").empty());
}

// --- html.unescape -------------------------------------------------------------

TEST_CASE("html_unescape: Python's rules") {
  const auto un = [](std::string_view s) { return encode_utf8(html_unescape(u32(s))); };
  CHECK(un("a &amp; b") == "a & b");
  CHECK(un("&lt;b&gt;") == "<b>");
  CHECK(un("&amp;amp;") == "&amp;");
  CHECK(un("&#39;&#x27;&#X27;") == "'''");
  CHECK(un("&#65&#x42x") == "ABx");
  CHECK(un("&#0;") == "\xEF\xBF\xBD");
  CHECK(un("&#x80;") == "\xE2\x82\xAC");           // Windows-1252 euro sign
  CHECK(un("&#xD800;&#1114112;") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(un("&#99999999999999999999;") == "\xEF\xBF\xBD");
  CHECK(un("a&#1;b&#xFFFF;c") == "abc");            // dropped
  CHECK(un("&notin;&notit;") == "\xE2\x88\x89\xC2\xACit;");
  CHECK(un("&ampx &amp &AMP;") == "&x & &");
  CHECK(un("&foo; &; & amp; &#; &#x;") == "&foo; &; & amp; &#; &#x;");
  CHECK(un("&NotNestedGreaterGreater;") == "\xE2\xAA\xA2\xCC\xB8");
  CHECK(un("&" + std::string(40, 'a') + ";") == "&" + std::string(40, 'a') + ";");
  CHECK(un("&\xC3\xA9;") == "&\xC3\xA9;");
  CHECK(un("no entities") == "no entities");
}

// --- word splitting -------------------------------------------------------------

TEST_CASE("word_split: CLIP's pattern") {
  using V = std::vector<std::string>;
  CHECK(words_of("don't stop") == V{"don", "'t", "stop"});
  CHECK(words_of("''s") == V{"''", "s"});
  CHECK(words_of("'stop") == V{"'s", "top"});
  CHECK(words_of("2024") == V{"2", "0", "2", "4"});
  CHECK(words_of("a<|endoftext|>b") == V{"a", "<|endoftext|>", "b"});
  CHECK(words_of("!<|endoftext|>") == V{"!<|", "endoftext", "|>"});
  CHECK(words_of("it'\xC5\xBF") == V{"it", "'\xC5\xBF"});  // U+017F matches 's' under IGNORECASE
  CHECK(words_of("a\xCD\x85" "b") == V{"a", "b"});          // U+0345 is in no class
  CHECK(words_of("x ... y") == V{"x", "...", "y"});
  CHECK(words_of("") == V{});
  int calls = 0;
  for_each_word(U"a b c d", [&](std::size_t, std::size_t) { return ++calls < 2; });
  CHECK(calls == 2);
}

// --- BPE --------------------------------------------------------------------------

namespace {

// simple_tokenizer.py's bpe(), transcribed: merge every occurrence of the
// lowest-ranked pair, rescan, repeat.
std::vector<std::int32_t> reference_bpe(const Vocabulary& vocab, const std::string& word) {
  std::vector<std::int32_t> w;
  for (std::size_t i = 0; i < word.size(); ++i) {
    const auto b = static_cast<unsigned char>(word[i]);
    w.push_back(i + 1 < word.size() ? Vocabulary::byte_token(b) : Vocabulary::end_of_word_byte_token(b));
  }
  while (w.size() > 1) {
    const Vocabulary::Merge* best = nullptr;
    std::int32_t first = 0, second = 0;
    for (std::size_t i = 0; i + 1 < w.size(); ++i) {
      const auto* m = vocab.find_merge(w[i], w[i + 1]);
      if (m && (!best || m->rank < best->rank)) {
        best = m;
        first = w[i];
        second = w[i + 1];
      }
    }
    if (!best) break;
    std::vector<std::int32_t> next;
    for (std::size_t i = 0; i < w.size();) {
      if (i + 1 < w.size() && w[i] == first && w[i + 1] == second) {
        next.push_back(best->result);
        i += 2;
      } else {
        next.push_back(w[i++]);
      }
    }
    w.swap(next);
  }
  return w;
}

}  // namespace

TEST_CASE("bpe: heap order gives the reference merges on random words") {
  const Vocabulary& vocab = clip_tokenizer().vocabulary();
  std::mt19937 rng(1234);
  const std::string alphabets[] = {"aeiou", "abcdefghijklmnopqrstuvwxyz", "ab", "es", "!.,-", "\xE4\xB8\xAD\xE6\x96\x87"};
  BpeScratch scratch;
  int compared = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const std::string& alphabet = alphabets[trial % 6];
    std::string word;
    const int len = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) word += alphabet[rng() % alphabet.size()];
    std::vector<std::int32_t> got;
    bpe_word(vocab, word, got, scratch);
    CAPTURE(word);
    CHECK(got == reference_bpe(vocab, word));
    ++compared;
  }
  CHECK(compared == 3000);
}

TEST_CASE("bpe: a very long word stays fast and exact") {
  const Vocabulary& vocab = clip_tokenizer().vocabulary();
  std::string word;
  std::mt19937 rng(99);
  for (int i = 0; i < 3000; ++i) word += static_cast<char>('a' + rng() % 26);
  BpeScratch scratch;
  std::vector<std::int32_t> got;
  bpe_word(vocab, word, got, scratch);
  CHECK(got == reference_bpe(vocab, word));
  CHECK(clip_tokenizer().encode(std::string(1 << 20, 'a')).size() > 1000);  // 1 MiB, one word
}
