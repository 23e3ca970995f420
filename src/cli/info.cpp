// clipcaer info: what a weights file holds.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "args.hpp"
#include "clipcaer/io/safetensors.hpp"
#include "clipcaer/model.hpp"
#include "commands.hpp"

namespace clipcaer::cli {

const char* const kInfoHelp =
    "usage: clipcaer info MODEL.safetensors [--json]\n"
    "\n"
    "Prints the model's config, classes, parameter count, storage types and file size.\n";

int run_info(const std::vector<std::string>& argv) {
  const Args a = parse_args(argv, {}, {"json"});
  if (a.positional.size() != 1) throw UsageError("give exactly one weights file");
  const std::string path = a.positional[0];
  const io::SafetensorsFile file(path);
  const ModelConfig c = parse_model_config(file);
  std::size_t params = 0;
  std::map<std::string, std::size_t> by_dtype;
  for (const auto& name : file.names()) {
    const auto& t = file.tensor(name);
    if (t.dtype == DType::u8) continue;  // embedded tokenizer vocabulary, not parameters
    params += t.numel();
    by_dtype[dtype_name(t.dtype)] += t.numel();
  }
  const auto& meta = file.metadata();
  auto source = meta.count("source") ? meta.at("source") : std::string("?");
  if (a.has("json")) {
    nlohmann::json j = nlohmann::json::parse(meta.at("config"));
    j["model_type"] = c.model_type;
    j["parameters"] = params;
    j["file_bytes"] = file.file_size();
    j["dtypes"] = by_dtype;
    j["compute_dtype"] = kernels::weight_type_name(models::resolve_compute_dtype("", file));
    j["classes"] = nlohmann::json::parse(meta.count("classes") ? meta.at("classes") : "[]");
    j["source"] = source;
    j["has_vocab"] = file.has("tokenizer.bpe_vocab_gz");
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("file        %s (%.1f MB)\n", path.c_str(), file.file_size() / 1e6);
  std::printf("model       %s, %zu parameters (%.1f M)\n", c.model_type.c_str(), params, params / 1e6);
  std::printf("storage    ");
  for (const auto& [d, n] : by_dtype) std::printf(" %s: %zu", d.c_str(), n);
  std::printf("\n");
  std::printf("compute     %s Linear weights by default (--dtype overrides)\n",
              kernels::weight_type_name(models::resolve_compute_dtype("", file)));
  std::printf("source      %s\n", source.c_str());
  std::printf("vision      ViT width %zu, %zu layers, %zu heads, patch %zu, input %zux%zu\n", c.vision.width,
              c.vision.layers, c.vision.heads, c.vision.patch_size, c.vision.image_size, c.vision.image_size);
  std::printf("text        width %zu, %zu layers, %zu heads, context %zu, vocabulary %zu%s\n", c.text.width,
              c.text.layers, c.text.heads, c.text.context_length, c.text.vocab_size,
              file.has("tokenizer.bpe_vocab_gz") ? " (BPE merges embedded)" : "");
  std::printf("embedding   %zu\n", c.embed_dim);
  if (c.is_clip_caer()) {
    std::printf("temporal    %zu frames, depth %zu, %zu heads x %zu, MLP %zu\n", c.temporal.num_frames,
                c.temporal.depth, c.temporal.heads, c.temporal.dim_head, c.temporal.mlp_dim);
    std::printf("prompts     %zu learned context tokens (%s)\n", c.n_ctx,
                c.class_specific_ctx ? "per class" : "shared");
    std::printf("classes     %zu\n", c.num_classes());
    for (std::size_t i = 0; i < c.classes.size(); ++i)
      std::printf("  %zu %-14s %s\n", i + 1, c.classes[i].name.c_str(), c.classes[i].descriptor.c_str());
  }
  return 0;
}

}  // namespace clipcaer::cli
