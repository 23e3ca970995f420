// The reference goldens of the parity fixtures (tests/fixtures, made by
// weights/make_fixtures.py) and the two measures the parity tests use.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "clipcaer/io/safetensors.hpp"
#include "clipcaer/model.hpp"
#include "test_util.hpp"

namespace clipcaer::test {

struct Golden {
  Tensor faces, frames, logits, probs, face_image, context_image, face_video, context_video, video, text;
};

inline Tensor procedural(const test::Fixture& fx, int stream, std::size_t size) {
  std::vector<float> v = test::procedural_clips(fx.clips, fx.frames, size, stream);
  Tensor t({fx.clips, fx.frames, 3, size, size});
  std::copy(v.begin(), v.end(), t.begin());
  return t;
}

inline Golden load_golden(const test::Fixture& fx) {
  io::SafetensorsFile f(fx.io);
  std::size_t size = 0;
  if (fx.procedural_inputs) size = Model(fx.weights).image_size();
  return {fx.procedural_inputs ? procedural(fx, 0, size) : read_tensor(f, "faces"),
          fx.procedural_inputs ? procedural(fx, 1, size) : read_tensor(f, "frames"),
          read_tensor(f, "logits"),         read_tensor(f, "probs"),
          read_tensor(f, "face_image_features"), read_tensor(f, "context_image_features"),
          read_tensor(f, "face_video_features"), read_tensor(f, "context_video_features"),
          read_tensor(f, "video_features"), read_tensor(f, "text_features")};
}

inline double max_abs_diff(const float* a, const float* b, std::size_t n) {
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

// Smallest cosine similarity between corresponding rows.
inline double min_cosine(const Tensor& a, const Tensor& b) {
  const std::size_t d = a.shape().back(), rows = a.size() / d;
  double worst = 1.0;
  for (std::size_t r = 0; r < rows; ++r) {
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < d; ++i) {
      ab += static_cast<double>(a.row(r)[i]) * b.row(r)[i];
      aa += static_cast<double>(a.row(r)[i]) * a.row(r)[i];
      bb += static_cast<double>(b.row(r)[i]) * b.row(r)[i];
    }
    worst = std::min(worst, ab / std::sqrt(aa * bb));
  }
  return worst;
}

}  // namespace clipcaer::test
