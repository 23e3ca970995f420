// Prompt-ensemble heads: the ensemble math, templates, JSON, the per-model
// cache, combining heads, and their error paths.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "clipcaer/model.hpp"
#include "text_model_util.hpp"

using namespace clipcaer;
using clipcaer::test::contains;
using clipcaer::test::message_of;

namespace {

// normalise(mean(normalise(rows))) in double, written out independently.
std::vector<double> ensemble_double(const Tensor& rows, std::size_t first, std::size_t count) {
  const std::size_t d = rows.dim(1);
  std::vector<double> mean(d, 0.0);
  for (std::size_t r = first; r < first + count; ++r) {
    double n = 0;
    for (std::size_t i = 0; i < d; ++i) n += static_cast<double>(rows.row(r)[i]) * rows.row(r)[i];
    for (std::size_t i = 0; i < d; ++i) mean[i] += rows.row(r)[i] / std::sqrt(n) / static_cast<double>(count);
  }
  double n = 0;
  for (double v : mean) n += v * v;
  for (double& v : mean) v /= std::sqrt(n);
  return mean;
}

const Model& full_model() {
  static Model m(test::write_full_vocab_clip(/*embed_vocab=*/true));
  return m;
}

}  // namespace

TEST_CASE("ensemble_features: mean of normalised rows, re-normalised") {
  Tensor rows({5, 8});
  auto v = test::random_floats(40, 3, -2.0f, 2.0f);
  std::copy(v.begin(), v.end(), rows.begin());
  const Tensor out = text::ensemble_features(rows.data(), {2, 3}, 8);
  REQUIRE(out.shape() == Shape{2, 8});
  const auto a = ensemble_double(rows, 0, 2), b = ensemble_double(rows, 2, 3);
  for (std::size_t i = 0; i < 8; ++i) {
    CHECK(out.row(0)[i] == doctest::Approx(a[i]).epsilon(1e-6));
    CHECK(out.row(1)[i] == doctest::Approx(b[i]).epsilon(1e-6));
  }
  CHECK(contains(message_of([&] { text::ensemble_features(rows.data(), {2, 0}, 8); }), "class 1 has no prompts"));
}

TEST_CASE("make_head: per-class ensembles of encode_texts, and templates") {
  const Model& m = full_model();
  const std::vector<text::ClassPrompts> classes = {
      {"Confusion", {"a photo of a confused student.", "a student frowning at the board."}, {}},
      {"Fatigue", {"a photo of a tired student."}, {}}};
  const TextHead h = m.make_head(classes);
  CHECK(h.names() == std::vector<std::string>{"Confusion", "Fatigue"});
  const Tensor enc = m.encode_texts({classes[0].prompts[0], classes[0].prompts[1], classes[1].prompts[0]});
  const auto a = ensemble_double(enc, 0, 2), b = ensemble_double(enc, 2, 1);
  for (std::size_t i = 0; i < m.embed_dim(); ++i) {
    CHECK(h.features().row(0)[i] == doctest::Approx(a[i]).epsilon(1e-6));
    CHECK(h.features().row(1)[i] == doctest::Approx(b[i]).epsilon(1e-6));
  }

  // Templates x descriptors (or x the name): the same as writing the prompts out.
  HeadOptions o;
  o.templates = {"a photo of a {} student.", "{}"};
  const TextHead t = m.make_head({{"confused", {}, {}}, {"Fatigue", {}, {"tired", "sleepy"}}}, o);
  const TextHead written = m.make_head({{"confused", {"a photo of a confused student.", "confused"}, {}},
                                        {"Fatigue",
                                         {"a photo of a tired student.", "a photo of a sleepy student.", "tired",
                                          "sleepy"},
                                         {}}});
  CHECK(t.shares_features_with(written));  // one cache entry: same expanded text
}

TEST_CASE("make_head caches per model under the expanded text") {
  Model m(test::write_full_vocab_clip(true));
  CHECK(m.cached_heads() == 0);
  const std::vector<text::ClassPrompts> classes = {{"A", {"one"}, {}}, {"B", {}, {"two"}}};
  const TextHead first = m.make_head(classes);
  const TextHead second = m.make_head(classes);
  CHECK(second.shares_features_with(first));
  CHECK(m.cached_heads() == 1);
  HeadOptions truncating;
  truncating.truncate = true;
  CHECK_FALSE(m.make_head(classes, truncating).shares_features_with(first));
  CHECK_FALSE(m.make_head({{"A", {"one"}, {}}, {"C", {"two"}, {}}}).shares_features_with(first));  // names count
  CHECK(m.cached_heads() == 3);
  // Another model does not share the cache.
  Model other(test::write_full_vocab_clip(true));
  CHECK_FALSE(other.make_head(classes).shares_features_with(first));
}

TEST_CASE("heads from JSON: prompts, descriptor(s) and templates") {
  const Model& m = full_model();
  test::TempFile f("head.json");
  test::write_bytes(f.path, R"({"templates": ["a photo of a {} student."],
    "classes": [{"name": "Neutrality", "descriptor": "calm"},
                {"name": "Enjoyment", "descriptors": ["smiling", "nodding"], "prompts": ["a happy student."]}]})");
  const TextHead h = m.head_from_json(f.path);
  const TextHead same = m.make_head({{"Neutrality", {"a photo of a calm student."}, {}},
                                     {"Enjoyment",
                                      {"a happy student.", "a photo of a smiling student.",
                                       "a photo of a nodding student."},
                                      {}}});
  CHECK(h.shares_features_with(same));
  // The shipped example heads parse and build.
  for (const char* name : {"caer7.json", "raer5.json"}) {
    CAPTURE(name);
    const TextHead ex = m.head_from_json(std::string(CLIPCAER_SOURCE_DIR) + "/examples/heads/" + name);
    CHECK(ex.num_classes() == (std::string(name) == "caer7.json" ? 7u : 5u));
  }
}

TEST_CASE("combine_heads: weighted sum of normalised features, re-normalised") {
  const Model& m = full_model();
  const TextHead a = m.make_head({{"A", {"a calm face"}, {}}, {"B", {"a yawning student"}, {}}});
  const TextHead b = m.make_head({{"A", {"relaxed eyebrows"}, {}}, {"B", {"eyelids droop"}, {}}});
  const TextHead c = combine_heads(a, b, 0.25f);
  CHECK(c.names() == a.names());
  for (std::size_t k = 0; k < 2; ++k) {
    std::vector<double> want(m.embed_dim());
    double n = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      want[i] = 0.75 * a.features().row(k)[i] + 0.25 * b.features().row(k)[i];
      n += want[i] * want[i];
    }
    for (std::size_t i = 0; i < want.size(); ++i)
      CHECK(c.features().row(k)[i] == doctest::Approx(want[i] / std::sqrt(n)).epsilon(1e-6));
  }
  const TextHead only_a = combine_heads(a, b, 0.0f);
  for (std::size_t i = 0; i < m.embed_dim(); ++i)
    CHECK(only_a.features().row(1)[i] == doctest::Approx(a.features().row(1)[i]).epsilon(1e-6));
}

TEST_CASE("CLIP-CAER: combining the learned head with a descriptor ensemble over the same classes") {
  const test::Fixture fx = test::caer_fixtures().front();
  Model m(fx.weights);
  const TextHead& learned = m.learned_head();
  // caer_a's vocabulary is tiny, so its descriptor head is built from ids.
  std::vector<std::int32_t> ids;
  for (std::size_t c = 0; c < learned.num_classes(); ++c)
    ids.insert(ids.end(), {30, static_cast<std::int32_t>(c + 1), 31});
  Tensor enc = m.encode_text(ids.data(), learned.num_classes(), 3);
  const TextHead desc(learned.names(),
                      std::make_shared<const Tensor>(text::ensemble_features(
                          enc.data(), std::vector<std::size_t>(learned.num_classes(), 1), m.embed_dim())),
                      m.id());
  const TextHead mixed = combine_heads(learned, desc, 0.5f);
  io::SafetensorsFile io(fx.io);
  Tensor faces(io.tensor("faces").shape), frames(io.tensor("frames").shape);
  io::WeightReader::to_float(io.tensor("faces"), faces.data());
  io::WeightReader::to_float(io.tensor("frames"), frames.data());
  CHECK(m.classify_clips(faces, frames, mixed).front().logits.size() == learned.num_classes());
}

TEST_CASE("head errors") {
  const Model& m = full_model();
  CHECK(contains(message_of([&] { m.make_head({}); }), "at least one class"));
  CHECK(contains(message_of([&] { m.make_head({{"A", {}, {}}}); }), "'A') has no prompts"));
  CHECK(contains(message_of([&] { m.make_head({{"", {"x"}, {}}}); }), "empty name"));
  HeadOptions no_slot;
  no_slot.templates = {"a photo"};
  CHECK(contains(message_of([&] { m.make_head({{"A", {}, {}}}, no_slot); }), "exactly one \"{}\""));
  HeadOptions two_slots;
  two_slots.templates = {"{} and {}"};
  CHECK(contains(message_of([&] { m.make_head({{"A", {}, {}}}, two_slots); }), "exactly one"));
  CHECK(contains(message_of([&] { m.make_head({{"A", {std::string("caf\xc3")}, {}}}); }), "UTF-8"));
  std::string longer;
  for (int i = 0; i < 80; ++i) longer += "word ";
  CHECK(contains(message_of([&] { m.make_head({{"A", {longer}, {}}}); }), "tokens"));
  HeadOptions cut;
  cut.truncate = true;
  CHECK(m.make_head({{"A", {longer}, {}}}, cut).num_classes() == 1);
  CHECK(m.cached_heads() >= 1);

  const TextHead two = m.make_head({{"A", {"a"}, {}}, {"B", {"b"}, {}}});
  const TextHead three = m.make_head({{"A", {"a"}, {}}, {"B", {"b"}, {}}, {"C", {"c"}, {}}});
  const TextHead renamed = m.make_head({{"A", {"a"}, {}}, {"X", {"b"}, {}}});
  CHECK(contains(message_of([&] { combine_heads(two, three); }), "class counts differ (2 vs 3)"));
  CHECK(contains(message_of([&] { combine_heads(two, renamed, 0.5f); }), "class 1 is 'B'"));
  CHECK(contains(message_of([&] { combine_heads(two, two, 1.5f); }), "outside [0, 1]"));
  CHECK(contains(message_of([&] { combine_heads(two, TextHead(), 0.5f); }), "empty"));
  Model other(test::write_full_vocab_clip(true));
  const TextHead foreign = other.make_head({{"A", {"a"}, {}}, {"B", {"b"}, {}}});
  CHECK(contains(message_of([&] { combine_heads(two, foreign, 0.5f); }), "different models"));
  const Tensor image = Tensor::zeros({3, m.image_size(), m.image_size()});
  CHECK(contains(message_of([&] { m.classify_image(image, foreign); }), "another Model"));
  CHECK(contains(message_of([&] {
                   TextHead({"A", "B"}, std::make_shared<const Tensor>(Shape{3, 4}), 1);
                 }),
                 "one feature row per class"));

  // JSON files.
  CHECK(contains(message_of([&] { m.head_from_json("/nonexistent/head.json"); }, ErrorCode::file_not_found),
                 "/nonexistent/head.json"));
  test::TempFile f("bad_head.json");
  auto json_error = [&](const std::string& text, ErrorCode code = ErrorCode::format) {
    test::write_bytes(f.path, text);
    return message_of([&] { m.head_from_json(f.path); }, code);
  };
  CHECK(contains(json_error("{not json"), "not valid JSON"));
  CHECK(contains(json_error("[1, 2]"), "'classes' list"));
  CHECK(contains(json_error(R"({"classes": 3})"), "no 'classes' list"));
  CHECK(contains(json_error(R"({"classes": [{"prompts": ["x"]}]})"), "class 0 is not an object with a string 'name'"));
  CHECK(contains(json_error(R"({"classes": [{"name": "A", "prompts": [1]}]})"), "'prompts' must be a list of strings"));
  CHECK(contains(json_error(R"({"classes": [{"name": "A", "descriptor": {}}]})"), "'descriptor'"));
  CHECK(contains(json_error(R"({"classes": []})", ErrorCode::invalid_argument), "at least one class"));
  CHECK(contains(json_error(R"({"classes": [{"name": "A"}]})", ErrorCode::invalid_argument), "no prompts"));
}
