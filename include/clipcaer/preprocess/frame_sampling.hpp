// Test-mode frame choice of the official loader (`_get_test_indices`, with
// duration 1): N frames, T segments. If N > T, the middle frame of each of T
// equal parts: tick = N / T, index_i = int(tick / 2 + tick * i). Otherwise
// every frame once, then the last one repeated up to T.
#pragma once

#include <cstddef>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/preprocess/rounding.hpp"

namespace clipcaer::preprocess {

inline std::vector<std::size_t> sample_frame_indices(std::size_t num_frames, std::size_t num_segments) {
  require(num_frames > 0, ErrorCode::invalid_argument, "cannot sample frames from a clip with no frames");
  require(num_segments > 0, ErrorCode::invalid_argument, "the number of segments must be at least 1");
  std::vector<std::size_t> idx(num_segments);
  if (num_frames > num_segments) {
    const double tick = static_cast<double>(num_frames) / static_cast<double>(num_segments);
    for (std::size_t i = 0; i < num_segments; ++i) {
      const double pos = tick / 2.0 + detail::mul_rounded(tick, static_cast<double>(i));
      idx[i] = static_cast<std::size_t>(pos);  // int() of a positive float: truncation
      if (idx[i] >= num_frames) idx[i] = num_frames - 1;  // unreachable for sane sizes; keeps it in bounds
    }
  } else {
    for (std::size_t i = 0; i < num_segments; ++i) idx[i] = i < num_frames ? i : num_frames - 1;
  }
  return idx;
}

}  // namespace clipcaer::preprocess
