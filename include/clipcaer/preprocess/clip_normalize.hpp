// OpenAI CLIP's input normalisation, (pixel - mean) / std per RGB channel,
// which plain CLIP models (input_normalization = "clip") expect; CLIP-CAER
// takes [0, 1] pixels as they are.
#pragma once

#include <cstddef>

namespace clipcaer::preprocess {

inline constexpr float kClipMean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
inline constexpr float kClipStd[3] = {0.26862954f, 0.26130258f, 0.27577711f};

// n images of 3 x plane floats (CHW); out may equal in. Divides rather than
// multiplying by 1/std, as torchvision's Normalize and the reference do.
inline void clip_normalize(const float* in, std::size_t n, std::size_t plane, float* out) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < 3; ++c) {
      const float* src = in + (i * 3 + c) * plane;
      float* dst = out + (i * 3 + c) * plane;
      for (std::size_t p = 0; p < plane; ++p) dst[p] = (src[p] - kClipMean[c]) / kClipStd[c];
    }
}

}  // namespace clipcaer::preprocess
