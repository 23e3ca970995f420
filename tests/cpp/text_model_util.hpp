// Test models for the text API: clip_a (a plain CLIP fixture, V = 32) and a
// copy of it with a full CLIP vocabulary (V = 49408, context 77), written once
// per test process, so the real tokenizer's ids are in range.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/safetensors.hpp"
#include "error_test_util.hpp"
#include "test_util.hpp"

namespace clipcaer::test {

inline std::string clip_a_path() { return std::string(CLIPCAER_FIXTURES_DIR) + "/clip_a.safetensors"; }
inline std::string vocab_path() { return std::string(CLIPCAER_SHARED_DIR) + "/clip/bpe_simple_vocab_16e6.txt.gz"; }

// clip_a with a random (49408, 64) token embedding and (77, 64) positions;
// embed_vocab adds the merges file as tensor tokenizer.bpe_vocab_gz.
inline std::string write_full_vocab_clip(bool embed_vocab) {
  static TempFile with("full_vocab_embedded.safetensors"), without("full_vocab.safetensors");
  const std::string& path = embed_vocab ? with.path : without.path;
  if (!read_bytes(path).empty()) return path;
  io::SafetensorsFile src(clip_a_path());
  nlohmann::json config = nlohmann::json::parse(src.metadata("config"));
  const std::size_t width = config["text"]["width"];
  config["text"]["vocab_size"] = 49408;
  config["text"]["context_length"] = 77;
  SafetensorsBuilder b;
  for (const auto& name : src.names()) {
    const io::TensorInfo& t = src.tensor(name);
    if (name == "token_embedding.weight" || name == "positional_embedding") continue;
    b.add(name, std::string(dtype_name(t.dtype)), t.shape, t.data, t.nbytes);
  }
  b.add_f32("token_embedding.weight", {49408, width}, random_floats(49408 * width, 7, -0.1f, 0.1f));
  b.add_f32("positional_embedding", {77, width}, random_floats(77 * width, 8, -0.01f, 0.01f));
  if (embed_vocab) {
    const std::string gz = read_bytes(vocab_path());
    b.add("tokenizer.bpe_vocab_gz", "U8", {gz.size()}, gz.data(), gz.size());
  }
  for (const auto& [k, v] : src.metadata()) b.meta(k, v);
  b.meta("config", config.dump());
  b.write(path);
  return path;
}

}  // namespace clipcaer::test
