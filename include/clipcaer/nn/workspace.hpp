// Scratch buffers reused across layers and calls, so steady-state inference
// does not allocate: each buffer only grows.
#pragma once

#include <cstddef>

#include "clipcaer/core/aligned_buffer.hpp"

namespace clipcaer::nn {

struct Workspace {
  AlignedBuffer<float> normed;    // LayerNorm output
  AlignedBuffer<float> qkv;       // packed q | k | v
  AlignedBuffer<float> attended;  // attention output before out projection
  AlignedBuffer<float> hidden;    // MLP hidden layer
  AlignedBuffer<float> attention_scratch;
  AlignedBuffer<float> tokens;    // a tower's residual stream
  AlignedBuffer<float> staging;   // im2col patches, gathered rows

  static float* ensure(AlignedBuffer<float>& b, std::size_t n) {
    if (b.size() < n) b.resize(n);
    return b.data();
  }
};

}  // namespace clipcaer::nn
