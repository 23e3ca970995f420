// Sliding windows over a long video: which frames make each clip of a
// timeline. A window is a run of consecutive frames; each is then sampled as
// the official loader samples a clip (frame_sampling.hpp).
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "clipcaer/core/error.hpp"

namespace clipcaer::preprocess {

// More windows than this is a stride far too small for the video (a
// million windows is a week of video at a 0.5 s stride).
inline constexpr std::size_t kMaxWindows = std::size_t{1} << 20;

struct FrameWindow {
  std::size_t first = 0;  // frames [first, end)
  std::size_t end = 0;
};

// Windows of `length` frames starting every `stride` frames from frame 0.
// When the last of them stops short of the video's end, one more window ends
// at the last frame, so every frame belongs to a window and every window has
// `length` frames. A video of at most `length` frames is a single window.
inline std::vector<FrameWindow> plan_windows(std::size_t num_frames, std::size_t length, std::size_t stride) {
  require(num_frames >= 1, ErrorCode::invalid_argument, "cannot cut windows from a video with no frames");
  require(length >= 1, ErrorCode::invalid_argument, "a window must be at least 1 frame long");
  require(stride >= 1, ErrorCode::invalid_argument, "the window stride must be at least 1 frame");
  if (num_frames <= length) return {{0, num_frames}};
  const std::size_t full = (num_frames - length) / stride + 1;  // windows that fit from 0
  const bool tail = (full - 1) * stride + length < num_frames;
  require(full + (tail ? 1 : 0) <= kMaxWindows, ErrorCode::invalid_argument, num_frames, " frames cut every ",
          stride, " frames make ", full + (tail ? 1 : 0), " windows, more than the limit of ", kMaxWindows,
          ": choose a larger stride");
  std::vector<FrameWindow> w;
  w.reserve(full + 1);
  for (std::size_t k = 0; k < full; ++k) w.push_back({k * stride, k * stride + length});
  if (tail) w.push_back({num_frames - length, num_frames});
  return w;
}

// `seconds` of video at `frame_rate` frames per second, in whole frames
// (rounded, at least 1). `what` names the quantity in errors.
inline std::size_t seconds_to_frames(double seconds, double frame_rate, const char* what) {
  require(std::isfinite(seconds) && seconds > 0, ErrorCode::invalid_argument, what,
          " must be a positive number of seconds, got ", seconds);
  require(std::isfinite(frame_rate) && frame_rate > 0, ErrorCode::invalid_argument, what,
          " is in seconds but the frame rate is unknown (a folder of frames, or a video that states none): "
          "give the frame rate, or the window and stride in frames");
  const double frames = std::round(seconds * frame_rate);
  require(frames <= 1e12, ErrorCode::invalid_argument, what, " of ", seconds, " s is too long");
  return frames < 1 ? 1 : static_cast<std::size_t>(frames);
}

}  // namespace clipcaer::preprocess
