// Metrics, the label list parser and the confusion-matrix picture.
#include <doctest/doctest.h>

#include <sstream>

#include "clipcaer/eval/confusion_svg.hpp"
#include "clipcaer/eval/label_list.hpp"
#include "clipcaer/eval/metrics.hpp"

using namespace clipcaer;
using namespace clipcaer::eval;

TEST_CASE("WAR, UAR and recall on a hand-computed case with an empty class") {
  // truth -> predicted: class 0: 3 of 4 right; class 1: 1 of 2; class 2: no clips; class 3: 0 of 1.
  ConfusionMatrix cm(4);
  for (auto [t, p] : {std::pair{0, 0}, {0, 0}, {0, 0}, {0, 2}, {1, 1}, {1, 0}, {3, 1}}) cm.add(t, p);
  CHECK(cm.total() == 7);
  CHECK(cm.at(0, 2) == 1);
  CHECK(cm.row_total(2) == 0);
  Metrics m = compute_metrics(cm);
  CHECK(m.war == doctest::Approx(4.0 / 7.0));
  CHECK(m.recall[0] == doctest::Approx(0.75));
  CHECK(m.recall[1] == doctest::Approx(0.5));
  CHECK(m.recall[3] == doctest::Approx(0.0));
  CHECK_FALSE(m.has_samples[2]);
  CHECK(m.uar == doctest::Approx((0.75 + 0.5 + 0.0) / 3.0));  // the empty class is left out
}

TEST_CASE("perfect and empty matrices") {
  ConfusionMatrix cm(2);
  Metrics empty = compute_metrics(cm);
  CHECK(empty.war == 0.0);
  CHECK(empty.uar == 0.0);
  cm.add(0, 0);
  cm.add(1, 1);
  CHECK(compute_metrics(cm).uar == 1.0);
  CHECK_THROWS_AS(cm.add(2, 0), Error);
  CHECK_THROWS_AS(ConfusionMatrix(0), Error);
}

TEST_CASE("label lists: the official format and its errors") {
  std::istringstream ok("# comment\nclips/a 40 1\n\nclips/b 12 5\r\n");
  auto clips = parse_label_list(ok, 5, "test.txt");
  REQUIRE(clips.size() == 2);
  CHECK(clips[0].clip_dir == "clips/a");
  CHECK(clips[0].num_frames == 40);
  CHECK(clips[0].label == 0);
  CHECK(clips[1].label == 4);
  CHECK(clips[1].line == 4);
  auto error = [](const std::string& text) {
    std::istringstream in(text);
    try {
      parse_label_list(in, 5, "test.txt");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error("clips/a 40 6\n").find("label 6 is outside 1..5") != std::string::npos);
  CHECK(error("clips/a 40 0\n").find("line 1") != std::string::npos);
  CHECK(error("clips/a forty 1\n").find("num_frames 'forty'") != std::string::npos);
  CHECK(error("clips/a 40\n").find("expected 'clip_dir num_frames label'") != std::string::npos);
  CHECK(error("clips/a 40 1 extra\n").find("expected") != std::string::npos);
  CHECK(error("# nothing\n").find("has no clips") != std::string::npos);
  CHECK(error("clips/a 40 -1\n").find("not a non-negative integer") != std::string::npos);
  CHECK_THROWS_AS(read_label_list("/nonexistent/list.txt", 5), Error);
}

TEST_CASE("the confusion picture names classes, counts and metrics") {
  ConfusionMatrix cm(2);
  cm.add(0, 0);
  cm.add(0, 1);
  cm.add(1, 1);
  std::string svg = confusion_svg(cm, {"Calm & <ok>", "Tired"}, "demo");
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("Calm &amp; &lt;ok&gt;") != std::string::npos);
  CHECK(svg.find("WAR 66.67 %") != std::string::npos);
  CHECK(svg.find("UAR 75.00 %") != std::string::npos);
  CHECK(svg.find(">50 %<") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
}
