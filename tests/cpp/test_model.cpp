// clipcaer::Model against the PyTorch reference's goldens (tests/fixtures,
// made by weights/make_fixtures.py), on every kernel set this CPU runs, plus
// every error path of the public API.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>
#include <utility>

#include "clipcaer/io/safetensors.hpp"
#include "clipcaer/io/weight_reader.hpp"
#include "clipcaer/model.hpp"
#include "golden_util.hpp"
#include "error_test_util.hpp"
#include "test_util.hpp"

using namespace clipcaer;
using clipcaer::test::contains;
using clipcaer::test::Golden;
using clipcaer::test::load_golden;
using clipcaer::test::max_abs_diff;
using clipcaer::test::min_cosine;
using clipcaer::test::read_tensor;

namespace {

// The message of the error loading a model from path.
std::string error_of_load(const std::string& path) {
  return clipcaer::test::error_of([&] { Model m(path); }).what();
}

}  // namespace

TEST_CASE("fixtures exist") { CHECK(test::caer_fixtures().size() >= 3); }

TEST_CASE("parity with the PyTorch reference on every fixture and kernel set") {
  for (const test::Fixture& fx : test::caer_fixtures()) {
    Golden g = load_golden(fx);
    for (const kernels::KernelTable* table : kernels::usable_tables()) {
      INFO("fx.name = " << fx.name);
      INFO("table->name = " << table->name);
      ModelOptions o;
      o.isa = table->name;
      o.threads = 2;
      Model m(fx.weights, o);
      CHECK(std::string(m.kernel_set()) == table->name);
      CHECK(min_cosine(m.text_features(), g.text) >= 0.99999);
      ClipFeatures f = m.features(g.faces, g.frames);
      REQUIRE(f.logits.shape() == g.logits.shape());
      CHECK(max_abs_diff(f.logits.data(), g.logits.data(), g.logits.size()) <= 1e-3);
      CHECK(min_cosine(f.face_image, g.face_image) >= 0.99999);
      CHECK(min_cosine(f.context_image, g.context_image) >= 0.99999);
      CHECK(min_cosine(f.face_video, g.face_video) >= 0.99999);
      CHECK(min_cosine(f.context_video, g.context_video) >= 0.99999);
      CHECK(min_cosine(f.video, g.video) >= 0.99999);
      auto preds = m.classify_clips(g.faces, g.frames);
      for (std::size_t i = 0; i < preds.size(); ++i) {
        const float* want = g.logits.row(i);
        std::size_t best = static_cast<std::size_t>(std::max_element(want, want + m.num_classes()) - want);
        CHECK(preds[i].index == best);
        CHECK(preds[i].label == m.class_names()[best]);
        CHECK(max_abs_diff(preds[i].probs.data(), g.probs.row(i), m.num_classes()) <= 1e-4);
      }
    }
  }
}

// bf16 and int8 weights against the float32 goldens, on every kernel set,
// with the numbers printed for docs/performance.md "Reduced precision". Same
// top class everywhere. The logits bounds are looser than the full-size
// targets (bf16 <= 0.05, met there with 0.010): these models have 32-64
// feature dimensions, so rounding errors average out far less than in 512
// (int8 on AVX512_BF16 tables, whose attention runs in bf16 too: 0.65 on caer_a).
TEST_CASE("bfloat16 and int8 weights stay close to float32 on every fixture and kernel set") {
  struct Bound {
    const char* dtype;
    double logits, cosine;
  };
  for (const Bound b : {Bound{"bfloat16", 0.08, 0.9999}, Bound{"int8", 0.8, 0.999}}) {
    double worst_logits = 0, worst_cos = 1;
    std::size_t clips = 0, agree = 0;
    for (const test::Fixture& fx : test::caer_fixtures()) {
      Golden g = load_golden(fx);
      for (const kernels::KernelTable* table : kernels::usable_tables()) {
        INFO("b.dtype = " << b.dtype);
        INFO("fx.name = " << fx.name);
        INFO("table->name = " << table->name);
        ModelOptions o;
        o.isa = table->name;
        o.threads = 2;
        o.dtype = b.dtype;
        Model m(fx.weights, o);
        CHECK(std::string(m.dtype()) == b.dtype);
        ClipFeatures f = m.features(g.faces, g.frames);
        const double d = max_abs_diff(f.logits.data(), g.logits.data(), g.logits.size());
        const double c = std::min({min_cosine(f.video, g.video), min_cosine(f.face_video, g.face_video),
                                   min_cosine(f.context_video, g.context_video), min_cosine(m.text_features(), g.text)});
        CHECK(d <= b.logits);
        CHECK(c >= b.cosine);
        worst_logits = std::max(worst_logits, d);
        worst_cos = std::min(worst_cos, c);
        for (std::size_t i = 0; i < g.logits.dim(0); ++i) {
          const float* want = g.logits.row(i);
          const float* got = f.logits.row(i);
          const std::size_t C = m.num_classes();
          ++clips;
          agree += std::max_element(want, want + C) - want == std::max_element(got, got + C) - got;
        }
      }
    }
    CHECK(agree == clips);  // same top class as float32 on every fixture clip
    MESSAGE(std::string(b.dtype) << ": logits max abs diff " << worst_logits << ", min feature cosine " << worst_cos
                    << ", top class agrees on " << agree << "/" << clips << " (clips x kernel sets)");
  }
}

TEST_CASE("a clip alone, in a batch, and on any thread count gives bitwise the same logits, in every dtype") {
  const test::Fixture fx = test::caer_fixtures().front();
  Golden g = load_golden(fx);
  for (const char* dtype : {"float32", "bfloat16", "int8"}) {
    INFO("dtype = " << dtype);
    ModelOptions one, three;
    one.threads = 1;
    one.dtype = dtype;
    three.threads = 3;
    three.max_batch_images = 3;  // several image-tower passes
    three.dtype = dtype;
    Model a(fx.weights, one), b(fx.weights, three);
    const std::size_t T = g.faces.dim(1), per_clip = g.faces.size() / g.faces.dim(0);
    auto batch = a.classify_clips(g.faces, g.frames);
    auto batch3 = b.classify_clips(g.faces, g.frames);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto single = a.classify_clip(g.faces.data() + i * per_clip, g.frames.data() + i * per_clip, T);
      CHECK(single.logits == batch[i].logits);
      CHECK(batch3[i].logits == batch[i].logits);
    }
  }
}

TEST_CASE("dtype: option, file default, and errors") {
  const test::Fixture fx = test::caer_fixtures().front();
  CHECK(std::string(Model(fx.weights).dtype()) == "float32");
  for (auto [spelling, name] : {std::pair{"f32", "float32"}, std::pair{"bf16", "bfloat16"}, std::pair{"i8", "int8"},
                                std::pair{"auto", "float32"}}) {
    ModelOptions o;
    o.dtype = spelling;
    CHECK(std::string(Model(fx.weights, o).dtype()) == name);
  }
  ModelOptions bad;
  bad.dtype = "float16";
  CHECK_THROWS_WITH_AS(Model(fx.weights, bad), doctest::Contains("dtype is 'float16'; expected float32, bfloat16 or int8"),
                       Error);
  const std::string bytes = test::read_bytes(fx.weights);
  test::TempFile f("compute_dtype.safetensors");
  test::write_bytes(f.path, test::rewrite_header(bytes, [](nlohmann::json& h) { h["__metadata__"]["compute_dtype"] = "int8"; }));
  CHECK(std::string(Model(f.path).dtype()) == "int8");
  ModelOptions f32;
  f32.dtype = "float32";
  CHECK(std::string(Model(f.path, f32).dtype()) == "float32");  // the option wins
  test::write_bytes(f.path, test::rewrite_header(bytes, [](nlohmann::json& h) { h["__metadata__"]["compute_dtype"] = "int4"; }));
  try {
    Model m(f.path);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(contains(e.what(), f.path));
    CHECK(contains(e.what(), "compute_dtype is 'int4'"));
  }
}

TEST_CASE("four threads sharing one model match serial results") {
  const test::Fixture fx = test::caer_fixtures().front();
  Golden g = load_golden(fx);
  ModelOptions o;
  o.threads = 2;
  Model m(fx.weights, o);
  const auto serial = m.classify_clips(g.faces, g.frames);
  std::vector<std::vector<Prediction>> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) results[t] = m.classify_clips(g.faces, g.frames);
    });
  for (auto& t : threads) t.join();
  for (const auto& r : results)
    for (std::size_t i = 0; i < serial.size(); ++i) CHECK(r[i].logits == serial[i].logits);
}

TEST_CASE("fewer frames than T slice the position table, like the official code") {
  const test::Fixture fx = test::caer_fixtures().front();
  Model m(fx.weights);
  const std::size_t S = m.image_size(), T = m.num_frames();
  std::vector<float> clip(T * 3 * S * S, 0.25f);
  for (std::size_t frames = 1; frames <= T; ++frames) CHECK_NOTHROW(m.classify_clip(clip.data(), clip.data(), frames));
}

TEST_CASE("bad clip inputs give clear errors") {
  const test::Fixture fx = test::caer_fixtures().front();
  Model m(fx.weights);
  const std::size_t S = m.image_size(), T = m.num_frames();
  Tensor good({T, 3, S, S});
  std::fill(good.begin(), good.end(), 0.5f);
  auto message = [&](auto&& call) -> std::string {
    try {
      call();
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::invalid_argument);
      return e.what();
    }
    return "no error";
  };
  SUBCASE("wrong image size") {
    Tensor bad({T, 3, S + 1, S + 1});
    std::fill(bad.begin(), bad.end(), 0.5f);
    CHECK(contains(message([&] { m.classify_clip(bad, bad); }), "this model takes"));
  }
  SUBCASE("more frames than T") {
    Tensor bad({T + 1, 3, S, S});
    std::fill(bad.begin(), bad.end(), 0.5f);
    CHECK(contains(message([&] { m.classify_clip(bad, bad); }), "at most " + std::to_string(T)));
  }
  SUBCASE("face and frame counts differ") {
    if (T > 1) {
      Tensor fewer({T - 1, 3, S, S});
      std::fill(fewer.begin(), fewer.end(), 0.5f);
      CHECK(contains(message([&] { m.classify_clip(good, fewer); }), "same shape"));
    }
  }
  SUBCASE("wrong rank or channels") {
    Tensor flat({T, 3 * S * S});
    CHECK(contains(message([&] { m.classify_clip(flat, flat); }), "(T, 3, S, S)"));
    Tensor gray({T, 1, S, S});
    std::fill(gray.begin(), gray.end(), 0.5f);
    CHECK(contains(message([&] { m.classify_clip(gray, gray); }), "channels"));
  }
  SUBCASE("NaN and infinity") {
    for (float v : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
      Tensor bad({T, 3, S, S});
      std::copy(good.begin(), good.end(), bad.begin());
      bad[bad.size() - 1] = v;
      CHECK(contains(message([&] { m.classify_clip(good, bad); }), "frames[" + std::to_string(T - 1) + "]"));
    }
  }
  SUBCASE("0..255 pixels and mean/std-normalised pixels") {
    Tensor bad({T, 3, S, S});
    std::fill(bad.begin(), bad.end(), 200.0f);
    CHECK(contains(message([&] { m.classify_clip(bad, good); }), "expected [0, 1]"));
    std::fill(bad.begin(), bad.end(), -1.8f);
    CHECK(contains(message([&] { m.classify_clip(bad, good); }), "faces[0]"));
  }
  SUBCASE("null pointers and empty batches") {
    CHECK(contains(message([&] { m.classify_clip(nullptr, good.data(), T); }), "null"));
    CHECK(contains(message([&] { m.classify_clip(good.data(), good.data(), 0); }), "at least one frame"));
    ClipBatch b{good.data(), good.data(), 0, T, 3, S, S};
    CHECK(contains(message([&] { m.classify_clips(b); }), "at least one clip"));
  }
  SUBCASE("encode_images shape") {
    Tensor bad({2, 3, S});
    CHECK(contains(message([&] { m.encode_images(bad); }), "(N, 3, S, S)"));
  }
}

TEST_CASE("broken weights files give errors naming the file and tensor") {
  const test::Fixture fx = test::caer_fixtures().front();
  const std::string bytes = test::read_bytes(fx.weights);
  test::TempFile f("broken.safetensors");
  SUBCASE("missing file") {
    try {
      Model m("/nonexistent/clip_caer.safetensors");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::file_not_found);
    }
  }
  SUBCASE("truncated") {
    test::write_bytes(f.path, bytes.substr(0, bytes.size() / 2));
    CHECK(contains(error_of_load(f.path), "truncated"));
  }
  SUBCASE("not safetensors") {
    test::write_bytes(f.path, "this is a text file, not a model\n");
    CHECK(contains(error_of_load(f.path), "not a safetensors file"));
  }
  SUBCASE("wrong dtype") {
    test::write_bytes(f.path, test::rewrite_header(bytes, [](nlohmann::json& h) { h["visual.proj"]["dtype"] = "I32"; }));
    std::string e = error_of_load(f.path);
    CHECK(contains(e, "'visual.proj'"));
    CHECK(contains(e, "dtype I32"));
  }
  SUBCASE("misshapen tensor") {
    test::write_bytes(f.path, test::rewrite_header(bytes, [](nlohmann::json& h) {
                        auto& s = h["visual.proj"]["shape"];
                        s = {s[1], s[0]};
                      }));
    std::string e = error_of_load(f.path);
    CHECK(contains(e, "'visual.proj' has shape"));
    CHECK(contains(e, f.path));
  }
  SUBCASE("missing tensor") {
    test::write_bytes(f.path, test::rewrite_header(bytes, [](nlohmann::json& h) {
                        h["renamed.project_fc.bias"] = h["project_fc.bias"];
                        h.erase("project_fc.bias");
                      }));
    CHECK(contains(error_of_load(f.path), "has no tensor 'project_fc.bias'"));
  }
  SUBCASE("metadata missing or wrong") {
    test::write_bytes(f.path, test::rewrite_header(bytes, [](nlohmann::json& h) { h["__metadata__"].erase("config"); }));
    CHECK(contains(error_of_load(f.path), "no metadata 'config'"));
    test::write_bytes(f.path, test::rewrite_header(bytes, [](nlohmann::json& h) {
                        h["__metadata__"]["config"] = "{not json";
                      }));
    CHECK(contains(error_of_load(f.path), "not valid JSON"));
    test::write_bytes(f.path, test::rewrite_header(bytes, [](nlohmann::json& h) {
                        h["__metadata__"]["format_version"] = "99";
                      }));
    CHECK(contains(error_of_load(f.path), "format version 99"));
  }
  SUBCASE("unknown kernel set") {
    ModelOptions o;
    o.isa = "avx9000";
    CHECK_THROWS_WITH_AS(Model(fx.weights, o), doctest::Contains("avx9000"), Error);
  }
}

TEST_CASE("the patch embedding stays float32 in float32 and bfloat16, and is bfloat16 in int8") {
  const test::Fixture fx = test::caer_fixtures().front();
  io::SafetensorsFile file(fx.weights);
  io::WeightReader reader(file);
  const ModelConfig cfg = parse_model_config(file);
  using kernels::WeightType;
  for (auto [type, want] : {std::pair{WeightType::f32, WeightType::f32}, std::pair{WeightType::bf16, WeightType::f32},
                            std::pair{WeightType::i8, WeightType::bf16}}) {
    CAPTURE(static_cast<int>(type));
    models::VisionTransformer vit;
    vit.load({reader, kernels::best_table(), type}, cfg.vision, cfg.embed_dim);
    CHECK(vit.patch_embed().packed().type == want);
  }
}

namespace {
// One CLIP residual block of a weights file (tensors under `prefix`), for the
// block tests: its widths, the block loaded with `heads` heads, test inputs.
struct BlockFile {
  io::SafetensorsFile file;
  io::WeightReader reader{file};
  std::string prefix;
  std::size_t width = reader.file().tensor(prefix + "ln_1.weight").shape[0];
  std::size_t mlp = reader.file().tensor(prefix + "mlp.c_fc.bias").shape[0];

  BlockFile(const std::string& path, std::string p) : file(path), prefix(std::move(p)) {}
  // Layer 0 of the first CLIP-CAER fixture's image tower.
  static BlockFile fixture_layer0() {
    return BlockFile(test::caer_fixtures().front().weights, "visual.transformer.resblocks.0.");
  }

  void load(nn::TransformerBlock& block, const kernels::KernelTable& t, kernels::WeightType type,
            std::size_t heads) const {
    const nn::BlockShape shape{width, heads, width / heads, mlp, kernels::Activation::quick_gelu};
    block.load({reader, t, type}, nn::BlockNames::clip(prefix), shape);
  }
  // rows x width values 2 f(frequency * i).
  std::vector<float> input(std::size_t rows, float (*f)(float), float frequency) const {
    std::vector<float> x(rows * width);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = f(frequency * static_cast<float>(i)) * 2.0f;
    return x;
  }
};

// A random CLIP block of `width` (MLP 2 x width) under "b.", written to path.
void write_random_block(const std::string& path, std::size_t width) {
  const std::size_t mlp = 2 * width;
  std::uint32_t seed = 70;
  const auto r = [&](std::size_t n, float scale) { return test::random_floats(n, seed++, -scale, scale); };
  test::SafetensorsBuilder()
      .add_f32("b.ln_1.weight", {width}, r(width, 1.0f))
      .add_f32("b.ln_1.bias", {width}, r(width, 0.1f))
      .add_f32("b.attn.in_proj_weight", {3 * width, width}, r(3 * width * width, 0.3f))
      .add_f32("b.attn.in_proj_bias", {3 * width}, r(3 * width, 0.1f))
      .add_f32("b.attn.out_proj.weight", {width, width}, r(width * width, 0.3f))
      .add_f32("b.attn.out_proj.bias", {width}, r(width, 0.1f))
      .add_f32("b.ln_2.weight", {width}, r(width, 1.0f))
      .add_f32("b.ln_2.bias", {width}, r(width, 0.1f))
      .add_f32("b.mlp.c_fc.weight", {mlp, width}, r(mlp * width, 0.3f))
      .add_f32("b.mlp.c_fc.bias", {mlp}, r(mlp, 0.1f))
      .add_f32("b.mlp.c_proj.weight", {width, mlp}, r(width * mlp, 0.2f))
      .add_f32("b.mlp.c_proj.bias", {width}, r(width, 0.1f))
      .write(path);
}
}  // namespace

TEST_CASE("a transformer block gives the same bits run op by op and whole per group of sequences") {
  using nn::TransformerBlock;
  // The by-sequence schedule: ~384 rows per task, at least 2 tasks per thread
  // and 96 rows per task, else op by op.
  CHECK(TransformerBlock::sequences_per_task(32, 50, 2) == 8);
  CHECK(TransformerBlock::sequences_per_task(64, 50, 2) == 8);
  CHECK(TransformerBlock::sequences_per_task(32, 50, 8) == 2);
  CHECK(TransformerBlock::sequences_per_task(32, 50, 16) == 0);
  CHECK(TransformerBlock::sequences_per_task(1, 17, 2) == 0);
  CHECK(TransformerBlock::sequences_per_task(8, 77, 2) == 2);
  CHECK(TransformerBlock::sequences_per_task(5, 77, 2) == 0);

  const BlockFile fb = BlockFile::fixture_layer0();
  // Forced by sequence: 3 sequences per task on 1 thread (3 + 3 + 1), 1 on 3.
  const std::size_t batch = 7, seq = 5;
  const std::vector<float> x0 = fb.input(batch * seq, [](float v) { return std::sin(v); }, 0.37f);
  for (const kernels::KernelTable* t : kernels::usable_tables())
    for (kernels::WeightType type : {kernels::WeightType::f32, kernels::WeightType::bf16, kernels::WeightType::i8})
      for (std::size_t threads : {1u, 3u})
        for (bool causal : {false, true}) {
          INFO("table " << std::string(t->name) << ", type " << static_cast<int>(type) << ", threads " << threads
                        << ", causal " << causal);
          ThreadPool pool(threads);
          const ops::Context ctx{*t, pool};
          TransformerBlock block;
          fb.load(block, *t, type, 4);
          nn::Workspace ws1, ws2;
          std::vector<float> a = x0, b = x0;
          block.forward(ctx, a.data(), batch, seq, causal, ws1, TransformerBlock::Schedule::by_op);
          block.forward(ctx, b.data(), batch, seq, causal, ws2, TransformerBlock::Schedule::by_sequence);
          CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
          CHECK(std::memcmp(a.data(), x0.data(), a.size() * sizeof(float)) != 0);  // the block did something
        }
}

TEST_CASE("a block's first-rows path gives the same bits as the whole block's first rows") {
  using nn::TransformerBlock;
  // The fixture's layer 0 (inner width 64, on every table's panel bound) and
  // a random block of width 40 (off the bounds of 16- and 64-column panels:
  // some or all query columns are then computed for every row).
  test::TempFile tmp("first_rows_block.safetensors");
  write_random_block(tmp.path, 40);
  const BlockFile fixture = BlockFile::fixture_layer0(), odd(tmp.path, "b.");
  for (const BlockFile* fb : {&fixture, &odd}) {
    const std::size_t width = fb->width, batch = 5, seq = 6;
    const std::vector<float> x0 = fb->input(batch * seq, [](float v) { return std::cos(v); }, 0.29f);
    for (const kernels::KernelTable* t : kernels::usable_tables())
      for (kernels::WeightType type : {kernels::WeightType::f32, kernels::WeightType::bf16, kernels::WeightType::i8})
        for (std::size_t threads : {1u, 2u})
          for (bool causal : {false, true}) {
            INFO("width " << width << ", table " << std::string(t->name) << ", type " << static_cast<int>(type)
                          << ", threads " << threads << ", causal " << causal);
            ThreadPool pool(threads);
            const ops::Context ctx{*t, pool};
            TransformerBlock block;
            fb->load(block, *t, type, 2);
            nn::Workspace ws1, ws2;
            std::vector<float> whole = x0, first(batch * width, -1.0f);
            block.forward(ctx, whole.data(), batch, seq, causal, ws1);
            block.forward_first_rows(ctx, x0.data(), batch, seq, causal, first.data(), ws2);
            for (std::size_t b = 0; b < batch; ++b) {
              CAPTURE(b);
              CHECK(std::memcmp(first.data() + b * width, whole.data() + b * seq * width, width * sizeof(float)) ==
                    0);
              CHECK(std::memcmp(first.data() + b * width, x0.data() + b * seq * width, width * sizeof(float)) != 0);
            }
          }
  }
}
