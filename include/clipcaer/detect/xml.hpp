// A small XML reader for OpenCV's cascade files (FileStorage XML): elements,
// their text and children; declarations, comments and attributes are skipped.
// Enough for the trained cascades Debian ships in opencv-data, strict about
// what it cannot read, and bounded (depth, size) against crafted files.
#pragma once

#include <cctype>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "clipcaer/core/error.hpp"

namespace clipcaer::detect {

struct XmlNode {
  std::string name;
  std::string text;  // the element's own character data, concatenated
  std::vector<XmlNode> children;
  std::size_t line = 0;

  // The first child named `n`, or null.
  const XmlNode* child(const std::string& n) const noexcept {
    for (const auto& c : children)
      if (c.name == n) return &c;
    return nullptr;
  }
};

inline constexpr std::size_t kMaxXmlBytes = std::size_t{256} << 20;
inline constexpr int kMaxXmlDepth = 64;

namespace detail {

class XmlParser {
 public:
  XmlParser(const std::string& text, const std::string& where) : s_(text), where_(where) {}

  XmlNode parse_document() {
    skip_misc();
    require_here(peek() == '<', "expected an element");
    XmlNode root = parse_element(0);
    skip_misc();
    require_here(i_ == s_.size(), "text after the root element");
    return root;
  }

 private:
  const std::string& s_;
  const std::string& where_;
  std::size_t i_ = 0;
  std::size_t line_ = 1;

  char peek() const noexcept { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool starts(const char* p) const { return s_.compare(i_, std::char_traits<char>::length(p), p) == 0; }
  void advance(std::size_t n) {
    for (std::size_t k = 0; k < n && i_ < s_.size(); ++k, ++i_)
      if (s_[i_] == '\n') ++line_;
  }
  void require_here(bool ok, const char* what) const {
    require(ok, ErrorCode::format, where_, ": line ", line_, ": ", what);
  }
  void skip_until(const char* end) {
    const std::size_t at = s_.find(end, i_);
    require_here(at != std::string::npos, "unterminated markup");
    advance(at + std::char_traits<char>::length(end) - i_);
  }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) advance(1);
  }
  // Whitespace, <?...?>, <!--...-->, <!DOCTYPE ...>.
  void skip_misc() {
    for (;;) {
      skip_space();
      if (starts("<?")) skip_until("?>");
      else if (starts("<!--")) skip_until("-->");
      else if (starts("<!")) skip_until(">");
      else return;
    }
  }
  std::string parse_name() {
    const std::size_t b = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '-' ||
                              s_[i_] == ':' || s_[i_] == '.'))
      ++i_;
    require_here(i_ > b, "expected a name");
    return s_.substr(b, i_ - b);
  }

  XmlNode parse_element(int depth) {
    require_here(depth < kMaxXmlDepth, "elements nested too deep");
    XmlNode node;
    node.line = line_;
    advance(1);  // '<'
    node.name = parse_name();
    // Attributes: skipped (quoted values may hold '>').
    for (;;) {
      skip_space();
      const char c = peek();
      require_here(c != '\0', "unterminated start tag");
      if (c == '>' || starts("/>")) break;
      parse_name();
      skip_space();
      require_here(peek() == '=', "expected '=' in an attribute");
      advance(1);
      skip_space();
      const char q = peek();
      require_here(q == '"' || q == '\'', "expected a quoted attribute value");
      advance(1);
      const std::size_t end = s_.find(q, i_);
      require_here(end != std::string::npos, "unterminated attribute value");
      advance(end + 1 - i_);
    }
    if (starts("/>")) {
      advance(2);
      return node;
    }
    advance(1);  // '>'
    for (;;) {
      const std::size_t lt = s_.find('<', i_);
      require_here(lt != std::string::npos, "unterminated element");
      const std::size_t from = i_;
      advance(lt - i_);
      node.text.append(s_, from, lt - from);
      if (starts("</")) {
        advance(2);
        const std::string closing = parse_name();
        require(closing == node.name, ErrorCode::format, where_, ": line ", line_, ": </", closing,
                "> closes <", node.name, "> of line ", node.line);
        skip_space();
        require_here(peek() == '>', "expected '>'");
        advance(1);
        return node;
      }
      if (starts("<!--")) skip_until("-->");
      else if (starts("<?")) skip_until("?>");
      else if (starts("<![CDATA[")) {
        require_here(false, "CDATA sections are not supported");
      } else
        node.children.push_back(parse_element(depth + 1));
    }
  }
};

}  // namespace detail

// Parses `text`; errors are ErrorCode::format and start with `where`.
inline XmlNode parse_xml(const std::string& text, const std::string& where) {
  return detail::XmlParser(text, where).parse_document();
}

inline XmlNode read_xml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(static_cast<bool>(in), ErrorCode::file_not_found, "cannot open '", path, "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  require(!in.bad(), ErrorCode::io, "cannot read '", path, "'");
  const std::string text = buf.str();
  require(text.size() <= kMaxXmlBytes, ErrorCode::format, "'", path, "' is larger than ", kMaxXmlBytes, " bytes");
  return parse_xml(text, "'" + path + "'");
}

}  // namespace clipcaer::detect
