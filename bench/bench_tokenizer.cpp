// Tokenizer throughput: the five RAER descriptors (as the official code spells
// them) and a 5-class x 10-template prompt set (the templates of
// tests/generate_tokenizer_cases.py). bench/bench_tokenizer_reference.py times
// OpenAI's Python tokenizer on the same texts.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "clipcaer/text/tokenizer.hpp"

namespace {

const char* const kVocabPath = CLIPCAER_SHARED_DIR "/clip/bpe_simple_vocab_16e6.txt.gz";

const std::vector<std::string> kRaerDescriptors = {
    "Relaxed mouth,open eyes,neutral eyebrows,no noticeable emotional changes,engaged with study materials, or natural body posture.",
    "Upturned mouth corners,sparkling eyes,relaxed eyebrows,focused on course content,or occasionally nodding in agreement.",
    "Furrowed eyebrows, slightly open mouth, wandering or puzzled gaze, chin rests on the palm,or eyes lock on learning material.",
    "Mouth opens in a yawn, eyelids droop, head tilts forward, eyes lock on learning material, or hand writing.",
    "Shifting eyes, restless or fidgety posture, relaxed but unfocused expression,frequently checking phone,or averted gaze from study materials.",
};

std::vector<std::string> prompt_set() {
  const char* const classes[] = {"neutrality", "enjoyment", "confusion", "fatigue", "distraction"};
  const char* const templates[] = {
      "a photo of a {} student.",       "a photo of a student showing {}.",
      "a video frame of a {} learner in a classroom.", "a close-up photo of a {} face.",
      "a student who looks {}.",        "an image of {} during a lecture.",
      "a blurry photo of a {} student.", "a low resolution photo of a student feeling {}.",
      "the academic emotion of {}.",    "a classroom scene with a {} student.",
  };
  std::vector<std::string> out;
  for (const char* t : templates) {
    for (const char* c : classes) {
      std::string s = t;
      s.replace(s.find("{}"), 2, c);
      out.push_back(s);
    }
  }
  return out;
}

const clipcaer::text::Tokenizer& tokenizer() {
  static const clipcaer::text::Tokenizer tok(kVocabPath);
  return tok;
}

void BM_tokenizer_load(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(clipcaer::text::Tokenizer(kVocabPath).vocab_size());
}
BENCHMARK(BM_tokenizer_load)->Unit(benchmark::kMillisecond);

void BM_tokenize_raer_descriptors(benchmark::State& state) {
  const auto& tok = tokenizer();
  for (auto _ : state) benchmark::DoNotOptimize(tok.tokenize(kRaerDescriptors).ids.data());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kRaerDescriptors.size()));
}
BENCHMARK(BM_tokenize_raer_descriptors)->Unit(benchmark::kMicrosecond);

void BM_tokenize_prompt_set_5x10(benchmark::State& state) {
  const auto& tok = tokenizer();
  const auto prompts = prompt_set();
  for (auto _ : state) benchmark::DoNotOptimize(tok.tokenize(prompts).ids.data());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(prompts.size()));
}
BENCHMARK(BM_tokenize_prompt_set_5x10)->Unit(benchmark::kMicrosecond);

// A fresh tokenizer per iteration (load excluded): every word misses the cache.
void BM_tokenize_raer_descriptors_cold_cache(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    auto tok = std::make_unique<clipcaer::text::Tokenizer>(kVocabPath);
    state.ResumeTiming();
    benchmark::DoNotOptimize(tok->tokenize(kRaerDescriptors).ids.data());
    state.PauseTiming();
    tok.reset();  // destruction is not tokenising
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kRaerDescriptors.size()));
}
BENCHMARK(BM_tokenize_raer_descriptors_cold_cache)->Unit(benchmark::kMicrosecond)->Iterations(20);

}  // namespace

BENCHMARK_MAIN();
