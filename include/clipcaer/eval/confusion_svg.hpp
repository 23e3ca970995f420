// A confusion matrix as an SVG picture: rows are true classes, columns
// predicted ones; each cell shows its count and its share of the row, shaded
// by that share, so the diagonal (per-class recall) reads at a glance.
#pragma once

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "clipcaer/eval/metrics.hpp"
#include "clipcaer/eval/svg.hpp"

namespace clipcaer::eval {

inline std::string confusion_svg(const ConfusionMatrix& cm, const std::vector<std::string>& names,
                                 const std::string& title) {
  const std::size_t C = cm.classes();
  const Metrics m = compute_metrics(cm);
  std::size_t longest = 4;
  for (const auto& n : names) longest = std::max(longest, n.size());
  const int cell = 72, label_w = static_cast<int>(std::min<std::size_t>(longest, 28) * 8 + 24);
  const int top = 96, left = label_w + 24;
  const int width = left + static_cast<int>(C) * cell + 24, height = top + static_cast<int>(C) * cell + 72;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"13\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"12\" y=\"24\" font-size=\"16\" font-weight=\"bold\">" << detail::xml_escape(title) << "</text>\n";
  s << "<text x=\"12\" y=\"46\">WAR " << detail::fmt("%.2f", 100 * m.war) << " %   UAR "
    << detail::fmt("%.2f", 100 * m.uar) << " %   clips " << m.samples << "</text>\n";
  s << "<text x=\"" << left + static_cast<int>(C) * cell / 2 << "\" y=\"" << top - 30
    << "\" text-anchor=\"middle\" font-weight=\"bold\">predicted</text>\n";
  s << "<text x=\"14\" y=\"" << top + static_cast<int>(C) * cell / 2 << "\" font-weight=\"bold\" transform=\"rotate(-90 14 "
    << top + static_cast<int>(C) * cell / 2 << ")\" text-anchor=\"middle\">true</text>\n";
  auto name = [&](std::size_t i) { return detail::xml_escape(i < names.size() ? names[i] : std::to_string(i + 1)); };
  for (std::size_t p = 0; p < C; ++p)
    s << "<text x=\"" << left + static_cast<int>(p) * cell + cell / 2 << "\" y=\"" << top - 8
      << "\" text-anchor=\"middle\" font-size=\"11\">" << name(p).substr(0, 11) << "</text>\n";
  for (std::size_t t = 0; t < C; ++t) {
    const int y = top + static_cast<int>(t) * cell;
    const std::size_t row = cm.row_total(t);
    s << "<text x=\"" << left - 8 << "\" y=\"" << y + cell / 2 + 4 << "\" text-anchor=\"end\">" << name(t)
      << " (" << row << ")</text>\n";
    for (std::size_t p = 0; p < C; ++p) {
      const double share = row ? static_cast<double>(cm.at(t, p)) / static_cast<double>(row) : 0.0;
      // White to blue; the diagonal in blue, errors in orange.
      const int r = p == t ? static_cast<int>(255 - share * 222) : 255;
      const int g = p == t ? static_cast<int>(255 - share * 153) : static_cast<int>(255 - share * 128);
      const int b = p == t ? static_cast<int>(255 - share * 75) : static_cast<int>(255 - share * 215);
      const int x = left + static_cast<int>(p) * cell;
      s << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << cell << "\" height=\"" << cell << "\" fill=\"rgb("
        << r << "," << g << "," << b << ")\" stroke=\"#999\"/>\n";
      const char* ink = share > 0.6 ? "white" : "black";
      s << "<text x=\"" << x + cell / 2 << "\" y=\"" << y + cell / 2 - 2 << "\" text-anchor=\"middle\" fill=\"" << ink
        << "\" font-weight=\"bold\">" << cm.at(t, p) << "</text>\n";
      s << "<text x=\"" << x + cell / 2 << "\" y=\"" << y + cell / 2 + 14 << "\" text-anchor=\"middle\" fill=\"" << ink
        << "\" font-size=\"11\">" << (row ? detail::fmt("%.0f %%", 100 * share) : std::string("-")) << "</text>\n";
    }
  }
  s << "<text x=\"12\" y=\"" << height - 16
    << "\" font-size=\"11\" fill=\"#555\">cells: clip count and share of the true class; diagonal = per-class recall"
    << "</text>\n</svg>\n";
  return s.str();
}

}  // namespace clipcaer::eval
