// The official list format: one clip per line, "clip_dir num_frames label",
// labels 1..C, separated by whitespace. Blank lines and lines starting with
// '#' are skipped.
#pragma once

#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "clipcaer/core/error.hpp"

namespace clipcaer::eval {

struct LabelledClip {
  std::string clip_dir;     // as written in the list
  std::size_t num_frames;   // as written (informational; the folder is listed anyway)
  std::size_t label;        // 0-based class index (the file's label - 1)
  std::size_t line;         // 1-based line number, for messages
};

inline std::vector<LabelledClip> parse_label_list(std::istream& in, std::size_t num_classes,
                                                  const std::string& name) {
  std::vector<LabelledClip> out;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream fields(line);
    std::string dir, frames, label, extra;
    if (!(fields >> dir) || dir[0] == '#') continue;
    auto where = [&] { return "list '" + name + "' line " + std::to_string(number); };
    if (!(fields >> frames >> label) || (fields >> extra))
      throw_error(ErrorCode::format, where(), ": expected 'clip_dir num_frames label', got '", line, "'");
    auto to_size = [&](const std::string& s, const char* what) {
      std::size_t pos = 0;
      unsigned long long v = 0;
      try {
        v = std::stoull(s, &pos);
      } catch (const std::exception&) {
        pos = 0;
      }
      if (pos != s.size() || s[0] == '-')
        throw_error(ErrorCode::format, where(), ": ", what, " '", s, "' is not a non-negative integer");
      return static_cast<std::size_t>(v);
    };
    const std::size_t n = to_size(frames, "num_frames");
    const std::size_t l = to_size(label, "label");
    if (l < 1 || l > num_classes)
      throw_error(ErrorCode::format, where(), ": label ", l, " is outside 1..", num_classes,
                  " (the model has ", num_classes, " classes)");
    out.push_back({dir, n, l - 1, number});
  }
  if (out.empty()) throw_error(ErrorCode::format, "list '", name, "' has no clips");
  return out;
}

inline std::vector<LabelledClip> read_label_list(const std::string& path, std::size_t num_classes) {
  std::ifstream in(path);
  if (!in) throw_error(ErrorCode::file_not_found, "cannot open list '", path, "'");
  return parse_label_list(in, num_classes, path);
}

}  // namespace clipcaer::eval
