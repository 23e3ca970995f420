// Model::encode_text / encode_texts and zero-shot images against the PyTorch
// reference's goldens (clip_a.io.safetensors), the learned-prompt path left
// untouched, and every error path of the text encoder and image classifier.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "clipcaer/io/safetensors.hpp"
#include "clipcaer/io/weight_reader.hpp"
#include "clipcaer/model.hpp"
#include "text_model_util.hpp"

using namespace clipcaer;
using clipcaer::test::read_tensor;
using clipcaer::test::contains;
using clipcaer::test::message_of;

namespace {

std::vector<std::int32_t> read_ids(const io::SafetensorsFile& f, const std::string& name) {
  const auto& t = f.tensor(name);
  REQUIRE(t.dtype == DType::i64);
  std::vector<std::int32_t> out(t.numel());
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::int64_t v;
    std::memcpy(&v, t.data + 8 * i, 8);
    out[i] = static_cast<std::int32_t>(v);
  }
  return out;
}

// Largest |a - b| relative to the largest |b|.
double rel_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return worst / scale;
}

Tensor normalized(Tensor t) {
  for (std::size_t r = 0; r < t.dim(0); ++r) text::normalize_row(t.row(r), t.dim(1));
  return t;
}


struct ClipGolden {
  Tensor images, image_features, text_features, logits;
  std::vector<std::int32_t> ids;
  std::size_t rows = 0, len = 0;
};

ClipGolden clip_golden() {
  io::SafetensorsFile f(std::string(CLIPCAER_FIXTURES_DIR) + "/clip_a.io.safetensors");
  ClipGolden g{read_tensor(f, "images"), read_tensor(f, "image_features"), read_tensor(f, "text_features"),
               read_tensor(f, "logits_per_image"), read_ids(f, "token_ids")};
  g.rows = f.tensor("token_ids").shape[0];
  g.len = f.tensor("token_ids").shape[1];
  return g;
}

}  // namespace

TEST_CASE("plain CLIP: encode_text, encode_images and zero-shot logits match the reference on every kernel set") {
  const ClipGolden g = clip_golden();
  for (const kernels::KernelTable* table : kernels::usable_tables()) {
    INFO("table->name = " << table->name);
    ModelOptions o;
    o.isa = table->name;
    o.threads = 2;
    Model m(test::clip_a_path(), o);
    CHECK(m.config().input_normalization == "clip");
    const Tensor text = m.encode_text(g.ids.data(), g.rows, g.len);
    CHECK(rel_diff(text, g.text_features) <= 1e-5);
    const Tensor image = m.encode_images(g.images);
    CHECK(rel_diff(image, g.image_features) <= 1e-5);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < g.rows; ++i) names.push_back("class " + std::to_string(i));
    TextHead head(names, std::make_shared<const Tensor>(normalized(m.encode_text(g.ids.data(), g.rows, g.len))), m.id());
    auto preds = m.classify_images(g.images, head);
    REQUIRE(preds.size() == g.images.dim(0));
    for (std::size_t i = 0; i < preds.size(); ++i) {
      for (std::size_t c = 0; c < g.rows; ++c) CHECK(std::abs(preds[i].logits[c] - g.logits.row(i)[c]) <= 2e-4);
      const float* want = g.logits.row(i);
      CHECK(preds[i].index == static_cast<std::size_t>(std::max_element(want, want + g.rows) - want));
      CHECK(preds[i].label == names[preds[i].index]);
    }
    Tensor one({3, g.images.dim(2), g.images.dim(3)});
    std::copy(g.images.row(0), g.images.row(0) + one.size(), one.begin());
    CHECK(m.classify_image(one, head).logits == preds[0].logits);
  }
}

TEST_CASE("encode_text: the EOT is each row's largest id, rows after it change nothing, passes split freely") {
  const ClipGolden g = clip_golden();
  Model m(test::clip_a_path());
  const Tensor full = m.encode_text(g.ids.data(), g.rows, g.len);
  // Each row alone, cut after its EOT: same features (causal mask).
  for (std::size_t r = 0; r < g.rows; ++r) {
    const std::int32_t* row = g.ids.data() + r * g.len;
    const std::size_t eot = static_cast<std::size_t>(std::max_element(row, row + g.len) - row);
    const Tensor alone = m.encode_text(row, 1, eot + 1);
    for (std::size_t i = 0; i < m.embed_dim(); ++i) CHECK(alone.row(0)[i] == doctest::Approx(full.row(r)[i]).epsilon(1e-5));
  }
  // 150 texts (three passes of at most 64) give the rows of one pass each.
  std::vector<std::int32_t> many;
  for (std::size_t k = 0; k < 150; ++k) many.insert(many.end(), g.ids.begin() + (k % g.rows) * g.len,
                                                    g.ids.begin() + (k % g.rows + 1) * g.len);
  const Tensor big = m.encode_text(many.data(), 150, g.len);
  for (std::size_t k = 0; k < 150; k += 37)
    for (std::size_t i = 0; i < m.embed_dim(); ++i)
      CHECK(big.row(k)[i] == doctest::Approx(full.row(k % g.rows)[i]).epsilon(1e-5));
}

TEST_CASE("plain CLIP files load without the CAER parts and refuse clip classification") {
  Model m(test::clip_a_path());
  CHECK(m.num_classes() == 0);
  CHECK(m.text_features().empty());
  CHECK(contains(message_of([&] { m.learned_head(); }, ErrorCode::unsupported), "no learned prompts"));
  Tensor clip = Tensor::zeros({1, 3, m.image_size(), m.image_size()});
  CHECK(contains(message_of([&] { m.classify_clip(clip, clip); }, ErrorCode::unsupported), "plain CLIP"));
}

TEST_CASE("CLIP-CAER: the learned head is text_features() itself and gives the default logits bitwise") {
  for (const test::Fixture& fx : test::caer_fixtures()) {
    INFO("fx.name = " << fx.name);
    Model m(fx.weights);
    const TextHead& h = m.learned_head();
    CHECK(&h.features() == &m.text_features());
    CHECK(h.names() == m.class_names());
    if (fx.procedural_inputs) continue;
    io::SafetensorsFile io(fx.io);
    const Tensor faces = read_tensor(io, "faces"), frames = read_tensor(io, "frames");
    const auto by_default = m.classify_clips(faces, frames);
    const auto with_head = m.classify_clips(faces, frames, h);
    for (std::size_t i = 0; i < by_default.size(); ++i) CHECK(with_head[i].logits == by_default[i].logits);
  }
}

TEST_CASE("CLIP-CAER: a head of other classes drives classify_clip, and its image tower classifies images") {
  const test::Fixture fx = test::caer_fixtures().front();
  Model m(fx.weights);
  io::SafetensorsFile io(fx.io);
  const Tensor faces = read_tensor(io, "faces"), frames = read_tensor(io, "frames");
  const std::int32_t ids[2][4] = {{30, 3, 4, 31}, {30, 5, 31, 0}};
  auto text_ptr = std::make_shared<const Tensor>(normalized(m.encode_text(&ids[0][0], 2, 4)));
  const Tensor& text = *text_ptr;
  TextHead head({"yes", "no"}, text_ptr, m.id());
  const ClipFeatures f = m.features(faces, frames);
  const auto preds = m.classify_clips(faces, frames, head);
  for (std::size_t i = 0; i < preds.size(); ++i) {
    REQUIRE(preds[i].logits.size() == 2);
    for (std::size_t c = 0; c < 2; ++c) {
      double dot = 0;
      for (std::size_t k = 0; k < m.embed_dim(); ++k) dot += static_cast<double>(f.video.row(i)[k]) * text.row(c)[k];
      CHECK(preds[i].logits[c] == doctest::Approx(100.0 * dot).epsilon(1e-5));
    }
  }
  Tensor image({3, m.image_size(), m.image_size()});
  std::copy(faces.data(), faces.data() + image.size(), image.begin());
  Tensor one({1, 3, m.image_size(), m.image_size()});
  std::copy(image.begin(), image.end(), one.begin());
  const Tensor feat = normalized(m.encode_images(one));
  const Prediction p = m.classify_image(image, head);
  for (std::size_t c = 0; c < 2; ++c) {
    double dot = 0;
    for (std::size_t k = 0; k < m.embed_dim(); ++k) dot += static_cast<double>(feat.row(0)[k]) * text.row(c)[k];
    CHECK(p.logits[c] == doctest::Approx(100.0 * dot).epsilon(1e-5));
  }
}

TEST_CASE("encode_texts tokenises with the embedded vocabulary and encodes exactly those ids") {
  Model m(test::write_full_vocab_clip(/*embed_vocab=*/true));
  const std::vector<std::string> texts = {"a photo of a confused student.", "Enjoyment: upturned mouth corners",
                                          "Ünïcödé ✓ 学生"};
  const text::TokenBatch ids = m.tokenizer().tokenize(texts, 77, false);
  CHECK(ids.at(0, 0) == 49406);
  const Tensor from_ids = m.encode_text(ids);
  const Tensor from_text = m.encode_texts(texts);
  REQUIRE(from_text.shape() == from_ids.shape());
  CHECK(std::memcmp(from_text.data(), from_ids.data(), from_ids.size() * sizeof(float)) == 0);
  // The same from ModelOptions::vocab_path when the file embeds none.
  ModelOptions o;
  o.vocab_path = test::vocab_path();
  Model plain(test::write_full_vocab_clip(false), o);
  const Tensor again = plain.encode_texts(texts);
  CHECK(std::memcmp(again.data(), from_ids.data(), from_ids.size() * sizeof(float)) == 0);
}

TEST_CASE("text encoder errors") {
  Model m(test::clip_a_path());
  const std::int32_t ok[3] = {30, 1, 31};
  CHECK(contains(message_of([&] { m.encode_text(ok, 0, 3); }), "at least one text"));
  CHECK(contains(message_of([&] { m.encode_text(ok, 1, 0); }), "1 to 16"));
  CHECK(contains(message_of([&] { m.encode_text(nullptr, 1, 3); }), "null"));
  std::vector<std::int32_t> long_row(17, 1);
  CHECK(contains(message_of([&] { m.encode_text(long_row.data(), 1, 17); }), "17 ids"));
  const std::int32_t bad[2][3] = {{30, 1, 31}, {30, 32, 31}};
  const std::string e = message_of([&] { m.encode_text(&bad[0][0], 2, 3); });
  CHECK(contains(e, "token id 32 at text 1, position 1"));
  CHECK(contains(e, "[0, 32)"));
  const std::int32_t negative[3] = {30, -5, 31};
  CHECK(contains(message_of([&] { m.encode_text(negative, 1, 3); }), "token id -5"));

  // No tokenizer anywhere; a missing vocab file; a vocabulary of another size.
  CHECK(contains(message_of([&] { m.encode_texts({"hello"}); }), "vocab_path"));
  ModelOptions missing;
  missing.vocab_path = "/nonexistent/bpe.txt.gz";
  CHECK(contains(message_of([&] { Model(test::clip_a_path(), missing).encode_texts({"x"}); }, ErrorCode::file_not_found),
                 "/nonexistent/bpe.txt.gz"));
  ModelOptions real;
  real.vocab_path = test::vocab_path();
  CHECK(contains(message_of([&] { Model(test::clip_a_path(), real).encode_texts({"x"}); }, ErrorCode::unsupported),
                 "vocabulary of 32"));

  Model full(test::write_full_vocab_clip(true));
  CHECK(contains(message_of([&] { full.encode_texts({}); }), "at least one text"));
  CHECK(contains(message_of([&] { full.encode_texts({"ok", std::string("bad \xff byte")}); }), "UTF-8"));
  std::string longer;
  for (int i = 0; i < 80; ++i) longer += "word ";
  CHECK(contains(message_of([&] { full.encode_texts({longer}); }), "text 0"));
  CHECK(full.encode_texts({longer}, /*truncate=*/true).dim(0) == 1);
}

TEST_CASE("zero-shot image errors") {
  Model m(test::clip_a_path()), other(test::clip_a_path());
  const std::int32_t ids[3] = {30, 1, 31};
  auto text = std::make_shared<const Tensor>(normalized(m.encode_text(ids, 1, 3)));
  TextHead head({"a"}, text, m.id());
  TextHead foreign({"a"}, text, other.id());
  Tensor image = Tensor::zeros({3, m.image_size(), m.image_size()});
  CHECK(contains(message_of([&] { m.classify_image(image, foreign); }), "another Model"));
  CHECK(contains(message_of([&] { m.classify_image(image, TextHead()); }), "empty"));
  CHECK(contains(message_of([&] { m.classify_image(Tensor::zeros({1, 3, 4, 4}), head); }), "(3, S, S)"));
  CHECK(contains(message_of([&] { m.classify_image(Tensor::zeros({3, 8, 8}), head); }), "8x8"));
  image[0] = 255.0f;
  CHECK(contains(message_of([&] { m.classify_image(image, head); }), "[0, 1]"));
  CHECK(contains(message_of([&] { m.classify_images(Tensor::zeros({3, 32, 32}), head); }), "(N, 3, S, S)"));
}
