// BoxIndex: the official face and body box files, parsed once, answering
// "which boxes does this clip have" for many clips (the CLI's eval).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clipcaer/io/boxes.hpp"

namespace clipcaer::io {

class BoxIndex {
 public:
  BoxIndex() = default;
  // Either path may be empty (no such file).
  BoxIndex(std::string faces_json, std::string bodies_json)
      : faces_path_(std::move(faces_json)), bodies_path_(std::move(bodies_json)) {
    if (!faces_path_.empty()) faces_ = read_json_file(faces_path_);
    if (!bodies_path_.empty()) bodies_ = read_json_file(bodies_path_);
  }

  // Boxes of the first of `clip_dirs` (spellings of one clip, in lookup order)
  // found in each file; a clip in neither file gets none (whole frames).
  ClipBoxes lookup(const std::vector<std::string>& clip_dirs) const {
    ClipBoxes boxes;
    std::string key;
    for (const auto& dir : clip_dirs) {
      if (faces_path_.empty()) break;
      if (const nlohmann::json* e = find_clip_entry(faces_, dir, faces_path_, &key)) {
        boxes.faces = parse_face_boxes_json(*e, "face boxes file '" + faces_path_ + "', clip '" + key + "'");
        break;
      }
    }
    for (const auto& dir : clip_dirs) {
      if (bodies_path_.empty()) break;
      if (const nlohmann::json* e = find_clip_entry(bodies_, dir, bodies_path_, &key)) {
        boxes.body = parse_box_json(*e, "body box file '" + bodies_path_ + "', clip '" + key + "'");
        break;
      }
    }
    return boxes;
  }

 private:
  std::string faces_path_, bodies_path_;
  nlohmann::json faces_, bodies_;
};

}  // namespace clipcaer::io
