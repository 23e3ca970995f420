// ModelConfig: the sizes and class list stored in a weights file's metadata
// (docs/weights.md). Parsed and sanity-checked here; tensor shapes are checked
// against it when the layers load.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/safetensors.hpp"

namespace clipcaer {

struct VisionConfig {
  std::size_t width = 0, layers = 0, heads = 0, patch_size = 0, image_size = 0;
  std::size_t grid() const { return image_size / patch_size; }
  std::size_t tokens() const { return grid() * grid() + 1; }
};

struct TextConfig {
  std::size_t width = 0, layers = 0, heads = 0, context_length = 0, vocab_size = 0;
};

struct TemporalConfig {
  std::size_t num_frames = 0, depth = 0, heads = 0, dim_head = 0, mlp_dim = 0;
};

struct ClassInfo {
  std::string name;
  std::string descriptor;
};

struct ModelConfig {
  std::string model_type;  // "clip-caer" or "clip"
  VisionConfig vision;
  TextConfig text;
  std::size_t embed_dim = 0;
  TemporalConfig temporal;  // clip-caer only
  std::size_t n_ctx = 0;
  bool class_specific_ctx = true;
  std::vector<std::size_t> eot_positions;
  float logit_scale = 100.0f;
  std::string input_normalization = "none";  // "none" or "clip"
  std::vector<ClassInfo> classes;

  bool is_clip_caer() const { return model_type == "clip-caer"; }
  std::size_t num_classes() const { return classes.size(); }
};

namespace detail {

class ConfigReader {
 public:
  ConfigReader(const std::string& path, const char* what) : path_(path), what_(what) {}

  template <class... Parts>
  [[noreturn]] void fail(Parts&&... parts) const {
    throw_error(ErrorCode::format, "weights file '", path_, "': ", what_, " ", std::forward<Parts>(parts)...);
  }

  nlohmann::json parse(const std::string& text) const {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) fail("is not valid JSON");
    return j;
  }

  const nlohmann::json& object(const nlohmann::json& j, const char* key) const {
    auto it = j.find(key);
    if (it == j.end() || !it->is_object()) fail("has no object '", key, "'");
    return *it;
  }

  std::size_t size(const nlohmann::json& j, const char* key, bool allow_zero = false) const {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned()) fail("has no non-negative integer '", key, "'");
    auto v = it->get<std::size_t>();
    if (!allow_zero && v == 0) fail("has '", key, "' = 0");
    if (v > (1u << 24)) fail("has an implausible '", key, "' = ", v);
    return v;
  }

 private:
  std::string path_;
  const char* what_;
};

inline void check_heads(const ConfigReader& r, const char* tower, std::size_t width, std::size_t heads) {
  if (width % heads != 0) r.fail(tower, " width ", width, " is not a multiple of its ", heads, " heads");
}

}  // namespace detail

inline ModelConfig parse_model_config(const io::SafetensorsFile& file) {
  const auto& meta = file.metadata();
  auto get = [&](const char* key) -> const std::string& {
    auto it = meta.find(key);
    if (it == meta.end())
      throw_error(ErrorCode::format, "weights file '", file.path(), "' has no metadata '", key,
                  "': it was not written by weights/convert.py");
    return it->second;
  };
  if (get("format") != "clipcaer")
    throw_error(ErrorCode::format, "weights file '", file.path(), "' has format '", get("format"),
                "', expected 'clipcaer'");
  if (get("format_version") != "1")
    throw_error(ErrorCode::unsupported, "weights file '", file.path(), "' has format version ",
                get("format_version"), "; this build reads version 1");

  ModelConfig c;
  c.model_type = get("model_type");
  if (c.model_type != "clip-caer" && c.model_type != "clip")
    throw_error(ErrorCode::format, "weights file '", file.path(), "' has unknown model_type '", c.model_type, "'");

  detail::ConfigReader r(file.path(), "metadata 'config'");
  nlohmann::json j = r.parse(get("config"));
  if (!j.is_object()) r.fail("is not a JSON object");
  const auto& v = r.object(j, "vision");
  c.vision = {r.size(v, "width"), r.size(v, "layers"), r.size(v, "heads"), r.size(v, "patch_size"),
              r.size(v, "image_size")};
  if (c.vision.image_size % c.vision.patch_size != 0)
    r.fail("has image_size ", c.vision.image_size, " not a multiple of patch_size ", c.vision.patch_size);
  detail::check_heads(r, "vision", c.vision.width, c.vision.heads);
  const auto& t = r.object(j, "text");
  c.text = {r.size(t, "width"), r.size(t, "layers"), r.size(t, "heads"), r.size(t, "context_length"),
            r.size(t, "vocab_size")};
  detail::check_heads(r, "text", c.text.width, c.text.heads);
  c.embed_dim = r.size(j, "embed_dim");
  if (auto it = j.find("logit_scale"); it != j.end()) {
    if (!it->is_number() || !(it->get<double>() > 0)) r.fail("has a logit_scale that is not a positive number");
    c.logit_scale = it->get<float>();
  }
  if (auto it = j.find("input_normalization"); it != j.end()) {
    if (!it->is_string() || (*it != "none" && *it != "clip")) r.fail("has input_normalization not 'none' or 'clip'");
    c.input_normalization = it->get<std::string>();
  }

  if (c.is_clip_caer()) {
    const auto& tm = r.object(j, "temporal");
    c.temporal = {r.size(tm, "num_frames"), r.size(tm, "depth"), r.size(tm, "heads"), r.size(tm, "dim_head"),
                  r.size(tm, "mlp_dim")};
    c.n_ctx = r.size(j, "n_ctx");
    auto cs = j.find("class_specific_ctx");
    if (cs == j.end() || !cs->is_boolean()) r.fail("has no boolean 'class_specific_ctx'");
    c.class_specific_ctx = cs->get<bool>();
    const std::size_t num_classes = r.size(j, "num_classes");
    auto eot = j.find("eot_positions");
    if (eot == j.end() || !eot->is_array() || eot->size() != num_classes)
      r.fail("has no 'eot_positions' list of ", num_classes, " entries");
    for (const auto& e : *eot) {
      if (!e.is_number_unsigned()) r.fail("has an eot_position that is not a non-negative integer");
      auto p = e.get<std::size_t>();
      if (p <= c.n_ctx || p >= c.text.context_length)
        r.fail("has eot_position ", p, " outside (n_ctx, context_length) = (", c.n_ctx, ", ", c.text.context_length,
               ")");
      c.eot_positions.push_back(p);
    }
    detail::ConfigReader rc(file.path(), "metadata 'classes'");
    nlohmann::json cl = rc.parse(get("classes"));
    if (!cl.is_array() || cl.size() != num_classes) rc.fail("is not a list of ", num_classes, " classes");
    for (const auto& e : cl) {
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string())
        rc.fail("has an entry without a string 'name'");
      ClassInfo info{e["name"].get<std::string>(), ""};
      if (auto d = e.find("descriptor"); d != e.end() && d->is_string()) info.descriptor = d->get<std::string>();
      c.classes.push_back(std::move(info));
    }
  }
  return c;
}

}  // namespace clipcaer
