// Face detection (detect/): the cascade-file reader and its errors, the
// bit-exact pyramid resize, detection on synthetic frames with a hand-written
// cascade (tests/fixtures/square_cascade.xml; Python's test_faces.py checks
// real cascades and real faces against OpenCV), FaceDetector, and load_clip /
// timelines with a detector (a found box is used exactly as a given one).
#include <doctest/doctest.h>

#include <clocale>
#include <locale>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "clipcaer/detect/cascade.hpp"
#include "clipcaer/detect/face_detector.hpp"
#include "clipcaer/detect/xml.hpp"
#include "clipcaer/model.hpp"
#include "clipcaer/preprocess/clip.hpp"
#include "clipcaer/timeline.hpp"
#include "error_test_util.hpp"
#include "image_test_util.hpp"
#include "test_util.hpp"

using namespace clipcaer;
using namespace clipcaer::test;

namespace {

const std::string kSquareCascade = std::string(CLIPCAER_FIXTURES_DIR) + "/square_cascade.xml";

// A dark noisy frame with bright squares (x, y, side).
Image squares_frame(std::size_t w, std::size_t h, const std::vector<std::array<int, 3>>& squares, unsigned seed) {
  Image im(w, h);
  std::mt19937 rng(seed);
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < 3 * w; ++x) im.mutable_view().row(y)[x] = static_cast<std::uint8_t>(rng() % 40);
  for (const auto& s : squares)
    for (int y = s[1]; y < s[1] + s[2]; ++y)
      for (int x = s[0]; x < s[0] + s[2]; ++x)
        for (int c = 0; c < 3; ++c) im.mutable_view().row(static_cast<std::size_t>(y))[3 * x + c] = 230;
  return im;
}

std::string cascade_text() { return read_bytes(kSquareCascade); }

// The square cascade with `from` replaced by `to` (which must occur).
std::string edited(const std::string& from, const std::string& to) {
  std::string s = cascade_text();
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

std::string load_error(const std::string& xml) {
  return message_of([&] { detect::Cascade::from_xml(xml, "bad.xml"); }, ErrorCode::format);
}

FaceDetector square_detector() {
  FaceDetectorOptions o;
  o.cascades = {kSquareCascade};
  o.profiles = false;
  o.min_face = 0;
  return FaceDetector(o);
}

}  // namespace

TEST_CASE("xml: elements, text, comments and attributes; errors give the line") {
  const detect::XmlNode root = detect::parse_xml(
      "<?xml version=\"1.0\"?>\n<!-- c -->\n<a x=\"1>2\" y='z'><b>1 2</b><!-- <b>no</b> -->\n<c/><b>3</b> tail</a>\n", "t");
  CHECK(root.name == "a");
  REQUIRE(root.children.size() == 3);
  CHECK(root.child("b")->text == "1 2");
  CHECK(root.children[1].name == "c");
  CHECK(root.children[2].text == "3");
  CHECK(root.children[2].line == 4);
  CHECK(contains(root.text, "tail"));
  CHECK(root.child("zz") == nullptr);
  auto err = [](const std::string& xml) { return message_of([&] { detect::parse_xml(xml, "'f.xml'"); }, ErrorCode::format); };
  CHECK(contains(err("<a><b></a>"), "line 1: </a> closes <b>"));
  CHECK(contains(err("<a>\n<b>"), "'f.xml': line 2: unterminated element"));
  CHECK(contains(err("<a></a><b></b>"), "text after the root element"));
  CHECK(contains(err("just text"), "expected an element"));
  CHECK(contains(err("<a x=1></a>"), "quoted attribute value"));
  CHECK(contains(err("<a><![CDATA[x]]></a>"), "CDATA"));
  CHECK(contains(err("<!-- never closed"), "unterminated markup"));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  CHECK(contains(err(deep), "nested too deep"));
  CHECK(contains(message_of([] { detect::read_xml_file("/no/such/cascade.xml"); }, ErrorCode::file_not_found),
                 "/no/such/cascade.xml"));
}

TEST_CASE("cascade: the square cascade loads; every malformed part is named") {
  const auto c = detect::Cascade::load(kSquareCascade);
  CHECK(c.features() == detect::Cascade::Features::haar);
  CHECK(c.window_width() == 24);
  CHECK(c.window_height() == 24);
  CHECK(c.num_stages() == 2);
  CHECK(contains(load_error("<opencv_storage></opencv_storage>"), "not an OpenCV cascade file"));
  CHECK(contains(load_error("<x><cascade/></x>"), "not an OpenCV cascade file"));
  CHECK(contains(load_error("<opencv_storage><haar_old><size>24 24</size></haar_old></opencv_storage>"),
                 "old-format (OpenCV 1.x) cascade"));
  CHECK(contains(load_error(edited("<featureType>HAAR", "<featureType>HOG")), "feature type 'HOG' is not supported"));
  CHECK(contains(load_error(edited("<stageType>BOOST", "<stageType>GAB")), "stage type 'GAB' is not BOOST"));
  CHECK(contains(load_error(edited("<width>24", "<width>2")), "<width> holds 2"));
  CHECK(contains(load_error(edited("<maxCatCount>0", "<maxCatCount>256")), "needs maxCatCount 0"));
  CHECK(contains(load_error(edited("<tilted>0", "<tilted>1")), "tilted Haar features are not supported"));
  CHECK(contains(load_error(edited("0 -1 0 1.0e+00", "0 -1 0 1.0e+00 7")), "not a multiple of 4"));
  CHECK(contains(load_error(edited("0 -1 0 1.0e+00", "0 -1 9 1.0e+00")), "<internalNodes> holds 9"));
  CHECK(contains(load_error(edited("0 -1 0 1.0e+00", "0 -1 0 abc")), "not a number"));
  CHECK(contains(load_error(edited("0 -1 0 1.0e+00", "0 -1 0 1.0e+00x")), "not a number"));
  CHECK(contains(load_error(edited("0 -1 0 1.0e+00", "0 -1 0 1e999")), "not a number"));
  CHECK(contains(load_error(edited("0 -1 0 1.0e+00", "0 -1 0 inf")), "not a number"));
  CHECK(contains(load_error(edited("-1.0e+00 1.0e+00</leafValues>", "-1.0e+00</leafValues>")),
                 "needs 2 leaves, not 1"));
  CHECK(contains(load_error(edited("1 0 1 2.0e-01 -1 -2 2", "1 0 1 2.0e-01 1 -2 2")), "points back"));
  CHECK(contains(load_error(edited("6 6 12 12 4.", "6 6 20 12 4.")), "reaches outside the 24x24 window"));
  CHECK(contains(load_error(edited("6 6 12 12 4.", "6 6 12 4.")), "needs 5 numbers"));
  CHECK(contains(load_error(edited("<stageThreshold>5.0e-01", "<stageThreshold>1 2")), "should hold one number"));
  const std::string where =
      load_error(edited("<leafValues>\n            -1.0e+00 1.0e+00</leafValues>", "<leaves>-1 1</leaves>"));
  CHECK(contains(where, "'bad.xml': line 22: "));
  CHECK(contains(where, "<_> has no <leafValues>"));
}

TEST_CASE("cascade: numbers are read in the C locale whatever the program's") {
  // A C++ global locale with a decimal comma (no system locale needed), and
  // the C one where a German locale is installed.
  struct CommaPoint : std::numpunct<char> {
    char do_decimal_point() const override { return ','; }
  };
  struct Restore {  // both locales back even when loading throws
    std::locale cpp;
    std::string c;
    ~Restore() {
      std::setlocale(LC_NUMERIC, c.c_str());
      std::locale::global(cpp);
    }
  };
  const char* old = std::setlocale(LC_NUMERIC, nullptr);
  const Image frame = squares_frame(160, 120, {{40, 30, 40}}, 5);
  std::vector<detect::Rect> found;
  {
    Restore restore{std::locale::global(std::locale(std::locale::classic(), new CommaPoint)), old ? old : "C"};
    std::setlocale(LC_NUMERIC, "de_DE.UTF-8");
    found = detect::Cascade::load(kSquareCascade).detect(detect::to_gray(frame.view()));
  }
  const auto again = detect::Cascade::load(kSquareCascade).detect(detect::to_gray(frame.view()));
  CHECK(found == again);
  CHECK(found.size() == 1);
}

TEST_CASE("bit-exact linear resize: copy, exact halves, edges, and a golden case") {
  detect::GrayImage g;
  g.width = 4;
  g.height = 2;
  g.pixels = {0, 10, 20, 30, 100, 110, 120, 131};
  CHECK(detect::resize_linear_exact(g, 4, 2).pixels == g.pixels);
  // Halving is the rounded 2 x 2 mean (OpenCV: INTER_AREA's fast path equals it).
  CHECK(detect::resize_linear_exact(g, 2, 1).pixels == std::vector<std::uint8_t>{55, 75});
  // Doubling a row: outside pixels' centres repeat the edge, others interpolate 1/4, 3/4.
  detect::GrayImage row;
  row.width = 2;
  row.height = 1;
  row.pixels = {0, 100};
  CHECK(detect::resize_linear_exact(row, 4, 1).pixels == std::vector<std::uint8_t>{0, 25, 75, 100});
  // A single pixel spreads everywhere.
  detect::GrayImage one;
  one.width = one.height = 1;
  one.pixels = {77};
  CHECK(detect::resize_linear_exact(one, 3, 2).pixels == std::vector<std::uint8_t>(6, 77));
  CHECK(contains(message_of([&] { detect::resize_linear_exact(g, 0, 3); }), "to 0x3"));
}

TEST_CASE("grey conversion: OpenCV's 15-bit weights") {
  Image im(3, 1);
  const std::uint8_t px[9] = {255, 0, 0, 0, 255, 0, 10, 200, 30};
  std::copy(px, px + 9, im.mutable_view().data);
  const detect::GrayImage g = detect::to_gray(im.view());
  // (r * 9798 + g * 19235 + b * 3735 + 2^14) >> 15
  CHECK(g.pixels == std::vector<std::uint8_t>{76, 150, 124});
  CHECK(detect::mirrored(g).pixels == std::vector<std::uint8_t>{124, 150, 76});
}

TEST_CASE("cascade detection: finds the squares where they are, at their size") {
  const auto c = detect::Cascade::load(kSquareCascade);
  const Image frame = squares_frame(320, 240, {{100, 80, 60}, {250, 30, 20}}, 1);
  const detect::GrayImage g = detect::to_gray(frame.view());
  std::vector<detect::Rect> found = c.detect(g);
  REQUIRE(found.size() == 2);
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.width > b.width; });
  for (std::size_t i = 0; i < 2; ++i) {
    const int side = i == 0 ? 60 : 20, cx = i == 0 ? 130 : 260, cy = i == 0 ? 110 : 40;
    INFO("square " << i);
    CHECK(std::abs(found[i].x + found[i].width / 2 - cx) <= 3);   // the middle half of the window
    CHECK(std::abs(found[i].y + found[i].height / 2 - cy) <= 3);
    CHECK(found[i].width == doctest::Approx(2 * side).epsilon(0.25));
  }
  // Ungrouped, every accepted window comes back; more neighbours, fewer detections.
  detect::DetectParams raw;
  raw.min_neighbors = 0;
  CHECK(c.detect(g, raw).size() > 50);
  detect::DetectParams strict;
  strict.min_neighbors = 1000;
  CHECK(c.detect(g, strict).empty());
  // Size limits bound every detection; the small square is still found under 60 px.
  detect::DetectParams small, large;
  small.max_width = small.max_height = 60;
  large.min_width = large.min_height = 80;
  bool small_square = false;
  for (const auto& r : c.detect(g, small)) {
    CHECK(r.width <= 60);
    small_square = small_square || (std::abs(r.x + r.width / 2 - 260) <= 3 && std::abs(r.y + r.height / 2 - 40) <= 3);
  }
  CHECK(small_square);
  REQUIRE_FALSE(c.detect(g, large).empty());
  for (const auto& r : c.detect(g, large)) CHECK(r.width >= 80);
  // A flat frame has no variance: nothing anywhere. A frame smaller than the window: nothing.
  detect::GrayImage flat;
  flat.width = 100;
  flat.height = 80;
  flat.pixels.assign(8000, 128);
  CHECK(c.detect(flat).empty());
  detect::GrayImage tiny;
  tiny.width = tiny.height = 10;
  tiny.pixels.assign(100, 0);
  CHECK(c.detect(tiny).empty());
  // Bad parameters are named.
  detect::DetectParams p;
  p.scale_factor = 1.0;
  CHECK(contains(message_of([&] { c.detect(g, p); }), "scale factor 1 must be a number above 1"));
  p = {};
  p.min_neighbors = -1;
  CHECK(contains(message_of([&] { c.detect(g, p); }), "min_neighbors -1 is negative"));
  p = {};
  p.max_width = -5;
  CHECK(contains(message_of([&] { c.detect(g, p); }), "negative minimum or maximum size"));
  detect::GrayImage broken = g;
  broken.pixels.pop_back();
  CHECK(contains(message_of([&] { c.detect(broken); }), "does not match its pixels"));
  detect::GrayImage huge;  // checked before its pixels are looked at
  huge.width = 40000;
  huge.height = 30000;
  CHECK(contains(message_of([&] { c.detect(huge); }), "40000x30000 picture is too large"));
}

TEST_CASE("FaceDetector: the largest find as a box; options and missing files named") {
  const FaceDetector d = square_detector();
  const Image frame = squares_frame(320, 240, {{100, 80, 60}, {250, 30, 20}}, 2);
  const auto faces = d.find_faces(frame.view());
  REQUIRE(faces.size() == 2);
  CHECK(faces[0].width > faces[1].width);
  const auto box = d.find_face(frame.view());
  REQUIRE(box);
  CHECK(box->left == faces[0].x);
  CHECK(box->lower == faces[0].y + faces[0].height);
  CHECK_FALSE(d.find_face(squares_frame(320, 240, {}, 3).view()));
  // min_face: a fraction of the shorter side, a bound on every face found.
  FaceDetectorOptions big;
  big.cascades = {kSquareCascade};
  big.profiles = false;
  big.min_face = 0.4;
  REQUIRE_FALSE(FaceDetector(big).find_faces(frame.view()).empty());
  for (const auto& r : FaceDetector(big).find_faces(frame.view())) CHECK(r.width >= 96);
  // Profiles: a second cascade tried on the frame and its mirror when the first finds nothing.
  FaceDetectorOptions never;
  never.cascades = {kSquareCascade};
  never.profile_cascades = {kSquareCascade};
  never.min_neighbors = 1000;  // the first pass finds nothing...
  CHECK(FaceDetector(never).find_faces(frame.view()).empty());  // ...and so does the profile pass
  auto bad = [](auto edit) {
    FaceDetectorOptions o;
    o.cascades = {kSquareCascade};
    o.profiles = false;
    edit(o);
    return message_of([&] { FaceDetector{o}; });
  };
  CHECK(contains(bad([](auto& o) { o.scale_factor = 1.0; }), "scale factor 1 is not in (1, 10)"));
  CHECK(contains(bad([](auto& o) { o.min_neighbors = -2; }), "min_neighbors -2"));
  CHECK(contains(bad([](auto& o) { o.min_face = 2; }), "min_face 2"));
  CHECK(contains(message_of([] { FaceDetector{FaceDetectorOptions{{"/no/face.xml"}, {}, false}}; },
                            ErrorCode::file_not_found),
                 "/no/face.xml"));
  const std::string missing = message_of([] { find_cascade("haarcascades/no_such_cascade.xml"); }, ErrorCode::file_not_found);
  CHECK(contains(missing, "apt-get install opencv-data"));
  CHECK(contains(missing, "no_such_cascade.xml"));
  CHECK(contains(message_of([&] { d.find_face(ImageView{}); }), "the frame is empty"));
}

TEST_CASE("load_clip with a detector: found boxes are used as given ones, file boxes first") {
  const FaceDetector d = square_detector();
  std::vector<Image> frames;
  std::vector<std::string> names;
  for (int i = 0; i < 6; ++i) {
    // Frames 1 and 4 have no square: no face there.
    const bool empty = i == 1 || i == 4;
    frames.push_back(squares_frame(96, 72, empty ? std::vector<std::array<int, 3>>{}
                                                 : std::vector<std::array<int, 3>>{{20 + 5 * i, 18, 24}},
                                   10 + i));
    names.push_back("f" + std::to_string(i) + ".png");
  }
  ClipBoxes file;
  file.faces["f2.png"] = make_box(1, 2, 50, 60, "face");
  const Clip with = load_clip(frames, names, file, 6, 32, nullptr, &d);
  // The same clip with the detector's boxes written out as given boxes.
  ClipBoxes given = file;
  std::size_t found = 0;
  for (int i = 0; i < 6; ++i) {
    if (i == 2) continue;
    if (const auto b = d.find_face(frames[static_cast<std::size_t>(i)].view())) {
      given.faces[names[static_cast<std::size_t>(i)]] = *b;
      ++found;
    }
  }
  CHECK(found == 3);
  const Clip as_given = load_clip(frames, names, given, 6, 32);
  CHECK(std::equal(with.faces.begin(), with.faces.end(), as_given.faces.begin()));
  CHECK(std::equal(with.frames.begin(), with.frames.end(), as_given.frames.begin()));
  CHECK(with.face_boxes_used == 4);
  CHECK(with.faces_detected == 3);
  REQUIRE(with.face_boxes.size() == 6);
  CHECK(with.face_boxes[2]->right == 50);  // the file's box, not the detector's
  CHECK_FALSE(with.face_boxes[1]);
  CHECK_FALSE(with.face_boxes[4]);
  CHECK(with.face_boxes[0]->left == given.faces["f0.png"].left);
  // Without a detector nothing changes: no boxes found, whole frames.
  const Clip without = load_clip(frames, names, {}, 6, 32);
  CHECK(without.faces_detected == 0);
  CHECK(without.face_boxes_used == 0);
  CHECK_FALSE(std::equal(with.faces.begin(), with.faces.end(), without.faces.begin()));
  // A pool gives the same.
  ThreadPool pool(2);
  const Clip pooled = load_clip(frames, names, file, 6, 32, &pool, &d);
  CHECK(std::equal(with.faces.begin(), with.faces.end(), pooled.faces.begin()));
}

TEST_CASE("timeline with a detector: each window is classify_clip with the detector, exactly") {
  const FaceDetector d = square_detector();
  const Fixture fx = caer_fixtures().front();
  const Model m(fx.weights);
  TempDir dir("clipcaer_faces_timeline");
  std::vector<Image> frames;
  for (std::size_t i = 0; i < 24; ++i) {
    frames.push_back(squares_frame(96, 72, i % 5 == 3 ? std::vector<std::array<int, 3>>{}
                                                      : std::vector<std::array<int, 3>>{{static_cast<int>(2 * i), 20, 26}},
                                   static_cast<unsigned>(100 + i)));
    char name[16];
    std::snprintf(name, sizeof name, "%05zu.png", i + 1);
    write_bytes(dir.file(name), encode_png_rgb(frames.back()));
  }
  TimelineOptions opt;
  opt.window_frames = 10;
  opt.stride_frames = 5;
  opt.face_detector = &d;
  const Timeline t = classify_video_timeline(m, dir.path, {}, opt);
  REQUIRE(t.windows.size() == 4);
  std::size_t detected = 0;
  for (const auto& w : t.windows) {
    const std::vector<Image> part(frames.begin() + static_cast<std::ptrdiff_t>(w.first_frame),
                                  frames.begin() + static_cast<std::ptrdiff_t>(w.end_frame));
    const Clip c = load_clip(part, {}, {}, m.num_frames(), m.image_size(), nullptr, &d);
    CHECK(w.prediction.logits == m.classify_clip(c.faces, c.frames).logits);  // bit for bit
    CHECK(w.faces_detected == c.faces_detected);
    CHECK(w.face_boxes_used == c.face_boxes_used);
    detected += w.faces_detected;
  }
  CHECK(detected > 0);
  // Without the detector the same windows answer otherwise (whole frames as faces).
  opt.face_detector = nullptr;
  const Timeline plain = classify_video_timeline(m, dir.path, {}, opt);
  CHECK(plain.windows[0].faces_detected == 0);
  CHECK(plain.windows[0].prediction.logits != t.windows[0].prediction.logits);
}
