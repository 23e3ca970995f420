// Shared by the commands: one clip folder -> preprocessing -> prediction, and their output helpers.
#pragma once

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/detect/face_detector.hpp"
#include "clipcaer/io/box_index.hpp"
#include "clipcaer/model.hpp"
#include "clipcaer/preprocess/clip.hpp"

namespace clipcaer::cli {

inline ModelOptions model_options(const Args& a) {
  ModelOptions o;
  o.threads = a.get_size("threads", 0);
  o.isa = a.get("isa");
  o.dtype = a.get("dtype");
  o.device = a.get("device");
  return o;
}

// The options every command that reads clips takes for face detection (a
// macro, so the commands' help texts can be string literals).
#define CLIPCAER_FACE_DETECTION_HELP \
    "  --detect-faces        find the face in frames that have no face box (OpenCV's\n" \
    "                        face cascades from Debian's opencv-data; otherwise such\n" \
    "                        frames use the whole frame, as the official loader does)\n" \
    "  --face-cascade FILE   the frontal-face cascade to use (implies --detect-faces)\n"

// The face detector --detect-faces / --face-cascade ask for, or null.
inline std::unique_ptr<FaceDetector> face_detector(const Args& a) {
  if (!a.has("detect-faces") && !a.has("face-cascade")) return nullptr;
  FaceDetectorOptions o;
  if (a.has("face-cascade")) o.cascades = {a.get("face-cascade")};
  return std::make_unique<FaceDetector>(o);
}

class ClipRunner {
 public:
  ClipRunner(const Model& model, const io::BoxIndex& boxes, std::size_t threads,
             const FaceDetector* detector = nullptr)
      : model_(model), boxes_(boxes), pool_(threads), detector_(detector) {}

  struct Result {
    Prediction prediction;
    std::size_t face_boxes_used = 0, faces_detected = 0;
  };

  // clip_dirs: spellings of the folder for box lookup; the first is read.
  Result run(const std::vector<std::string>& clip_dirs) {
    const ClipBoxes b = boxes_.lookup(clip_dirs);
    Clip clip = load_clip(clip_dirs.front(), b, model_.num_frames(), model_.image_size(), &pool_, detector_);
    return {model_.classify_clip(clip.faces, clip.frames), clip.face_boxes_used, clip.faces_detected};
  }

 private:
  const Model& model_;
  const io::BoxIndex& boxes_;
  ThreadPool pool_;
  const FaceDetector* detector_;
};

// Writes `text` to `path` (closed before the check, so a failed flush is an error too).
inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw_error(ErrorCode::io, "cannot write '", path, "'");
}

inline nlohmann::json prediction_json(const std::string& clip, const Prediction& p,
                                      const std::vector<std::string>& names) {
  nlohmann::json probs = nlohmann::json::object();
  for (std::size_t c = 0; c < names.size(); ++c) probs[names[c]] = p.probs[c];
  return {{"clip", clip}, {"label", p.label}, {"index", p.index}, {"probs", probs}, {"logits", p.logits}};
}

}  // namespace clipcaer::cli
