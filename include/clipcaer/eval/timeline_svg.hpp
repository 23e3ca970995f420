// A timeline as an SVG picture: each class's probability along the video (a
// line through the windows' centres), a band coloured by each window's
// predicted class, and a legend with each class's share of the windows.
#pragma once

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "clipcaer/eval/svg.hpp"
#include "clipcaer/timeline.hpp"

namespace clipcaer::eval {

namespace detail {

// Distinct colours (Tableau 10), cycled beyond ten classes.
inline const char* class_colour(std::size_t c) {
  static const char* const kColours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                         "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return kColours[c % 10];
}

// "m:ss" (or "h:mm:ss") for axis labels.
inline std::string clock_label(double seconds) {
  const long t = std::lround(seconds);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

// An axis step giving at most ~10 ticks over `span` (seconds or frames).
inline double tick_step(double span) {
  static const double kSteps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18000, 36000};
  for (double s : kSteps)
    if (span / s <= 10) return s;
  return std::ceil(span / 10 / 36000) * 36000;
}

}  // namespace detail

// names: the class names (one per column of the windows' probabilities).
inline std::string timeline_svg(const Timeline& t, const std::vector<std::string>& names, const std::string& title) {
  const std::size_t W = t.windows.size(), C = names.size();
  require(W > 0, ErrorCode::invalid_argument, "timeline_svg: the timeline has no windows");
  for (const auto& w : t.windows)
    require(w.prediction.probs.size() == C, ErrorCode::invalid_argument, "timeline_svg: ", C,
            " class names but windows with ", w.prediction.probs.size(), " probabilities");
  // In seconds when the frame rate is known, else in frames.
  const bool timed = t.frame_rate > 0;
  auto start = [&](const TimelineWindow& w) { return timed ? w.start_seconds : static_cast<double>(w.first_frame); };
  auto end = [&](const TimelineWindow& w) { return timed ? w.end_seconds : static_cast<double>(w.end_frame); };
  const double span = std::max(end(t.windows.back()), 1e-9);
  const int left = 64, plot_w = 720, top = 70, plot_h = 240, band_y = top + plot_h + 14, band_h = 22;
  const int legend_x = left + plot_w + 28, width = legend_x + 200;
  const int height = std::max(band_y + band_h + 56, top + 22 * static_cast<int>(C) + 40);
  auto x = [&](double v) { return left + plot_w * v / span; };
  auto y = [&](double p) { return top + plot_h * (1 - p); };
  const std::vector<double> shares = timeline_class_shares(t, C);

  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"12\" y=\"24\" font-size=\"16\" font-weight=\"bold\">" << detail::xml_escape(title) << "</text>\n";
  s << "<text x=\"12\" y=\"46\">" << W << " windows of " << t.window_frames << " frames every " << t.stride_frames
    << (timed ? " (" + detail::fmt("%.3g", t.frame_rate) + " fps)" : std::string(" (frame rate unknown)"))
    << "; lines: class probabilities at each window's centre; band: the predicted class</text>\n";
  // Grid and axes.
  for (int i = 0; i <= 4; ++i) {
    const double p = i / 4.0;
    s << "<line x1=\"" << left << "\" x2=\"" << left + plot_w << "\" y1=\"" << detail::fmt("%.1f", y(p)) << "\" y2=\""
      << detail::fmt("%.1f", y(p)) << "\" stroke=\"#ddd\"/>\n";
    s << "<text x=\"" << left - 6 << "\" y=\"" << detail::fmt("%.1f", y(p) + 4) << "\" text-anchor=\"end\">"
      << static_cast<int>(100 * p) << " %</text>\n";
  }
  const double step = detail::tick_step(span);
  for (double v = 0; v <= span + 1e-9; v += step) {
    s << "<line x1=\"" << detail::fmt("%.1f", x(v)) << "\" x2=\"" << detail::fmt("%.1f", x(v)) << "\" y1=\"" << top
      << "\" y2=\"" << band_y + band_h << "\" stroke=\"#eee\"/>\n";
    s << "<text x=\"" << detail::fmt("%.1f", x(v)) << "\" y=\"" << band_y + band_h + 16 << "\" text-anchor=\"middle\">"
      << (timed ? detail::clock_label(v) : detail::fmt("%.0f", v)) << "</text>\n";
  }
  s << "<text x=\"" << left + plot_w / 2 << "\" y=\"" << band_y + band_h + 36 << "\" text-anchor=\"middle\">"
    << (timed ? "time (m:ss)" : "frame") << "</text>\n";
  s << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << plot_w << "\" height=\"" << plot_h
    << "\" fill=\"none\" stroke=\"#888\"/>\n";
  // One line per class.
  for (std::size_t c = 0; c < C; ++c) {
    s << "<polyline fill=\"none\" stroke=\"" << detail::class_colour(c) << "\" stroke-width=\"1.8\" points=\"";
    for (std::size_t k = 0; k < W; ++k) {
      const TimelineWindow& w = t.windows[k];
      s << (k ? " " : "") << detail::fmt("%.1f", x((start(w) + end(w)) / 2)) << ","
        << detail::fmt("%.1f", y(w.prediction.probs[c]));
    }
    s << "\"><title>" << detail::xml_escape(names[c]) << "</title></polyline>\n";
  }
  // The band: window k from halfway to its neighbours' centres (windows overlap).
  for (std::size_t k = 0; k < W; ++k) {
    const TimelineWindow& w = t.windows[k];
    const double centre = (start(w) + end(w)) / 2;
    const double from = k == 0 ? start(w) : (centre + (start(t.windows[k - 1]) + end(t.windows[k - 1])) / 2) / 2;
    const double to = k + 1 == W ? end(w) : (centre + (start(t.windows[k + 1]) + end(t.windows[k + 1])) / 2) / 2;
    s << "<rect x=\"" << detail::fmt("%.2f", x(from)) << "\" y=\"" << band_y << "\" width=\""
      << detail::fmt("%.2f", std::max(0.0, x(to) - x(from))) << "\" height=\"" << band_h << "\" fill=\""
      << detail::class_colour(w.prediction.index) << "\"><title>"
      << detail::xml_escape(names[w.prediction.index]) << " "
      << detail::fmt("%.0f %%", 100 * w.prediction.probs[w.prediction.index]) << "</title></rect>\n";
  }
  // Legend.
  for (std::size_t c = 0; c < C; ++c) {
    const int ly = top + 22 * static_cast<int>(c);
    s << "<rect x=\"" << legend_x << "\" y=\"" << ly << "\" width=\"14\" height=\"14\" fill=\""
      << detail::class_colour(c) << "\"/>\n";
    s << "<text x=\"" << legend_x + 20 << "\" y=\"" << ly + 12 << "\">" << detail::xml_escape(names[c]) << " "
      << detail::fmt("%.0f %%", 100 * shares[c]) << "</text>\n";
  }
  s << "<text x=\"" << legend_x << "\" y=\"" << top + 22 * static_cast<int>(C) + 12
    << "\" font-size=\"11\" fill=\"#555\">% = share of windows</text>\n</svg>\n";
  return s.str();
}

}  // namespace clipcaer::eval
