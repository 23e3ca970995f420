// Crops of the official loader.
// Face: box values truncated to int, widened by a 20-pixel margin and clamped
//   to the frame: [max(0, l-20), max(0, u-20), min(W, r+20), min(H, b+20)].
// Body: Pillow's `Image.crop(box)` with the float box as given: each value
//   rounded to the nearest integer (ties to even, Python's round), no
//   clamping; pixels outside the frame come out black.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/boxes.hpp"
#include "clipcaer/io/image.hpp"
#include "clipcaer/preprocess/rounding.hpp"

namespace clipcaer::preprocess {

inline constexpr int kFaceMargin = 20;

// Integer rectangle [left, right) x [upper, lower); may reach outside a frame.
struct PixelRect {
  long long left = 0, upper = 0, right = 0, lower = 0;
  long long width() const noexcept { return right - left; }
  long long height() const noexcept { return lower - upper; }
};

inline bool rect_inside(const PixelRect& r, std::size_t width, std::size_t height) noexcept {
  return r.left >= 0 && r.upper >= 0 && r.right <= static_cast<long long>(width) &&
         r.lower <= static_cast<long long>(height) && r.width() > 0 && r.height() > 0;
}

// The face crop of a frame of size width x height. The official code crashes
// (Pillow ValueError) or returns a black face when the widened box misses the
// frame; we throw ErrorCode::invalid_argument naming the box instead.
inline PixelRect face_crop_rect(const Box& box, std::size_t width, std::size_t height, int margin = kFaceMargin) {
  require(margin >= 0, ErrorCode::invalid_argument, "face margin ", margin, " is negative");
  // int() in Python truncates toward zero; box values are bounded (make_box), so the casts are defined.
  const auto l = static_cast<long long>(box.left), u = static_cast<long long>(box.upper);
  const auto r = static_cast<long long>(box.right), b = static_cast<long long>(box.lower);
  PixelRect out{std::max(0LL, l - margin), std::max(0LL, u - margin),
                std::min(static_cast<long long>(width), r + margin), std::min(static_cast<long long>(height), b + margin)};
  if (out.width() <= 0 || out.height() <= 0)
    throw_error(ErrorCode::invalid_argument, "face box ", box_to_string(box), " lies outside the ", width, "x", height,
                " frame (the crop widened by ", margin, " pixels is empty)");
  return out;
}

// The body crop rectangle (Pillow rounding, no clamping). Throws if it rounds to nothing.
inline PixelRect body_crop_rect(const Box& box) {
  PixelRect out{static_cast<long long>(detail::round_half_even(box.left)),
                static_cast<long long>(detail::round_half_even(box.upper)),
                static_cast<long long>(detail::round_half_even(box.right)),
                static_cast<long long>(detail::round_half_even(box.lower))};
  if (out.width() <= 0 || out.height() <= 0)
    throw_error(ErrorCode::invalid_argument, "body box ", box_to_string(box),
                " rounds to an empty crop (the official loader divides by zero here)");
  return out;
}

// A view of a rectangle wholly inside `src` (no copy).
inline ImageView crop_view(const ImageView& src, const PixelRect& r) {
  require(rect_inside(r, src.width, src.height), ErrorCode::invalid_argument, "crop [", r.left, ", ", r.upper, ", ",
          r.right, ", ", r.lower, "] is not a non-empty part of the ", src.width, "x", src.height, " image");
  return {src.row(static_cast<std::size_t>(r.upper)) + 3 * static_cast<std::size_t>(r.left),
          static_cast<std::size_t>(r.width()), static_cast<std::size_t>(r.height()), src.stride};
}

// A copy of any rectangle, black where it leaves `src` (Pillow's crop).
inline Image crop_padded(const ImageView& src, const PixelRect& r) {
  require(r.width() > 0 && r.height() > 0, ErrorCode::invalid_argument, "crop [", r.left, ", ", r.upper, ", ", r.right,
          ", ", r.lower, "] is empty");
  Image out(static_cast<std::size_t>(r.width()), static_cast<std::size_t>(r.height()));  // black
  const long long x0 = std::max(r.left, 0LL), x1 = std::min(r.right, static_cast<long long>(src.width));
  const long long y0 = std::max(r.upper, 0LL), y1 = std::min(r.lower, static_cast<long long>(src.height));
  if (x0 >= x1 || y0 >= y1) return out;
  for (long long y = y0; y < y1; ++y)
    std::memcpy(out.row(static_cast<std::size_t>(y - r.upper)) + 3 * static_cast<std::size_t>(x0 - r.left),
                src.row(static_cast<std::size_t>(y)) + 3 * static_cast<std::size_t>(x0),
                3 * static_cast<std::size_t>(x1 - x0));
  return out;
}

// True if the rectangle shares at least one pixel with a width x height frame.
inline bool rect_overlaps(const PixelRect& r, std::size_t width, std::size_t height) noexcept {
  return r.left < static_cast<long long>(width) && r.right > 0 && r.upper < static_cast<long long>(height) &&
         r.lower > 0 && r.width() > 0 && r.height() > 0;
}

}  // namespace clipcaer::preprocess
