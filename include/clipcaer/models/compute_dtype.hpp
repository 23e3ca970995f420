// Which storage type a model's Linear weights get at load: the `dtype` option,
// else the file's `compute_dtype` metadata (written by weights/convert.py
// --dtype), else float32. Activations, LayerNorm, attention and embeddings
// stay float32 whatever the choice (docs/performance.md "Reduced precision").
#pragma once

#include <string>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/safetensors.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::models {

// "float32" / "bfloat16" / "int8" (also "f32", "fp32", "bf16", "i8"). `what`
// names where the value came from, for the error.
inline kernels::WeightType parse_compute_dtype(const std::string& name, const std::string& what) {
  if (name == "float32" || name == "f32" || name == "fp32") return kernels::WeightType::f32;
  if (name == "bfloat16" || name == "bf16") return kernels::WeightType::bf16;
  if (name == "int8" || name == "i8") return kernels::WeightType::i8;
  throw_error(ErrorCode::invalid_argument, what, " is '", name, "'; expected float32, bfloat16 or int8");
}

inline kernels::WeightType resolve_compute_dtype(const std::string& option, const io::SafetensorsFile& file) {
  if (!option.empty() && option != "auto") return parse_compute_dtype(option, "dtype");
  const auto& meta = file.metadata();
  const auto it = meta.find("compute_dtype");
  if (it == meta.end()) return kernels::WeightType::f32;
  return parse_compute_dtype(it->second, "weights file '" + file.path() + "': metadata compute_dtype");
}

}  // namespace clipcaer::models
