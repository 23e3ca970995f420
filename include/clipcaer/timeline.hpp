// A long video (a recorded lesson) as a timeline: the model's answer for
// each window of a few seconds, sliding along the video. The video is a file,
// or a folder of its frames (sorted by name, as a clip folder).
//
// Each window is a clip of its own: its T frames are chosen from the
// window's frames as the official loader chooses them from a clip, and its
// prediction is exactly classify_clip's on those frames (bit for bit, tested).
// The video is decoded once, keeping in memory only the frames of the windows
// not yet classified (the pixels of those chosen since the last window, the
// features of the others); a frame that several overlapping windows choose goes
// through the image tower once (with a stride of half the window and T = 16,
// half of each window's frames are its predecessor's).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/core/tensor.hpp"
#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/detect/face_detector.hpp"
#include "clipcaer/io/boxes.hpp"
#include "clipcaer/io/frame_folder.hpp"
#include "clipcaer/io/image_decode.hpp"
#include "clipcaer/io/video.hpp"
#include "clipcaer/model.hpp"
#include "clipcaer/preprocess/clip.hpp"
#include "clipcaer/preprocess/frame_sampling.hpp"
#include "clipcaer/preprocess/windows.hpp"

namespace clipcaer {

struct TimelineOptions {
  double window_seconds = 4.0;    // each window's length
  double stride_seconds = 2.0;    // from one window's start to the next
  std::size_t window_frames = 0;  // when nonzero: the length in frames (window_seconds ignored)
  std::size_t stride_frames = 0;  // when nonzero: the stride in frames (stride_seconds ignored)
  double frame_rate = 0;          // frames per second; 0: the one the video file states (a folder states none)
  const TextHead* head = nullptr; // the classes to score (a head of this model); null: the learned prompts
  const FaceDetector* face_detector = nullptr;  // finds the face of frames without a face box; null: whole frame
};

struct TimelineWindow {
  std::size_t first_frame = 0;      // the window is frames [first_frame, end_frame)
  std::size_t end_frame = 0;
  double start_seconds = 0;         // first_frame / frame rate (0 when the rate is unknown)
  double end_seconds = 0;           // end_frame / frame rate
  std::vector<std::size_t> frames;  // the T frames the model saw, as video frame indices
  std::size_t face_boxes_used = 0;  // of those, how many had a face box (others: whole frame)
  std::size_t faces_detected = 0;   // of those, how many boxes the face detector found
  Prediction prediction;
};

struct Timeline {
  std::size_t num_frames = 0;     // frames in the video
  double frame_rate = 0;          // frames per second used for times (options, else the file's); 0: unknown
  std::size_t window_frames = 0;  // window length and stride used, in frames
  std::size_t stride_frames = 0;
  std::size_t images_encoded = 0;  // images through the image tower (2 per distinct frame chosen)
  std::vector<TimelineWindow> windows;
};

// Share of the windows each of `num_classes` classes is predicted for.
inline std::vector<double> timeline_class_shares(const Timeline& t, std::size_t num_classes) {
  std::vector<double> share(num_classes, 0.0);
  for (const auto& w : t.windows) {
    require(w.prediction.index < num_classes, ErrorCode::invalid_argument, "a window predicts class ",
            w.prediction.index, " of ", num_classes);
    share[w.prediction.index] += 1.0 / static_cast<double>(t.windows.size());
  }
  return share;
}

struct NoTimelineProgress {
  void operator()(std::size_t /*done*/, std::size_t /*total*/) const noexcept {}
};

namespace detail {

// One decoding pass of classify_video_timeline; see there.
class TimelinePass {
 public:
  // names: the frame files of a folder (face boxes are keyed by them), or
  // null for a video file (keyed by frame index).
  TimelinePass(const Model& model, const std::string& video, const std::vector<std::string>* names,
               const ClipBoxes& boxes, const TimelineOptions& options)
      : model_(model), video_(video), names_(names), boxes_(boxes), options_(options), pool_(model.threads()) {
    require(std::isfinite(options.frame_rate) && options.frame_rate >= 0, ErrorCode::invalid_argument,
            "frame_rate must be a positive number of frames per second (or 0: the video's), got ",
            options.frame_rate);
  }

  // Plans the windows for `info` and forgets any earlier pass. Returns the frames to decode.
  std::vector<std::size_t> start(const io::VideoInfo& info) {
    timeline_ = Timeline{};
    const double rate = options_.frame_rate > 0 ? options_.frame_rate : info.frame_rate;
    timeline_.num_frames = info.num_frames;
    timeline_.frame_rate = rate;
    timeline_.window_frames = options_.window_frames
                                  ? options_.window_frames
                                  : preprocess::seconds_to_frames(options_.window_seconds, rate, "window");
    timeline_.stride_frames = options_.stride_frames
                                  ? options_.stride_frames
                                  : preprocess::seconds_to_frames(options_.stride_seconds, rate, "stride");
    const auto plan = preprocess::plan_windows(info.num_frames, timeline_.window_frames, timeline_.stride_frames);
    const std::size_t T = model_.num_frames();
    last_use_.clear();
    timeline_.windows.resize(plan.size());
    for (std::size_t k = 0; k < plan.size(); ++k) {
      TimelineWindow& w = timeline_.windows[k];
      w.first_frame = plan[k].first;
      w.end_frame = plan[k].end;
      if (rate > 0) {
        w.start_seconds = static_cast<double>(w.first_frame) / rate;
        w.end_seconds = static_cast<double>(w.end_frame) / rate;
      }
      w.frames = preprocess::sample_frame_indices(w.end_frame - w.first_frame, T);
      for (std::size_t& f : w.frames) {
        f += w.first_frame;
        last_use_[f] = k;  // windows come in order: the last write is the last use
      }
    }
    pending_.clear();
    pending_frames_.clear();
    features_.clear();
    next_ = 0;
    std::vector<std::size_t> wanted;
    wanted.reserve(last_use_.size());
    for (const auto& [f, k] : last_use_) wanted.push_back(f);
    return wanted;
  }

  // Frame `index` decoded: keep it, then classify every window it completes
  // (its frames are preprocessed together, in parallel, just before).
  template <class Progress>
  void take(std::size_t index, Image&& frame, Progress& progress) {
    pending_.push_back(index);
    pending_frames_.push_back(std::move(frame));
    auto& windows = timeline_.windows;
    while (next_ < windows.size() && windows[next_].frames.back() <= index) {
      classify_window(windows[next_]);
      for (auto it = features_.begin(); it != features_.end();)  // frames no later window needs
        it = last_use_.at(it->first) <= next_ ? features_.erase(it) : std::next(it);
      ++next_;
      progress(next_, windows.size());
    }
  }

  Timeline finish() {
    require(next_ == timeline_.windows.size(), ErrorCode::internal, "video '", video_, "': ", next_, " of ",
            timeline_.windows.size(), " windows classified");
    return std::move(timeline_);
  }

 private:
  // A frame's face-box key: its file name in a folder, its index in a video.
  std::string frame_name(std::size_t index) const {
    return names_ ? (*names_)[index] : io::video_frame_name(index);
  }

  // The image-tower features of frames decoded since the last window: their
  // face crops and context frames made in parallel (face detection, where
  // asked for, is the costly part), then both streams in one pass of the
  // tower (more rows per GEMM than two).
  void encode_pending() {
    if (pending_.empty()) return;
    const std::size_t n = pending_.size(), S = model_.image_size(), E = model_.embed_dim(), per_image = 3 * S * S;
    Tensor images({2 * n, 3, S, S});
    std::vector<FaceSource> sources(n, FaceSource::none);
    pool_.parallel_for(n, [&](std::size_t i) {
      const std::size_t index = pending_[i];
      const auto box = boxes_.faces.find(frame_name(index));
      const Box* file_box = box == boxes_.faces.end() ? nullptr : &box->second;
      const std::string label =
          (names_ ? "frame '" + frame_name(index) + "'" : "frame " + frame_name(index)) + " of '" + video_ + "'";
      std::optional<Box> found;
      const ImageView view = pending_frames_[i].view();
      const Box* face_box = frame_face_box(view, file_box, options_.face_detector, found, label);
      sources[i] = file_box ? FaceSource::file : found ? FaceSource::detector : FaceSource::none;
      float* face = images.data() + 2 * i * per_image;
      frame_tensors(view, face_box, boxes_.body ? &*boxes_.body : nullptr, S, face, face + per_image, label);
    });
    pending_frames_.clear();
    const Tensor encoded = model_.encode_images(images);
    for (std::size_t i = 0; i < n; ++i) {
      FrameFeatures& ff = features_[pending_[i]];
      ff.face.assign(encoded.row(2 * i), encoded.row(2 * i) + E);
      ff.context.assign(encoded.row(2 * i + 1), encoded.row(2 * i + 1) + E);
      ff.source = sources[i];
    }
    timeline_.images_encoded += 2 * n;
    pending_.clear();
  }

  void classify_window(TimelineWindow& w) {
    encode_pending();
    const std::size_t T = w.frames.size(), E = model_.embed_dim();
    Tensor faces({T, E}), contexts({T, E});
    for (std::size_t t = 0; t < T; ++t) {
      const FrameFeatures& ff = features_.at(w.frames[t]);
      std::copy(ff.face.begin(), ff.face.end(), faces.row(t));
      std::copy(ff.context.begin(), ff.context.end(), contexts.row(t));
      w.face_boxes_used += ff.source != FaceSource::none;
      w.faces_detected += ff.source == FaceSource::detector;
    }
    w.prediction = options_.head ? model_.classify_encoded(faces, contexts, *options_.head)
                                 : model_.classify_encoded(faces, contexts);
  }

  const Model& model_;
  const std::string& video_;
  const std::vector<std::string>* names_;
  const ClipBoxes& boxes_;
  const TimelineOptions& options_;
  Timeline timeline_;
  std::map<std::size_t, std::size_t> last_use_;  // chosen frame -> last window that uses it
  ThreadPool pool_;                              // preprocesses pending frames
  std::vector<std::size_t> pending_;             // decoded, not yet encoded
  std::vector<Image> pending_frames_;            // their pixels
  enum class FaceSource { none, file, detector };
  struct FrameFeatures {
    std::vector<float> face, context;  // the image tower's outputs
    FaceSource source = FaceSource::none;  // where the face box came from
  };
  std::map<std::size_t, FrameFeatures> features_;  // chosen frame -> its features
  std::size_t next_ = 0;  // first window not yet classified
};

}  // namespace detail

// The timeline of `video_path`, a video file or a folder of its frames:
// windows of options.window_seconds every options.stride_seconds (or in
// frames), each classified as a clip (see the top of this file). Face boxes
// are keyed by frame index ("0", "17") for a file, as for load_video_clip, by
// file name for a folder; the body box applies to every frame; with
// options.face_detector, frames without a face box get the face it finds
// (as load_clip with a detector, so windows still match classify_clip). A folder
// states no frame rate: give options.frame_rate, or the window in frames.
// progress(done, total) is called after each window (it starts over in the
// rare case a video must be decoded twice, see io::visit_video_frames). The
// decoder runs on the model's thread count.
template <class Progress = NoTimelineProgress>
Timeline classify_video_timeline(const Model& model, const std::string& video_path, const ClipBoxes& boxes = {},
                                 const TimelineOptions& options = {}, Progress&& progress = {}) {
  require(model.config().is_clip_caer(), ErrorCode::unsupported, "weights file '", model.path(),
          "' is a plain CLIP model: it has no temporal encoders or fusion head to classify clips");
  std::error_code ec;
  if (std::filesystem::is_directory(video_path, ec)) {
    const std::vector<std::string> names = io::list_frame_files(video_path);
    detail::TimelinePass pass(model, video_path, &names, boxes, options);
    std::string dir = video_path;
    if (dir.back() != '/') dir += '/';
    for (std::size_t i : pass.start({names.size(), 0.0})) pass.take(i, io::read_image(dir + names[i]), progress);
    return pass.finish();
  }
  detail::TimelinePass pass(model, video_path, nullptr, boxes, options);
  io::visit_video_frames(
      video_path, [&](const io::VideoInfo& info) { return pass.start(info); },
      [&](std::size_t i, Image&& frame) { pass.take(i, std::move(frame), progress); }, model.threads());
  return pass.finish();
}

}  // namespace clipcaer
