// Listing the frames of a clip folder the way the official loader sees them:
// `sorted(glob(dir + '/*'))`, i.e. names compared byte by byte (Python's
// sort of UTF-8 names), hidden (dot) files left out as glob leaves them out.
// Unlike the official loader, entries that are not JPEG/PNG/BMP by their
// extension (and subfolders) are skipped instead of crashing the decoder.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "clipcaer/core/error.hpp"

namespace clipcaer::io {

// True for names ending in .jpg, .jpeg, .png or .bmp (any letter case).
inline bool is_image_file_name(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return false;
  std::string ext = name.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "bmp";
}

// File names (not paths) of the frames in `dir`, sorted byte-wise.
inline std::vector<std::string> list_frame_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) throw_error(ErrorCode::file_not_found, "frames folder '", dir, "' does not exist");
  if (!fs::is_directory(st)) throw_error(ErrorCode::invalid_argument, "frames folder '", dir, "' is not a folder");
  std::vector<std::string> names;
  fs::directory_iterator it(dir, ec), end;
  if (ec) throw_error(ErrorCode::io, "cannot list frames folder '", dir, "': ", ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) throw_error(ErrorCode::io, "cannot list frames folder '", dir, "': ", ec.message());
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !is_image_file_name(name)) continue;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;  // e.g. a subfolder named "x.jpg"
    names.push_back(std::move(name));
  }
  if (ec) throw_error(ErrorCode::io, "cannot list frames folder '", dir, "': ", ec.message());
  if (names.empty())
    throw_error(ErrorCode::invalid_argument, "frames folder '", dir, "' has no JPEG, PNG or BMP files");
  std::sort(names.begin(), names.end());  // std::string compares as unsigned bytes, like Python on UTF-8
  return names;
}

}  // namespace clipcaer::io
