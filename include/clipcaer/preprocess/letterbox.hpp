// The official context-stream letterbox (`_resize_image`): scale a w x h
// picture by r = min(S / w, S / h) to (int(w * r), int(h * r)) with
// OpenCV INTER_LINEAR, then pad with black: top = bottom = (S - new_h) // 2,
// left = right = (S - new_w) // 2, one more row at the bottom / column at the
// right if still short. All in double exactly as the Python code, so
// int(w * r) may land one pixel short (e.g. 223 for 224) as it does there.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/image.hpp"
#include "clipcaer/preprocess/resize_cv_linear.hpp"

namespace clipcaer::preprocess {

struct LetterboxGeometry {
  double scale = 0;             // r
  std::size_t width = 0;        // new_w
  std::size_t height = 0;       // new_h
  std::size_t left = 0, top = 0;  // where the resized picture starts in the S x S square
};

inline LetterboxGeometry letterbox_geometry(std::size_t width, std::size_t height, std::size_t size) {
  require(width > 0 && height > 0, ErrorCode::invalid_argument, "letterbox: the image ", width, "x", height,
          " is empty");
  require(size > 0 && size <= kMaxImageSide, ErrorCode::invalid_argument, "letterbox: target size ", size,
          " is out of range");
  LetterboxGeometry g;
  const double s = static_cast<double>(size);
  g.scale = std::min(s / static_cast<double>(width), s / static_cast<double>(height));
  g.width = std::min(size, static_cast<std::size_t>(static_cast<double>(width) * g.scale));
  g.height = std::min(size, static_cast<std::size_t>(static_cast<double>(height) * g.scale));
  require(g.width > 0 && g.height > 0, ErrorCode::invalid_argument, "letterbox: a ", width, "x", height,
          " image is too elongated to fit a ", size, "x", size, " square (it would scale to ", g.width, "x", g.height,
          "; OpenCV rejects that)");
  g.left = (size - g.width) / 2;
  g.top = (size - g.height) / 2;
  return g;
}

// Letterboxes `src` into the size x size picture `dst` (all of it is written).
inline void letterbox_cv(const ImageView& src, const MutableImageView& dst) {
  require(dst.width == dst.height, ErrorCode::invalid_argument, "letterbox: the target ", dst.width, "x", dst.height,
          " is not square");
  const LetterboxGeometry g = letterbox_geometry(src.width, src.height, dst.width);
  for (std::size_t y = 0; y < dst.height; ++y) std::memset(dst.row(y), 0, 3 * dst.width);
  MutableImageView inner{dst.row(g.top) + 3 * g.left, g.width, g.height, dst.stride};
  resize_linear_cv(src, inner);
}

inline Image letterbox_cv(const ImageView& src, std::size_t size) {
  require(size > 0 && size <= kMaxImageSide, ErrorCode::invalid_argument, "letterbox: target size ", size,
          " is out of range");
  Image out(size, size);
  letterbox_cv(src, out.mutable_view());
  return out;
}

}  // namespace clipcaer::preprocess
