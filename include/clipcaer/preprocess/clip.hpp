// load_clip: the official test-mode input pipeline for one clip, from a frames
// folder, a video file or frames already in memory, to the two model inputs
// faces and frames, each float32 (T, 3, S, S) in [0, 1].
// Each chosen frame is decoded once and feeds both streams; frames are
// processed in parallel when a ThreadPool is given.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <string>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/core/tensor.hpp"
#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/detect/face_detector.hpp"
#include "clipcaer/io/boxes.hpp"
#include "clipcaer/io/frame_folder.hpp"
#include "clipcaer/io/image.hpp"
#include "clipcaer/io/image_decode.hpp"
#include "clipcaer/io/video.hpp"
#include "clipcaer/preprocess/frame_sampling.hpp"
#include "clipcaer/preprocess/streams.hpp"
#include "clipcaer/preprocess/to_tensor.hpp"

namespace clipcaer {

inline constexpr std::size_t kMaxClipSegments = 4096;
inline constexpr std::size_t kMaxClipImageSize = 4096;

struct Clip {
  Tensor faces;                     // (T, 3, S, S) face crops
  Tensor frames;                    // (T, 3, S, S) letterboxed context frames
  std::vector<std::size_t> indices;  // chosen frame of each segment, into the sorted frame list
  std::vector<std::string> files;   // its file name (a video's: the frame index; "" for unnamed in-memory frames)
  std::size_t face_boxes_used = 0;  // segments whose face came from a box (others: whole frame)
  std::size_t faces_detected = 0;   // of those, segments whose box the face detector found
  std::vector<std::optional<Box>> face_boxes;  // each segment's face box (a file's or the detector's); none: whole frame
  bool body_box_used = false;
};

namespace detail {

inline void check_clip_args(std::size_t num_segments, std::size_t size) {
  require(num_segments >= 1 && num_segments <= kMaxClipSegments, ErrorCode::invalid_argument, "num_segments ",
          num_segments, " is out of range [1, ", kMaxClipSegments, "]");
  require(size >= 1 && size <= kMaxClipImageSize, ErrorCode::invalid_argument, "image size ", size,
          " is out of range [1, ", kMaxClipImageSize, "]");
  require(num_segments * size * size <= (std::size_t{1} << 28), ErrorCode::invalid_argument, "a clip of ",
          num_segments, " frames of ", size, "x", size, " is too large");
}

// One frame's two model inputs, each (3, S, S) floats: its face crop (the
// box, or the whole frame when null) and its context frame. Errors are
// prefixed with `label` ("frame 'x.jpg' of 'clip/'").
inline void frame_tensors(const ImageView& view, const Box* face_box, const Box* body_box, std::size_t size,
                          float* face_out, float* context_out, const std::string& label) {
  Image scratch(size, size);
  try {
    preprocess::face_stream_image(view, face_box, scratch.mutable_view());
    preprocess::to_chw_float(scratch.view(), face_out);
    preprocess::context_stream_image(view, body_box, scratch.mutable_view());
    preprocess::to_chw_float(scratch.view(), context_out);
  } catch (const Error& e) {
    throw Error(e.code(), label + ": " + e.what());
  }
}

// The face box of a frame: the one from the box file, else (with a
// detector) the largest face it finds, kept in `found`; null: none.
inline const Box* frame_face_box(const ImageView& view, const Box* from_file, const FaceDetector* detector,
                                 std::optional<Box>& found, const std::string& label) {
  if (from_file || !detector) return from_file;
  try {
    found = detector->find_face(view);
  } catch (const Error& e) {
    throw Error(e.code(), label + ": " + e.what());
  }
  return found ? &*found : nullptr;
}

// frame(i) -> ImageView (or an object with .view()) of frame i; `names[i]` its file name.
template <class FrameSource>
Clip build_clip(std::size_t num_frames, const std::vector<std::string>& names, FrameSource&& frame,
                const ClipBoxes& boxes, std::size_t num_segments, std::size_t size, ThreadPool* pool,
                const std::string& where, const FaceDetector* detector) {
  check_clip_args(num_segments, size);
  Clip clip;
  clip.indices = preprocess::sample_frame_indices(num_frames, num_segments);
  clip.files.reserve(num_segments);
  for (std::size_t i : clip.indices) clip.files.push_back(names.empty() ? std::string() : names[i]);
  clip.faces = Tensor({num_segments, 3, size, size});
  clip.frames = Tensor({num_segments, 3, size, size});
  clip.body_box_used = boxes.body.has_value();
  const Box* body = boxes.body ? &*boxes.body : nullptr;

  // Distinct frames, each with the segments that use it.
  std::vector<std::size_t> unique = clip.indices;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  std::vector<const Box*> face_box(num_frames, nullptr);
  for (std::size_t f : unique) {
    if (names.empty()) continue;
    auto it = boxes.faces.find(names[f]);
    if (it != boxes.faces.end()) face_box[f] = &it->second;
  }
  clip.face_boxes.resize(num_segments);

  const std::size_t per_image = 3 * size * size;
  auto work = [&](std::size_t u) {
    const std::size_t f = unique[u];
    const auto& source = frame(f);
    std::size_t first_seg = 0;
    while (clip.indices[first_seg] != f) ++first_seg;
    const std::string label = (names.empty() ? "frame " + std::to_string(f) : "frame '" + names[f] + "'") + where;
    std::optional<Box> found;
    const Box* face = frame_face_box(source.view(), face_box[f], detector, found, label);
    frame_tensors(source.view(), face, body, size, clip.faces.data() + first_seg * per_image,
                  clip.frames.data() + first_seg * per_image, label);
    for (std::size_t s = first_seg; s < num_segments; ++s) {  // each segment that chose this frame
      if (clip.indices[s] != f) continue;
      if (face) clip.face_boxes[s] = *face;
      if (s == first_seg) continue;
      std::memcpy(clip.faces.data() + s * per_image, clip.faces.data() + first_seg * per_image,
                  per_image * sizeof(float));
      std::memcpy(clip.frames.data() + s * per_image, clip.frames.data() + first_seg * per_image,
                  per_image * sizeof(float));
    }
  };
  if (pool)
    pool->parallel_for(unique.size(), work);
  else
    for (std::size_t u = 0; u < unique.size(); ++u) work(u);
  for (std::size_t s = 0; s < num_segments; ++s) {
    clip.face_boxes_used += clip.face_boxes[s] ? 1 : 0;
    clip.faces_detected += clip.face_boxes[s] && !face_box[clip.indices[s]] ? 1 : 0;
  }
  return clip;
}

struct ViewHolder {
  ImageView v;
  ImageView view() const noexcept { return v; }
};

}  // namespace detail

// The clip in video file `video_path`: its frames in display order (see
// io/video.hpp), chosen, cropped and resized as from a folder. Face boxes are
// looked up by frame index in decimal ("0", "1", ...). The decoder runs on
// the pool's thread count (one thread without a pool).
inline Clip load_video_clip(const std::string& video_path, const ClipBoxes& boxes = {},
                            std::size_t num_segments = 16, std::size_t size = 224, ThreadPool* pool = nullptr,
                            const FaceDetector* detector = nullptr) {
  detail::check_clip_args(num_segments, size);
  io::VideoFrames video = io::read_video_frames(video_path, [&](std::size_t n) {
    return preprocess::sample_frame_indices(n, num_segments);
  }, pool ? pool->size() : 1);
  std::vector<std::string> names(video.num_frames);
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = io::video_frame_name(i);
  auto view = [&](std::size_t i) { return detail::ViewHolder{video.frames.at(i).view()}; };
  return detail::build_clip(video.num_frames, names, view, boxes, num_segments, size, pool,
                            " of '" + video_path + "'", detector);
}

// The clip at `path`: a folder of frames, or a video file (load_video_clip).
// From a folder: its JPEG/PNG/BMP files sorted by name, num_segments of them
// chosen by the official test rule, each turned into a size x size face crop
// and context frame. Face boxes are looked up by frame file name in
// `boxes.faces`; `boxes.body` is the clip's body box. With a `detector`, a
// chosen frame without a face box gets the largest face it finds there
// (FaceDetector; a frame where it finds none keeps the whole frame).
inline Clip load_clip(const std::string& path, const ClipBoxes& boxes = {}, std::size_t num_segments = 16,
                      std::size_t size = 224, ThreadPool* pool = nullptr, const FaceDetector* detector = nullptr) {
  detail::check_clip_args(num_segments, size);
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) {
    require(!io::is_image_file_name(path), ErrorCode::invalid_argument, "'", path,
            "' is an image, not a folder of frames or a video (to classify one picture, put it in a folder of its "
            "own: a one-frame clip)");
    return load_video_clip(path, boxes, num_segments, size, pool, detector);
  }
  const std::vector<std::string> names = io::list_frame_files(path);
  std::string dir = path;
  if (!dir.empty() && dir.back() != '/') dir += '/';
  auto decode = [&](std::size_t i) { return io::read_image(dir + names[i]); };
  return detail::build_clip(names.size(), names, decode, boxes, num_segments, size, pool, " of '" + path + "'",
                            detector);
}

// The same from the clip's frames in memory, in clip order (the folder
// version sorts by name first). `frame_names` (one per frame, or empty) are
// the keys of `boxes.faces`; face boxes need them.
inline Clip load_clip(const std::vector<Image>& frames, const std::vector<std::string>& frame_names,
                      const ClipBoxes& boxes = {}, std::size_t num_segments = 16, std::size_t size = 224,
                      ThreadPool* pool = nullptr, const FaceDetector* detector = nullptr) {
  detail::check_clip_args(num_segments, size);
  require(!frames.empty(), ErrorCode::invalid_argument, "load_clip: no frames given");
  require(frame_names.empty() || frame_names.size() == frames.size(), ErrorCode::invalid_argument, "load_clip: ",
          frames.size(), " frames but ", frame_names.size(), " frame names");
  require(!frame_names.empty() || boxes.faces.empty(), ErrorCode::invalid_argument,
          "load_clip: face boxes are keyed by frame file name, but no frame names were given");
  for (std::size_t i = 0; i < frames.size(); ++i)
    require(!frames[i].empty(), ErrorCode::invalid_argument, "load_clip: frame ", i, " is empty");
  auto view = [&](std::size_t i) { return detail::ViewHolder{frames[i].view()}; };
  return detail::build_clip(frames.size(), frame_names, view, boxes, num_segments, size, pool, "", detector);
}

}  // namespace clipcaer
