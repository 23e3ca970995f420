// The text of a zero-shot head: per class a name and the prompts whose
// features are averaged (CLIP's prompt ensemble), from code or from JSON
// (docs/text.md "Heads"). Only strings here; encoding is Model's job.
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "clipcaer/core/error.hpp"

namespace clipcaer::text {

struct ClassPrompts {
  std::string name;
  std::vector<std::string> prompts;      // used as written
  std::vector<std::string> descriptors;  // fill each template's "{}"; without templates, used as prompts
};

// A head's text as read from JSON: {"classes": [...], "templates": [...]}.
struct HeadText {
  std::vector<ClassPrompts> classes;
  std::vector<std::string> templates;
};

// Final prompts per class: its prompts, then every template filled with each
// descriptor (or with the class name when it has none); without templates,
// prompts then descriptors. Every class must end with at least one prompt.
inline std::vector<ClassPrompts> expand_templates(const std::vector<ClassPrompts>& classes,
                                                  const std::vector<std::string>& templates) {
  require(!classes.empty(), ErrorCode::invalid_argument, "a text head needs at least one class");
  for (std::size_t t = 0; t < templates.size(); ++t) {
    const std::size_t at = templates[t].find("{}");
    require(at != std::string::npos && templates[t].find("{}", at + 2) == std::string::npos,
            ErrorCode::invalid_argument, "template ", t, " (\"", templates[t],
            "\") must contain exactly one \"{}\" where the class name or descriptor goes");
  }
  std::vector<ClassPrompts> out;
  out.reserve(classes.size());
  for (std::size_t c = 0; c < classes.size(); ++c) {
    const ClassPrompts& in = classes[c];
    require(!in.name.empty(), ErrorCode::invalid_argument, "class ", c, " has an empty name");
    ClassPrompts e{in.name, in.prompts, {}};
    if (templates.empty()) {
      e.prompts.insert(e.prompts.end(), in.descriptors.begin(), in.descriptors.end());
    } else {
      const std::vector<std::string> fills = in.descriptors.empty() ? std::vector<std::string>{in.name}
                                                                    : in.descriptors;
      for (const auto& t : templates)
        for (const auto& f : fills) {
          std::string p = t;
          p.replace(p.find("{}"), 2, f);
          e.prompts.push_back(std::move(p));
        }
    }
    require(!e.prompts.empty(), ErrorCode::invalid_argument, "class ", c, " ('", in.name,
            "') has no prompts: give it 'prompts' or 'descriptor(s)', or pass templates");
    out.push_back(std::move(e));
  }
  return out;
}

namespace detail {

inline std::vector<std::string> json_strings(const nlohmann::json& v, const std::string& what) {
  std::vector<std::string> out;
  if (v.is_string()) return {v.get<std::string>()};
  require(v.is_array(), ErrorCode::format, what, " must be a string or a list of strings");
  for (const auto& s : v) {
    require(s.is_string(), ErrorCode::format, what, " must be a list of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

}  // namespace detail

// {"classes": [{"name": ..., "prompts": [...], "descriptor": "...", "descriptors": [...]}],
//  "templates": ["a photo of a {} student."]}; unknown keys are ignored.
// `source` names the text in errors.
inline HeadText parse_head_json(const std::string& text, const std::string& source = "head JSON") {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  require(!j.is_discarded(), ErrorCode::format, source, " is not valid JSON");
  require(j.is_object(), ErrorCode::format, source, " must be a JSON object with a 'classes' list");
  auto cl = j.find("classes");
  require(cl != j.end() && cl->is_array(), ErrorCode::format, source, " has no 'classes' list");
  HeadText out;
  for (std::size_t c = 0; c < cl->size(); ++c) {
    const nlohmann::json& e = (*cl)[c];
    const std::string what = source + ", class " + std::to_string(c);
    require(e.is_object() && e.contains("name") && e["name"].is_string(), ErrorCode::format, what,
            " is not an object with a string 'name'");
    ClassPrompts p{e["name"].get<std::string>(), {}, {}};
    if (auto it = e.find("prompts"); it != e.end()) p.prompts = detail::json_strings(*it, what + " 'prompts'");
    for (const char* key : {"descriptor", "descriptors"})
      if (auto it = e.find(key); it != e.end()) {
        auto d = detail::json_strings(*it, what + " '" + key + "'");
        p.descriptors.insert(p.descriptors.end(), d.begin(), d.end());
      }
    out.classes.push_back(std::move(p));
  }
  if (auto t = j.find("templates"); t != j.end() && !t->is_null())
    out.templates = detail::json_strings(*t, source + " 'templates'");
  return out;
}

inline HeadText read_head_json(const std::string& path) {
  std::error_code ec;
  require(std::filesystem::is_regular_file(path, ec), ErrorCode::file_not_found, "head file '", path,
          "' does not exist");
  std::ifstream in(path, std::ios::binary);
  require(static_cast<bool>(in), ErrorCode::io, "cannot open head file '", path, "'");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_head_json(text, "head file '" + path + "'");
}

}  // namespace clipcaer::text
