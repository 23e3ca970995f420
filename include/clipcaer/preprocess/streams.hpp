// One frame through each stream of the official test pipeline.
// Face: crop the face box (truncated, +20 px margin, clamped) if there is
//   one, else the whole frame; Pillow bilinear resize to S x S.
// Context: crop the body box (Pillow rounding, black outside the frame) if
//   there is one, else the whole frame; OpenCV letterbox to S x S. (The
//   official code then resizes S x S to S x S with Pillow: a copy.)
// RGB throughout: the official BGR round trip around cv2.resize and
// cv2.copyMakeBorder treats channels independently, so it changes nothing.
#pragma once

#include <cstddef>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/boxes.hpp"
#include "clipcaer/io/image.hpp"
#include "clipcaer/preprocess/crop.hpp"
#include "clipcaer/preprocess/letterbox.hpp"
#include "clipcaer/preprocess/resize_pil_bilinear.hpp"

namespace clipcaer::preprocess {

// `out` must be S x S; `face_box` may be null (whole frame).
inline void face_stream_image(const ImageView& frame, const Box* face_box, const MutableImageView& out) {
  require(frame.data != nullptr && !frame.empty(), ErrorCode::invalid_argument, "face stream: empty frame");
  if (!face_box) {
    resize_bilinear_pil(frame, out);
    return;
  }
  resize_bilinear_pil(crop_view(frame, face_crop_rect(*face_box, frame.width, frame.height)), out);
}

// `out` must be S x S; `body_box` may be null (whole frame). A body box that
// misses the frame entirely is an error here (the official code would feed
// an all-black context picture).
inline void context_stream_image(const ImageView& frame, const Box* body_box, const MutableImageView& out) {
  require(frame.data != nullptr && !frame.empty(), ErrorCode::invalid_argument, "context stream: empty frame");
  if (!body_box) {
    letterbox_cv(frame, out);
    return;
  }
  const PixelRect r = body_crop_rect(*body_box);
  require(rect_overlaps(r, frame.width, frame.height), ErrorCode::invalid_argument, "body box ",
          box_to_string(*body_box), " lies wholly outside the ", frame.width, "x", frame.height, " frame");
  if (rect_inside(r, frame.width, frame.height)) {
    letterbox_cv(crop_view(frame, r), out);
  } else {
    const Image padded = crop_padded(frame, r);
    letterbox_cv(padded.view(), out);
  }
}

inline Image face_stream_image(const ImageView& frame, const Box* face_box, std::size_t size) {
  require(size > 0 && size <= kMaxImageSide, ErrorCode::invalid_argument, "face stream: size ", size, " out of range");
  Image out(size, size);
  face_stream_image(frame, face_box, out.mutable_view());
  return out;
}

inline Image context_stream_image(const ImageView& frame, const Box* body_box, std::size_t size) {
  require(size > 0 && size <= kMaxImageSide, ErrorCode::invalid_argument, "context stream: size ", size,
          " out of range");
  Image out(size, size);
  context_stream_image(frame, body_box, out.mutable_view());
  return out;
}

}  // namespace clipcaer::preprocess
