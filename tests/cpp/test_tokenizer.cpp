// Tokenizer against the reference CLIP tokenizer's ids (shared/testdata and
// tests/fixtures), its error paths, and concurrent use.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "clipcaer/text/tokenizer.hpp"
#include "test_util.hpp"
#include "tokenizer_test_util.hpp"

using namespace clipcaer;
using clipcaer::test::error_of;
using clipcaer::test::contains;
using clipcaer::test::clip_merges_path;
using clipcaer::test::clip_tokenizer;
using text::Tokenizer;

namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open ", path);
  return nlohmann::json::parse(in);
}

const nlohmann::json& more_cases() {
  static const nlohmann::json cases = read_json(CLIPCAER_FIXTURES_DIR "/tokenizer_more_cases.json");
  return cases;
}

// A reference row (padding dropped) padded back to its context length.
std::vector<std::int32_t> padded(std::vector<std::int32_t> ids, std::size_t context_length) {
  ids.resize(context_length, 0);
  return ids;
}

std::vector<std::int32_t> row_of(const text::TokenBatch& b, std::size_t r) {
  return std::vector<std::int32_t>(b.row(r), b.row(r) + b.cols);
}

}  // namespace

TEST_CASE("tokenizer: vocabulary size and markers") {
  const Tokenizer& tok = clip_tokenizer();
  CHECK(tok.vocab_size() == 49408);
  CHECK(tok.decode({Tokenizer::kStartOfText, Tokenizer::kEndOfText}) == "<|startoftext|><|endoftext|>");
  CHECK(tok.encode("<|startoftext|>a<|endoftext|>") == std::vector<std::int32_t>{49406, 320, 49407});
}

TEST_CASE("tokenizer: shared reference cases (context 77, truncate)") {
  const nlohmann::json cases = read_json(CLIPCAER_SHARED_DIR "/testdata/tokenizer_cases.json");
  REQUIRE(cases.size() >= 17);
  std::vector<std::string> texts;
  for (const auto& c : cases) texts.push_back(c.at("text").get<std::string>());
  const text::TokenBatch batch = clip_tokenizer().tokenize(texts);
  REQUIRE(batch.rows == cases.size());
  REQUIRE(batch.cols == 77);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(texts[i]);
    CHECK(row_of(batch, i) == cases[i].at("ids").get<std::vector<std::int32_t>>());
  }
}

TEST_CASE("tokenizer: fixture cases match the reference without ftfy") {
  const nlohmann::json& fixture = more_cases();
  const auto& cases = fixture.at("cases");
  REQUIRE(cases.size() >= 500);
  const Tokenizer& tok = clip_tokenizer();
  std::size_t exact = 0, ftfy_differs = 0;
  std::vector<std::string> texts;
  for (const auto& c : cases) {
    const std::string t = c.at("text").get<std::string>();
    texts.push_back(t);
    CAPTURE(c.at("group").get<std::string>());
    CAPTURE(t);
    const auto tokens = c.at("tokens").get<std::vector<std::int32_t>>();
    const auto& want77 = c.contains("ids_no_ftfy") ? c.at("ids_no_ftfy") : c.at("ids");
    if (c.contains("ids_no_ftfy")) ++ftfy_differs;

    const auto encoded = tok.encode(t);
    CHECK(encoded == tokens);
    const auto row77 = row_of(tok.tokenize({t}), 0);
    CHECK(row77 == padded(want77.get<std::vector<std::int32_t>>(), 77));
    CHECK(row_of(tok.tokenize({t}, 8), 0) == padded(c.at("ids_ctx8").get<std::vector<std::int32_t>>(), 8));
    const bool fits = c.at("fits_77").get<bool>();
    if (fits)
      CHECK(row_of(tok.tokenize({t}, 77, false), 0) == row77);
    else
      CHECK_THROWS_AS(tok.tokenize({t}, 77, false), Error);
    CHECK(tok.decode(tokens) == c.at("decoded").get<std::string>());
    if (encoded == tokens && row77 == padded(want77.get<std::vector<std::int32_t>>(), 77)) ++exact;
  }
  CHECK(exact == cases.size());
  CHECK(ftfy_differs == fixture.at("summary").at("ftfy_changes_ids").get<std::size_t>());
  MESSAGE(exact, " of ", cases.size(), " fixture cases exact; ftfy would change the ids of ", ftfy_differs);

  // The whole fixture as one batch: rows are independent.
  const text::TokenBatch batch = tok.tokenize(texts);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    CAPTURE(texts[i]);
    CHECK(row_of(batch, i) == row_of(tok.tokenize({texts[i]}), 0));
  }
}

TEST_CASE("tokenizer: fixture cases without ftfy differences match CLIP itself") {
  std::size_t checked = 0;
  for (const auto& c : more_cases().at("cases")) {
    if (c.contains("ids_no_ftfy")) continue;
    const std::string t = c.at("text").get<std::string>();
    CAPTURE(t);
    CHECK(row_of(clip_tokenizer().tokenize({t}), 0) == padded(c.at("ids").get<std::vector<std::int32_t>>(), 77));
    ++checked;
  }
  CHECK(checked > 400);
}

TEST_CASE("tokenizer: truncation keeps <|endoftext|> last") {
  const Tokenizer& tok = clip_tokenizer();
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "student ";
  const auto full = tok.encode(long_text);
  REQUIRE(full.size() == 200);
  for (std::size_t ctx : {2u, 3u, 10u, 77u, 201u, 202u, 300u}) {
    CAPTURE(ctx);
    const auto row = row_of(tok.tokenize({long_text}, ctx), 0);
    const std::size_t used = std::min<std::size_t>(ctx - 2, 200);
    CHECK(row[0] == Tokenizer::kStartOfText);
    CHECK(std::equal(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(used), row.begin() + 1));
    CHECK(row[used + 1] == Tokenizer::kEndOfText);
    CHECK(std::all_of(row.begin() + static_cast<std::ptrdiff_t>(used) + 2, row.end(), [](int v) { return v == 0; }));
  }
  CHECK(tok.tokenize({long_text}, 202, false).cols == 202);
  CHECK_THROWS_AS(tok.tokenize({long_text}, 201, false), Error);
}

TEST_CASE("tokenizer: an empty batch and empty texts") {
  const Tokenizer& tok = clip_tokenizer();
  const auto none = tok.tokenize({});
  CHECK(none.rows == 0);
  CHECK(none.ids.empty());
  CHECK(tok.encode("").empty());
  CHECK(row_of(tok.tokenize({""}, 4), 0) == std::vector<std::int32_t>{49406, 49407, 0, 0});
}

TEST_CASE("tokenizer: too long without truncate names the text and its token count") {
  const std::string t = "Relaxed mouth, open eyes, neutral eyebrows, no noticeable emotional changes";
  REQUIRE(clip_tokenizer().encode(t).size() == 13);
  const auto e = error_of([&] { clip_tokenizer().tokenize({"ok", t}, 10, false); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(contains(e.what(), "text 1"));
  CHECK(contains(e.what(), "(\"Relaxed mouth, open eyes, neutral eyebrows, no n...\")"));
  CHECK(contains(e.what(), "has 15 tokens"));
  CHECK(contains(e.what(), "context_length 10"));
}

TEST_CASE("tokenizer: the message cuts a long text at a character boundary") {
  const std::string t = std::string(47, 'a') + "\xC3\xA9" + std::string(100, 'b');  // 'é' straddles byte 48
  const auto e = error_of([&] { clip_tokenizer().tokenize({t}, 5, false); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(contains(e.what(), "(\"" + std::string(47, 'a') + "...\")"));
}

TEST_CASE("tokenizer: bad context_length") {
  for (std::size_t ctx : {0u, 1u}) {
    const auto e = error_of([&] { clip_tokenizer().tokenize({"a"}, ctx); });
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(contains(e.what(), "context_length must be at least 2"));
  }
  const auto e = error_of([&] { clip_tokenizer().tokenize({"a", "b"}, static_cast<std::size_t>(-1) / 4); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(contains(e.what(), "too large"));
}

TEST_CASE("tokenizer: invalid UTF-8 is an error naming the text and byte offset") {
  const Tokenizer& tok = clip_tokenizer();
  const struct {
    std::string bytes;
    std::string offset;
  } bad[] = {
      {"ab\xFF", "offset 2"},             // never in UTF-8
      {"\x80x", "offset 0"},              // lone continuation byte
      {"a\xC0\xAF", "offset 1"},          // overlong '/'
      {"ok \xED\xA0\x80", "offset 3"},    // a surrogate
      {"\xF4\x90\x80\x80", "offset 0"},   // past U+10FFFF
      {"abc\xE2\x82", "offset 3"},        // cut off
      {"\xF0\x9F\x98" "a", "offset 0"},   // continuation missing
  };
  for (const auto& b : bad) {
    CAPTURE(b.offset);
    const auto e = error_of([&] { tok.encode(b.bytes); });
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(contains(e.what(), "not valid UTF-8"));
    CHECK(contains(e.what(), b.offset));
    const auto e2 = error_of([&] { tok.tokenize({"fine", "also fine", b.bytes}); });
    CHECK(e2.code() == ErrorCode::invalid_argument);
    CHECK(contains(e2.what(), "text 2 is not valid UTF-8"));
  }
  CHECK(contains(error_of([&] { tok.encode("abc\xE2\x82"); }).what(), "cut off by the end"));
}

TEST_CASE("tokenizer: decode") {
  const Tokenizer& tok = clip_tokenizer();
  CHECK(tok.decode(tok.encode("A photo of a student, who's confused!")) == "a photo of a student , who 's confused ! ");
  CHECK(tok.decode({}).empty());
  // Part of a multi-byte character decodes to U+FFFD, as in CLIP.
  const std::int32_t lead = text::Vocabulary::byte_token(0xF0);
  CHECK(tok.decode({lead, 320}) == "\xEF\xBF\xBD" "a ");
}

TEST_CASE("tokenizer: decode rejects ids outside the vocabulary") {
  for (std::int32_t bad : {-1, 49408, 1 << 30}) {
    const auto e = error_of([&] { clip_tokenizer().decode({320, bad}); });
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(contains(e.what(), "token id " + std::to_string(bad) + " at position 1"));
  }
}

TEST_CASE("tokenizer: one tokenizer shared by threads") {
  // A fresh tokenizer, so that the threads race to fill its cache.
  const Tokenizer tok(clip_merges_path());
  std::vector<std::string> texts;
  std::vector<std::vector<std::int32_t>> want;
  for (const auto& c : more_cases().at("cases")) {
    texts.push_back(c.at("text").get<std::string>());
    want.push_back(c.at("tokens").get<std::vector<std::int32_t>>());
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t k = 0; k < texts.size(); ++k) {
        const std::size_t i = (k * 7 + static_cast<std::size_t>(t) * 131) % texts.size();
        if (tok.encode(texts[i]) != want[i]) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(mismatches.load() == 0);
  CHECK(tok.cached_words() > 100);
}

TEST_CASE("tokenizer: the word cache is bounded") {
  const Tokenizer tok(clip_merges_path());
  std::string many;
  for (std::size_t i = 0; i < text::WordCache::kMaxEntries + 100; ++i) {
    std::size_t v = i;
    std::string word;
    do {
      word += static_cast<char>('a' + v % 26);
      v /= 26;
    } while (v);
    many += word + ' ';
  }
  const auto ids = tok.encode(many);
  CHECK(ids.size() >= text::WordCache::kMaxEntries);
  CHECK(tok.cached_words() == text::WordCache::kMaxEntries);
  // Words past the cap, uncached, still encode as before.
  CHECK(tok.encode(many) == ids);
}
