// Face and body boxes of a clip, and readers for the official box files:
//   faces  {clip_dir: {frame_file: [l, u, r, b]}}
//   bodies {clip_dir: [l, u, r, b]}
// A box is (left, upper, right, lower) in pixels of the frame, as floats.
// `null` in place of a box means "no box" (the official loader then uses the
// whole frame); anything else that is not four finite numbers with
// right > left and lower > upper is an error naming the file, clip and frame.
#pragma once

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "clipcaer/core/error.hpp"

namespace clipcaer {

// Box coordinates beyond this are rejected: no frame is that large, and it
// keeps every later integer conversion in range.
inline constexpr double kMaxBoxCoordinate = 1 << 30;

struct Box {
  double left = 0, upper = 0, right = 0, lower = 0;
};

inline std::string box_to_string(const Box& b) {
  std::ostringstream out;
  out.precision(17);
  out << "[" << b.left << ", " << b.upper << ", " << b.right << ", " << b.lower << "]";
  return out.str();
}

// Checks a box and returns it; `what` names it in the error ("face box of frame 'x.jpg'").
inline Box make_box(double left, double upper, double right, double lower, const std::string& what) {
  const double v[4] = {left, upper, right, lower};
  for (double x : v)
    require(std::isfinite(x) && std::fabs(x) <= kMaxBoxCoordinate, ErrorCode::invalid_argument, what, " ",
            box_to_string({left, upper, right, lower}), " has a value that is not finite or beyond +-",
            kMaxBoxCoordinate);
  require(right > left && lower > upper, ErrorCode::invalid_argument, what, " ",
          box_to_string({left, upper, right, lower}), " is empty or inverted (needs right > left and lower > upper)");
  return {left, upper, right, lower};
}

// Boxes for one clip: face boxes by frame file name, and one optional body box.
struct ClipBoxes {
  std::map<std::string, Box> faces;
  std::optional<Box> body;
};

namespace io {

// [l, u, r, b] -> Box, or nullopt for JSON null. Errors are ErrorCode::format
// (the box came from a file) and start with `what`.
inline std::optional<Box> parse_box_json(const nlohmann::json& j, const std::string& what) {
  if (j.is_null()) return std::nullopt;
  if (!j.is_array() || j.size() != 4)
    throw_error(ErrorCode::format, what, " must be a list of 4 numbers [left, upper, right, lower], got ",
                j.dump().substr(0, 200));
  double v[4];
  for (std::size_t i = 0; i < 4; ++i) {
    if (!j[i].is_number())
      throw_error(ErrorCode::format, what, " must be a list of 4 numbers [left, upper, right, lower], got ",
                  j.dump().substr(0, 200));
    v[i] = j[i].get<double>();
  }
  try {
    return make_box(v[0], v[1], v[2], v[3], what);
  } catch (const Error& e) {
    throw Error(ErrorCode::format, e.what());
  }
}

// {frame_file: box | null} -> map (null entries are left out).
inline std::map<std::string, Box> parse_face_boxes_json(const nlohmann::json& j, const std::string& what) {
  if (!j.is_object())
    throw_error(ErrorCode::format, what, " must be an object {frame_file: [l, u, r, b]}, got ",
                j.dump().substr(0, 200));
  std::map<std::string, Box> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto box = parse_box_json(it.value(), what + ", frame '" + it.key() + "'");
    if (box) out.emplace(it.key(), *box);
  }
  return out;
}

inline nlohmann::json read_json_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw_error(ErrorCode::file_not_found, "box file '", path, "' does not exist");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::io, "cannot open box file '", path, "'");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw_error(ErrorCode::format, "box file '", path, "' is not valid JSON: ", e.what());
  }
}

// The keys a clip folder may have in a box file, in lookup order: the folder
// as given without trailing '/' (what the official loader's
// os.path.dirname(frame_path) yields), as given, then its absolute path.
inline std::vector<std::string> clip_keys(const std::string& clip_dir) {
  std::vector<std::string> keys;
  auto add = [&](std::string k) {
    for (const auto& have : keys)
      if (have == k) return;
    keys.push_back(std::move(k));
  };
  std::string stripped = clip_dir;
  while (stripped.size() > 1 && stripped.back() == '/') stripped.pop_back();
  add(stripped);
  add(clip_dir);
  std::error_code ec;
  auto abs = std::filesystem::absolute(clip_dir, ec);
  if (!ec) {
    std::string a = abs.lexically_normal().string();
    while (a.size() > 1 && a.back() == '/') a.pop_back();
    add(a);
  }
  return keys;
}

inline const nlohmann::json* find_clip_entry(const nlohmann::json& root, const std::string& clip_dir,
                                             const std::string& path, std::string* key_found) {
  if (!root.is_object()) throw_error(ErrorCode::format, "box file '", path, "' must hold a JSON object {clip_dir: ...}");
  for (const auto& k : clip_keys(clip_dir)) {
    auto it = root.find(k);
    if (it != root.end()) {
      *key_found = k;
      return &*it;
    }
  }
  return nullptr;
}

// Face boxes of one clip from the official faces file. A clip that is not in
// the file has no face boxes (the official loader then uses whole frames).
inline std::map<std::string, Box> read_face_boxes(const std::string& json_path, const std::string& clip_dir) {
  const nlohmann::json root = read_json_file(json_path);
  std::string key;
  const nlohmann::json* entry = find_clip_entry(root, clip_dir, json_path, &key);
  if (!entry) return {};
  return parse_face_boxes_json(*entry, "face boxes file '" + json_path + "', clip '" + key + "'");
}

// The body box of one clip from the official bodies file; nullopt if the clip
// is not in the file (or its box is null).
inline std::optional<Box> read_body_box(const std::string& json_path, const std::string& clip_dir) {
  const nlohmann::json root = read_json_file(json_path);
  std::string key;
  const nlohmann::json* entry = find_clip_entry(root, clip_dir, json_path, &key);
  if (!entry) return std::nullopt;
  return parse_box_json(*entry, "body box file '" + json_path + "', clip '" + key + "'");
}

// Both, for a clip folder; an empty path means "no file".
inline ClipBoxes read_clip_boxes(const std::string& clip_dir, const std::string& faces_json,
                                 const std::string& bodies_json) {
  ClipBoxes boxes;
  if (!faces_json.empty()) boxes.faces = read_face_boxes(faces_json, clip_dir);
  if (!bodies_json.empty()) boxes.body = read_body_box(bodies_json, clip_dir);
  return boxes;
}

}  // namespace io
}  // namespace clipcaer
