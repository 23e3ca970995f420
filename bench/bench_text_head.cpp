// Building a 5-class x 10-prompt head on a full-size text tower (width 512,
// 12 layers, vocabulary 49408, context 77: CLIP ViT-B/32's): tokenise, encode
// 50 prompts, ensemble. The weights file is random, written to /tmp at start
// and removed at exit (never committed); its image tower is a token one.
// bench/bench_text_head_reference.py times the PyTorch reference on the same shapes.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../tests/cpp/test_util.hpp"
#include "clipcaer/model.hpp"

namespace {

using clipcaer::test::random_floats;

constexpr std::size_t kWidth = 512, kLayers = 12, kVocab = 49408, kContext = 77, kEmbed = 512;
constexpr std::size_t kVisionWidth = 64, kPatch = 32, kImage = 32;  // token image tower

const char* const kClasses[] = {"neutrality", "enjoyment", "confusion", "fatigue", "distraction"};
const char* const kTemplates[] = {
    "a photo of a {} student.",       "a photo of a student showing {}.",
    "a video frame of a {} learner in a classroom.", "a close-up photo of a {} face.",
    "a student who looks {}.",        "an image of {} during a lecture.",
    "a blurry photo of a {} student.", "a low resolution photo of a student feeling {}.",
    "the academic emotion of {}.",    "a classroom scene with a {} student.",
};

void add_block(clipcaer::test::SafetensorsBuilder& b, const std::string& p, std::size_t w, std::uint32_t seed) {
  const std::vector<float> ones(4 * w, 1.0f), zeros(4 * w, 0.0f);
  b.add_f32(p + "ln_1.weight", {w}, {ones.begin(), ones.begin() + w});
  b.add_f32(p + "ln_1.bias", {w}, {zeros.begin(), zeros.begin() + w});
  b.add_f32(p + "attn.in_proj_weight", {3 * w, w}, random_floats(3 * w * w, seed, -0.05f, 0.05f));
  b.add_f32(p + "attn.in_proj_bias", {3 * w}, {zeros.begin(), zeros.begin() + 3 * w});
  b.add_f32(p + "attn.out_proj.weight", {w, w}, random_floats(w * w, seed + 1, -0.05f, 0.05f));
  b.add_f32(p + "attn.out_proj.bias", {w}, {zeros.begin(), zeros.begin() + w});
  b.add_f32(p + "ln_2.weight", {w}, {ones.begin(), ones.begin() + w});
  b.add_f32(p + "ln_2.bias", {w}, {zeros.begin(), zeros.begin() + w});
  b.add_f32(p + "mlp.c_fc.weight", {4 * w, w}, random_floats(4 * w * w, seed + 2, -0.05f, 0.05f));
  b.add_f32(p + "mlp.c_fc.bias", {4 * w}, zeros);
  b.add_f32(p + "mlp.c_proj.weight", {w, 4 * w}, random_floats(4 * w * w, seed + 3, -0.02f, 0.02f));
  b.add_f32(p + "mlp.c_proj.bias", {w}, {zeros.begin(), zeros.begin() + w});
}

// A plain CLIP file with the full text tower and the CLIP merges file embedded.
std::string write_model() {
  static const clipcaer::test::TempFile file("bench_text_head.safetensors");
  clipcaer::test::SafetensorsBuilder b;
  const std::size_t vw = kVisionWidth, grid = kImage / kPatch;
  b.add_f32("visual.conv1.weight", {vw, 3, kPatch, kPatch}, random_floats(vw * 3 * kPatch * kPatch, 1, -0.02f, 0.02f));
  b.add_f32("visual.class_embedding", {vw}, random_floats(vw, 2));
  b.add_f32("visual.positional_embedding", {grid * grid + 1, vw}, random_floats((grid * grid + 1) * vw, 3));
  for (const char* ln : {"visual.ln_pre", "visual.ln_post"}) {
    b.add_f32(std::string(ln) + ".weight", {vw}, std::vector<float>(vw, 1.0f));
    b.add_f32(std::string(ln) + ".bias", {vw}, std::vector<float>(vw, 0.0f));
  }
  add_block(b, "visual.transformer.resblocks.0.", vw, 10);
  b.add_f32("visual.proj", {vw, kEmbed}, random_floats(vw * kEmbed, 4, -0.1f, 0.1f));
  b.add_f32("token_embedding.weight", {kVocab, kWidth}, random_floats(kVocab * kWidth, 5, -0.02f, 0.02f));
  b.add_f32("positional_embedding", {kContext, kWidth}, random_floats(kContext * kWidth, 6, -0.01f, 0.01f));
  for (std::size_t i = 0; i < kLayers; ++i)
    add_block(b, "transformer.resblocks." + std::to_string(i) + ".", kWidth, static_cast<std::uint32_t>(100 + 10 * i));
  b.add_f32("ln_final.weight", {kWidth}, std::vector<float>(kWidth, 1.0f));
  b.add_f32("ln_final.bias", {kWidth}, std::vector<float>(kWidth, 0.0f));
  b.add_f32("text_projection", {kWidth, kEmbed}, random_floats(kWidth * kEmbed, 7, -0.05f, 0.05f));
  const std::string gz = clipcaer::test::read_bytes(CLIPCAER_SHARED_DIR "/clip/bpe_simple_vocab_16e6.txt.gz");
  b.add("tokenizer.bpe_vocab_gz", "U8", {gz.size()}, gz.data(), gz.size());
  const nlohmann::json config = {
      {"vision", {{"width", vw}, {"layers", 1}, {"heads", 1}, {"patch_size", kPatch}, {"image_size", kImage}}},
      {"text",
       {{"width", kWidth}, {"layers", kLayers}, {"heads", kWidth / 64}, {"context_length", kContext},
        {"vocab_size", kVocab}}},
      {"embed_dim", kEmbed},
      {"logit_scale", 100.0},
      {"input_normalization", "clip"}};
  b.meta("format", "clipcaer").meta("format_version", "1").meta("model_type", "clip").meta("classes", "[]");
  b.meta("config", config.dump());
  b.write(file.path);
  return file.path;
}

const clipcaer::Model& model() {
  static const std::unique_ptr<clipcaer::Model> m = [] {
    clipcaer::ModelOptions o;
    o.threads = 2;  // the shared bench machine has two cores; the reference uses two torch threads
    return std::make_unique<clipcaer::Model>(write_model(), o);
  }();
  return *m;
}

// The 5 x 10 prompt set; `tag` makes the class names (part of the cache key)
// unique, so every call builds the head from scratch.
std::vector<clipcaer::text::ClassPrompts> classes(const std::string& tag) {
  std::vector<clipcaer::text::ClassPrompts> out;
  for (const char* c : kClasses) out.push_back({std::string(c) + tag, {}, {c}});
  return out;
}

clipcaer::HeadOptions templates() {
  clipcaer::HeadOptions o;
  o.templates.assign(std::begin(kTemplates), std::end(kTemplates));
  return o;
}

void BM_text_head_5x10_build(benchmark::State& state) {
  const clipcaer::Model& m = model();
  const clipcaer::HeadOptions o = templates();
  m.tokenizer();  // loading the merges file is a one-off, not part of a head
  static std::size_t i = 0;  // across repetitions too: never a cache hit
  for (auto _ : state) benchmark::DoNotOptimize(m.make_head(classes("#" + std::to_string(i++)), o));
}
BENCHMARK(BM_text_head_5x10_build)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_text_head_5x10_cached(benchmark::State& state) {
  const clipcaer::Model& m = model();
  const clipcaer::HeadOptions o = templates();
  m.make_head(classes(""), o);
  for (auto _ : state) benchmark::DoNotOptimize(m.make_head(classes(""), o));
}
BENCHMARK(BM_text_head_5x10_cached)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_text_encode_50_prompts_ids(benchmark::State& state) {
  const clipcaer::Model& m = model();
  std::vector<std::string> prompts;
  for (const char* t : kTemplates)
    for (const char* c : kClasses) prompts.push_back(std::string(t).replace(std::string(t).find("{}"), 2, c));
  const clipcaer::text::TokenBatch ids = m.tokenizer().tokenize(prompts, kContext, false);
  for (auto _ : state) benchmark::DoNotOptimize(m.encode_text(ids));
}
BENCHMARK(BM_text_encode_50_prompts_ids)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
