// FaceDetector: a face box for a frame that has none, for videos without the
// data set's box files. OpenCV's trained cascades (Debian's opencv-data):
// the frontal-face cascade first, then the profile cascade on the frame and
// on its mirror image (it knows one side only); the largest face found wins.
// Viola-Jones cascades find upright faces turned less than ~45 degrees; a
// frame where none is found keeps the whole frame, as the official loader
// does for a frame without a box.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/detect/cascade.hpp"
#include "clipcaer/io/boxes.hpp"
#include "clipcaer/io/image.hpp"

namespace clipcaer {

struct FaceDetectorOptions {
  std::vector<std::string> cascades;  // frontal-face cascade files; empty: opencv-data's haarcascade_frontalface_alt2
  std::vector<std::string> profile_cascades;  // profile cascades, tried on the frame and its mirror; empty: opencv-data's
  bool profiles = true;                       // try profile cascades when no frontal face is found
  double scale_factor = 1.1;
  int min_neighbors = 3;
  double min_face = 1.0 / 12;  // smallest face searched, as a fraction of the frame's shorter side
};

// Where opencv-data installs its cascades (Debian, Ubuntu; OpenCV 4 and 3 layouts).
inline std::vector<std::string> cascade_search_dirs() {
  return {"/usr/share/opencv4", "/usr/local/share/opencv4", "/usr/share/opencv", "/usr/local/share/opencv"};
}

// The path of cascade file `name` (e.g. "haarcascades/haarcascade_frontalface_alt2.xml")
// in the first search dir that has it; an error saying how to get it otherwise.
inline std::string find_cascade(const std::string& name) {
  std::error_code ec;
  for (const auto& dir : cascade_search_dirs()) {
    const std::string p = dir + "/" + name;
    if (std::filesystem::is_regular_file(p, ec)) return p;
  }
  std::string tried;
  for (const auto& dir : cascade_search_dirs()) tried += (tried.empty() ? "" : ", ") + dir;
  throw_error(ErrorCode::file_not_found, "face detection needs OpenCV's cascade file '", name,
              "', which is in none of ", tried,
              ": install Debian's opencv-data package (apt-get install opencv-data) or give the cascade files");
}

class FaceDetector {
 public:
  explicit FaceDetector(FaceDetectorOptions options = {}) : options_(std::move(options)) {
    require(options_.scale_factor > 1.0 && options_.scale_factor < 10.0, ErrorCode::invalid_argument,
            "face detector: scale factor ", options_.scale_factor, " is not in (1, 10)");
    require(options_.min_neighbors >= 0 && options_.min_neighbors <= 1000, ErrorCode::invalid_argument,
            "face detector: min_neighbors ", options_.min_neighbors, " is not in [0, 1000]");
    require(options_.min_face >= 0.0 && options_.min_face <= 1.0, ErrorCode::invalid_argument,
            "face detector: min_face ", options_.min_face, " is not a fraction of the frame in [0, 1]");
    if (options_.cascades.empty()) options_.cascades = {find_cascade("haarcascades/haarcascade_frontalface_alt2.xml")};
    if (options_.profiles && options_.profile_cascades.empty())
      options_.profile_cascades = {find_cascade("haarcascades/haarcascade_profileface.xml")};
    if (!options_.profiles) options_.profile_cascades.clear();
    for (const auto& p : options_.cascades) frontal_.push_back(detect::Cascade::load(p));
    for (const auto& p : options_.profile_cascades) profile_.push_back(detect::Cascade::load(p));
  }

  const FaceDetectorOptions& options() const noexcept { return options_; }

  // Every face the first cascade to find any finds, largest first.
  std::vector<detect::Rect> find_faces(const ImageView& frame) const {
    require(!frame.empty(), ErrorCode::invalid_argument, "face detector: the frame is empty");
    const detect::GrayImage gray = detect::to_gray(frame);
    detect::DetectParams p;
    p.scale_factor = options_.scale_factor;
    p.min_neighbors = options_.min_neighbors;
    const int shorter = static_cast<int>(std::min(frame.width, frame.height));
    p.min_width = p.min_height = static_cast<int>(options_.min_face * shorter);
    std::vector<detect::Rect> faces;
    for (const auto& c : frontal_)
      if (faces = c.detect(gray, p); !faces.empty()) return largest_first(faces);
    if (profile_.empty()) return faces;
    const detect::GrayImage flipped = detect::mirrored(gray);
    for (const auto& c : profile_) {
      faces = c.detect(gray, p);
      for (detect::Rect r : c.detect(flipped, p)) {
        r.x = gray.width - r.x - r.width;
        faces.push_back(r);
      }
      if (!faces.empty()) return largest_first(faces);
    }
    return faces;
  }

  // The largest face as a box [left, upper, right, lower], or none.
  std::optional<Box> find_face(const ImageView& frame) const {
    const auto faces = find_faces(frame);
    if (faces.empty()) return std::nullopt;
    const auto& r = faces.front();
    return Box{static_cast<double>(r.x), static_cast<double>(r.y), static_cast<double>(r.x + r.width),
               static_cast<double>(r.y + r.height)};
  }

 private:
  static std::vector<detect::Rect> largest_first(std::vector<detect::Rect> v) {
    std::stable_sort(v.begin(), v.end(), [](const detect::Rect& a, const detect::Rect& b) {
      return static_cast<long long>(a.width) * a.height > static_cast<long long>(b.width) * b.height;
    });
    return v;
  }

  FaceDetectorOptions options_;
  std::vector<detect::Cascade> frontal_, profile_;
};

}  // namespace clipcaer
