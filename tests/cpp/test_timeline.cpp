// Timelines of long videos (timeline.hpp, preprocess/windows.hpp): the window
// plan, each window's prediction against classify_clip on the same frames
// (exact), features shared between overlapping windows, face boxes by frame
// index, Model::classify_encoded, and every error path.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "clipcaer/eval/timeline_svg.hpp"
#include "clipcaer/model.hpp"
#include "clipcaer/preprocess/clip.hpp"
#include "clipcaer/preprocess/windows.hpp"
#include "clipcaer/timeline.hpp"
#include "error_test_util.hpp"
#include "image_test_util.hpp"
#include "test_util.hpp"

using namespace clipcaer;
using namespace clipcaer::test;

namespace {

std::string video_fixture(const std::string& name) { return std::string(CLIPCAER_FIXTURES_DIR) + "/video/" + name; }

// index_ffv1.mkv: 40 frames at 10 fps; frame i filled with (6 i, 255 - 6 i, 7 + i).
Image index_frame(std::size_t i) {
  Image im(64, 48);
  for (std::size_t p = 0; p < 64 * 48; ++p) {
    im.mutable_view().data[3 * p + 0] = static_cast<std::uint8_t>(6 * i);
    im.mutable_view().data[3 * p + 1] = static_cast<std::uint8_t>(255 - 6 * i);
    im.mutable_view().data[3 * p + 2] = static_cast<std::uint8_t>(7 + i);
  }
  return im;
}

// What classify_clip says of video frames [first, end) as a clip of their own.
Prediction window_as_clip(const Model& m, std::size_t first, std::size_t end, const ClipBoxes& boxes) {
  std::vector<Image> frames;
  std::vector<std::string> names;
  for (std::size_t i = first; i < end; ++i) {
    frames.push_back(index_frame(i));
    names.push_back(std::to_string(i));
  }
  const Clip c = load_clip(frames, names, boxes, m.num_frames(), m.image_size());
  return m.classify_clip(c.faces, c.frames);
}

std::vector<std::pair<std::size_t, std::size_t>> spans(const std::vector<preprocess::FrameWindow>& w) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (const auto& x : w) out.emplace_back(x.first, x.end);
  return out;
}

using Spans = std::vector<std::pair<std::size_t, std::size_t>>;

}  // namespace

TEST_CASE("windows: every frame covered, every window full length") {
  CHECK(spans(preprocess::plan_windows(40, 20, 10)) == Spans{{0, 20}, {10, 30}, {20, 40}});
  CHECK(spans(preprocess::plan_windows(45, 20, 10)) == Spans{{0, 20}, {10, 30}, {20, 40}, {25, 45}});
  CHECK(spans(preprocess::plan_windows(41, 20, 20)) == Spans{{0, 20}, {20, 40}, {21, 41}});
  CHECK(spans(preprocess::plan_windows(20, 20, 5)) == Spans{{0, 20}});
  CHECK(spans(preprocess::plan_windows(7, 20, 5)) == Spans{{0, 7}});
  CHECK(spans(preprocess::plan_windows(5, 2, 3)) == Spans{{0, 2}, {3, 5}});  // gaps when stride > length
  CHECK(spans(preprocess::plan_windows(3, 1, 1)) == Spans{{0, 1}, {1, 2}, {2, 3}});
  CHECK(preprocess::seconds_to_frames(4.0, 30.0, "window") == 120);
  CHECK(preprocess::seconds_to_frames(0.01, 25.0, "window") == 1);  // never 0
  CHECK(preprocess::seconds_to_frames(2.0, 29.97, "window") == 60);
}

TEST_CASE("windows: bad arguments are named") {
  CHECK(contains(message_of([] { preprocess::plan_windows(0, 4, 2); }), "no frames"));
  CHECK(contains(message_of([] { preprocess::plan_windows(10, 0, 2); }), "window must be at least 1 frame"));
  CHECK(contains(message_of([] { preprocess::plan_windows(10, 4, 0); }), "stride must be at least 1 frame"));
  CHECK(contains(message_of([] { preprocess::plan_windows(std::size_t{1} << 24, 1, 1); }),
                 "more than the limit of 1048576"));
  CHECK(contains(message_of([] { preprocess::seconds_to_frames(0, 30, "window"); }),
                 "window must be a positive number of seconds, got 0"));
  CHECK(contains(message_of([] { preprocess::seconds_to_frames(-1, 30, "stride"); }), "stride must be a positive"));
  CHECK(contains(message_of([] { preprocess::seconds_to_frames(std::nan(""), 30, "window"); }), "positive"));
  CHECK(contains(message_of([] { preprocess::seconds_to_frames(1e300, 30, "window"); }), "too long"));
  CHECK(contains(message_of([] { preprocess::seconds_to_frames(2, 0, "window"); }),
                 "window is in seconds but the frame rate is unknown"));
}

TEST_CASE("timeline: each window is classify_clip on its frames, exactly") {
  const std::string video = video_fixture("index_ffv1.mkv");
  for (const Fixture& fx : caer_fixtures()) {
    INFO(fx.name);
    ModelOptions o;
    o.threads = 2;
    const Model m(fx.weights, o);
    ClipBoxes boxes;
    boxes.faces["12"] = make_box(10, 8, 40, 30, "face");
    boxes.faces["22"] = make_box(0.5, 1.5, 20.9, 47, "face");
    boxes.body = make_box(4, 2, 60, 44, "body");
    TimelineOptions opt;
    opt.window_seconds = 2.0;  // 20 frames at 10 fps
    opt.stride_seconds = 1.0;
    std::vector<std::size_t> progress;
    const Timeline t = classify_video_timeline(m, video, boxes, opt, [&](std::size_t done, std::size_t total) {
      CHECK(total == 3);
      progress.push_back(done);
    });
    CHECK(progress == std::vector<std::size_t>{1, 2, 3});
    CHECK(t.num_frames == 40);
    CHECK(t.frame_rate == doctest::Approx(10.0));
    CHECK(t.window_frames == 20);
    CHECK(t.stride_frames == 10);
    REQUIRE(t.windows.size() == 3);
    for (std::size_t k = 0; k < 3; ++k) {
      const TimelineWindow& w = t.windows[k];
      INFO("window " << k);
      CHECK(w.first_frame == 10 * k);
      CHECK(w.end_frame == 10 * k + 20);
      CHECK(w.start_seconds == doctest::Approx(k));
      CHECK(w.end_seconds == doctest::Approx(k + 2.0));
      std::vector<std::size_t> want = preprocess::sample_frame_indices(20, m.num_frames());
      for (auto& f : want) f += w.first_frame;
      CHECK(w.frames == want);
      std::size_t boxed = 0;
      for (std::size_t f : w.frames) boxed += (f == 12 || f == 22) ? 1 : 0;
      CHECK(w.face_boxes_used == boxed);
      const Prediction p = window_as_clip(m, w.first_frame, w.end_frame, boxes);
      CHECK(w.prediction.logits == p.logits);  // bit for bit
      CHECK(w.prediction.probs == p.probs);
      CHECK(w.prediction.label == p.label);
    }
    // The windows overlap by half: frames chosen by two windows are encoded once.
    std::vector<std::size_t> all;
    for (const auto& w : t.windows) all.insert(all.end(), w.frames.begin(), w.frames.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    CHECK(t.images_encoded == 2 * all.size());
    if (m.num_frames() == 4) CHECK(t.images_encoded == 16);  // {2,7,12,17}, {12,..,27}, {22,..,37}: 8 frames, not 12
  }
}

TEST_CASE("timeline: windows in frames, a tail window, a video shorter than a window") {
  const Fixture fx = caer_fixtures().front();
  const Model m(fx.weights);
  const std::string video = video_fixture("index_ffv1.mkv");
  TimelineOptions opt;
  opt.window_frames = 15;
  opt.stride_frames = 12;
  const Timeline t = classify_video_timeline(m, video, {}, opt);
  REQUIRE(t.windows.size() == 4);  // 0, 12, 24, then 25..40 for the tail
  CHECK(t.windows[3].first_frame == 25);
  CHECK(t.windows[3].end_frame == 40);
  for (const auto& w : t.windows) CHECK(w.prediction.logits == window_as_clip(m, w.first_frame, w.end_frame, {}).logits);
  opt.window_frames = 100;
  const Timeline one = classify_video_timeline(m, video, {}, opt);
  REQUIRE(one.windows.size() == 1);
  CHECK(one.windows[0].end_frame == 40);
  const Clip whole = load_clip(video, {}, m.num_frames(), m.image_size());
  CHECK(one.windows[0].prediction.logits == m.classify_clip(whole.faces, whole.frames).logits);
  // Another head: each window scored against its classes.
  auto text = std::make_shared<Tensor>(Shape{2, m.embed_dim()});
  const std::vector<float> r = random_floats(2 * m.embed_dim(), 9);
  std::copy(r.begin(), r.end(), text->begin());
  const TextHead head({"x", "y"}, text, m.id());
  TimelineOptions with_head = opt;
  with_head.window_frames = 15;
  with_head.head = &head;
  const Timeline th = classify_video_timeline(m, video, {}, with_head);
  REQUIRE(th.windows.size() == 4);
  for (const auto& w : th.windows) {
    std::vector<Image> frames;
    for (std::size_t i = w.first_frame; i < w.end_frame; ++i) frames.push_back(index_frame(i));
    const Clip c = load_clip(frames, {}, {}, m.num_frames(), m.image_size());
    CHECK(w.prediction.logits == m.classify_clip(c.faces, c.frames, head).logits);
    CHECK((w.prediction.label == "x" || w.prediction.label == "y"));
  }
  // Mixed: the window in seconds, the stride in frames.
  TimelineOptions mixed;
  mixed.window_seconds = 1.0;
  mixed.stride_frames = 30;
  const Timeline t2 = classify_video_timeline(m, video, {}, mixed);
  CHECK(spans({{t2.windows[0].first_frame, t2.windows[0].end_frame}, {t2.windows[1].first_frame, t2.windows[1].end_frame}}) ==
        Spans{{0, 10}, {30, 40}});
}

TEST_CASE("timeline: a folder of frames is a video too, boxes keyed by file name") {
  const Fixture fx = caer_fixtures().front();
  const Model m(fx.weights);
  TempDir dir("clipcaer_timeline_folder");
  for (std::size_t i = 0; i < 40; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "%05zu.png", i + 1);
    write_bytes(dir.file(name), encode_png_rgb(index_frame(i)));
  }
  ClipBoxes by_index, by_name;
  by_index.faces["12"] = by_name.faces["00013.png"] = make_box(10, 8, 40, 30, "face");
  TimelineOptions opt;
  opt.window_seconds = 2.0;
  opt.stride_seconds = 1.0;
  CHECK(contains(message_of([&] { classify_video_timeline(m, dir.path, by_name, opt); }),
                 "window is in seconds but the frame rate is unknown"));
  opt.frame_rate = 10;
  const Timeline folder = classify_video_timeline(m, dir.path, by_name, opt);
  const Timeline video = classify_video_timeline(m, video_fixture("index_ffv1.mkv"), by_index, opt);
  CHECK(folder.frame_rate == 10);
  CHECK(folder.num_frames == 40);
  REQUIRE(folder.windows.size() == video.windows.size());
  for (std::size_t k = 0; k < folder.windows.size(); ++k) {
    CHECK(folder.windows[k].frames == video.windows[k].frames);
    CHECK(folder.windows[k].face_boxes_used == video.windows[k].face_boxes_used);
    CHECK(folder.windows[k].prediction.logits == video.windows[k].prediction.logits);  // lossless: the same pixels
    CHECK(folder.windows[k].end_seconds == doctest::Approx(video.windows[k].end_seconds));
  }
  CHECK(folder.windows[1].face_boxes_used == 1);
  // The frame rate given overrides the file's.
  opt.frame_rate = 20;
  const Timeline fast = classify_video_timeline(m, video_fixture("index_ffv1.mkv"), {}, opt);
  CHECK(fast.window_frames == 40);
  CHECK(fast.frame_rate == 20);
  // A damaged frame file is named.
  write_bytes(dir.file("00016.png"), "not a png");  // frame 15: chosen (T = 4 of 40: 5, 15, 25, 35)
  opt.window_frames = 40;
  CHECK(contains(message_of([&] { classify_video_timeline(m, dir.path, {}, opt); }, ErrorCode::format), "00016.png"));
}

TEST_CASE("timeline: damaged videos give an error or a whole timeline, never a crash") {
  const Fixture fx = caer_fixtures().front();
  const Model m(fx.weights);
  const std::string good = read_bytes(video_fixture("index_ffv1.mkv"));
  TempDir dir("clipcaer_timeline_damaged");
  std::mt19937 rng(11);
  TimelineOptions opt;
  opt.window_frames = 10;
  opt.stride_frames = 5;
  int errors = 0, done = 0;
  for (int trial = 0; trial < 40; ++trial) {
    std::string bytes = good;
    if (trial < 10) {
      bytes.resize(bytes.size() * static_cast<std::size_t>(trial + 2) / 12);  // truncated
    } else {
      for (int k = 0; k < 1 + trial % 6; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    const std::string path = dir.file("v" + std::to_string(trial) + ".mkv");
    write_bytes(path, bytes);
    try {
      const Timeline t = classify_video_timeline(m, path, {}, opt);
      REQUIRE(!t.windows.empty());
      CHECK(t.windows.back().end_frame == t.num_frames);  // every decoded frame covered
      for (const auto& w : t.windows) CHECK(w.prediction.probs.size() == m.num_classes());
      ++done;
    } catch (const Error& e) {
      CHECK((e.code() == ErrorCode::format || e.code() == ErrorCode::unsupported));
      CHECK(contains(e.what(), path));
      ++errors;
    }
  }
  MESSAGE(done << " damaged videos gave a timeline, " << errors << " an error");
  CHECK(done > 0);
  CHECK(errors > 0);
}

TEST_CASE("timeline: errors name the problem") {
  const Fixture fx = caer_fixtures().front();
  const Model m(fx.weights);
  const std::string video = video_fixture("index_ffv1.mkv");
  TimelineOptions bad;
  bad.window_seconds = 0;
  CHECK(contains(message_of([&] { classify_video_timeline(m, video, {}, bad); }), "window must be a positive"));
  bad = {};
  bad.stride_seconds = std::numeric_limits<double>::infinity();
  CHECK(contains(message_of([&] { classify_video_timeline(m, video, {}, bad); }), "stride must be a positive"));
  CHECK(contains(message_of([&] { classify_video_timeline(m, video + ".none"); }, ErrorCode::file_not_found),
                 "does not exist"));
  TempDir dir("clipcaer_timeline");
  CHECK(contains(message_of([&] { classify_video_timeline(m, dir.path); }), "has no JPEG, PNG or BMP files"));
  bad = {};
  bad.frame_rate = -1;
  CHECK(contains(message_of([&] { classify_video_timeline(m, video, {}, bad); }), "frame_rate must be a positive"));
  // A face box outside its frame is named with the frame and the video.
  ClipBoxes boxes;
  boxes.body = make_box(500, 500, 600, 600, "body");
  const std::string msg = message_of([&] { classify_video_timeline(m, video, boxes); });
  CHECK(contains(msg, "frame 5 of '" + video + "'"));  // 4 s = the whole video; T = 4 of 40: 5, 15, ...
  CHECK(contains(msg, "lies wholly outside"));
  // A plain CLIP model has no temporal part.
  const Model clip(std::string(CLIPCAER_FIXTURES_DIR) + "/clip_a.safetensors");
  CHECK(contains(message_of([&] { classify_video_timeline(clip, video); }, ErrorCode::unsupported),
                 "plain CLIP model"));
}

TEST_CASE("classify_encoded: classify_clip after the image tower, and its errors") {
  const Fixture fx = caer_fixtures().front();
  const Model m(fx.weights);
  const std::size_t T = m.num_frames(), S = m.image_size(), E = m.embed_dim();
  const Clip c = load_clip(video_fixture("index_ffv1.mkv"), {}, T, S);
  Tensor images({2 * T, 3, S, S});
  std::copy(c.faces.begin(), c.faces.end(), images.begin());
  std::copy(c.frames.begin(), c.frames.end(), images.begin() + c.faces.size());
  const Tensor enc = m.encode_images(images);
  Tensor faces({T, E}), contexts({T, E});
  std::copy(enc.begin(), enc.begin() + T * E, faces.begin());
  std::copy(enc.begin() + T * E, enc.end(), contexts.begin());
  CHECK(m.classify_encoded(faces, contexts).logits == m.classify_clip(c.faces, c.frames).logits);
  auto text = std::make_shared<Tensor>(Shape{2, E});
  const std::vector<float> r = random_floats(2 * E, 5);
  std::copy(r.begin(), r.end(), text->begin());
  const TextHead head({"a", "b"}, text, m.id());
  CHECK(m.classify_encoded(faces, contexts, head).logits == m.classify_clip(c.faces, c.frames, head).logits);

  CHECK(contains(message_of([&] { m.classify_encoded(Tensor({T, E + 1}), Tensor({T, E + 1})); }),
                 "face features must have shape (T, " + std::to_string(E) + ")"));
  CHECK(contains(message_of([&] { m.classify_encoded(faces, Tensor({T - 1, E})); }), "differ in shape"));
  CHECK(contains(message_of([&] { m.classify_encoded(Tensor({T + 1, E}), Tensor({T + 1, E})); }),
                 "this model takes 1 to " + std::to_string(T)));
  CHECK(contains(message_of([&] { m.classify_encoded(Tensor({0, E}), Tensor({0, E})); }), "a clip has 0 frames"));
  Tensor nan({T, E});
  std::copy(faces.begin(), faces.end(), nan.begin());
  nan[3] = std::nanf("");
  CHECK(contains(message_of([&] { m.classify_encoded(nan, contexts); }), "face features contain NaN"));
  CHECK(contains(message_of([&] { m.classify_encoded(faces, nan); }), "context features contain NaN"));
  const Model other(fx.weights);
  CHECK(contains(message_of([&] { m.classify_encoded(faces, contexts, other.learned_head()); }), "another Model"));
}

TEST_CASE("timeline picture: a line per class, a band cell per window, the legend's shares") {
  Timeline t;
  t.num_frames = 90;
  t.frame_rate = 30;
  t.window_frames = 60;
  t.stride_frames = 30;
  for (std::size_t k = 0; k < 2; ++k) {
    TimelineWindow w;
    w.first_frame = 30 * k;
    w.end_frame = w.first_frame + 60;
    w.start_seconds = static_cast<double>(w.first_frame) / 30;
    w.end_seconds = static_cast<double>(w.end_frame) / 30;
    w.prediction.probs = k == 0 ? std::vector<float>{0.7f, 0.2f, 0.1f} : std::vector<float>{0.1f, 0.3f, 0.6f};
    w.prediction.index = k == 0 ? 0 : 2;
    t.windows.push_back(w);
  }
  CHECK(timeline_class_shares(t, 3) == std::vector<double>{0.5, 0.0, 0.5});
  const std::string svg = eval::timeline_svg(t, {"Calm & <ok>", "Tired", "Away"}, "lesson \"7\"");
  auto count = [&](const std::string& part) {
    std::size_t n = 0;
    for (std::size_t at = svg.find(part); at != std::string::npos; at = svg.find(part, at + 1)) ++n;
    return n;
  };
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(count("<polyline") == 3);
  CHECK(svg.find("points=\"304.0,142.0 544.0,286.0\"") != std::string::npos);  // class 0: 0.7 at 1 s, 0.1 at 2 s
  CHECK(svg.find("Calm &amp; &lt;ok&gt; 50 %") != std::string::npos);
  CHECK(svg.find("Tired 0 %") != std::string::npos);
  CHECK(svg.find("lesson &quot;7&quot;") != std::string::npos);
  CHECK(svg.find("<title>Away 60 %</title></rect>") != std::string::npos);
  CHECK(svg.find(">0:03<") != std::string::npos);  // the axis reaches the last window's end
  CHECK(contains(message_of([&] { eval::timeline_svg(t, {"a", "b"}, ""); }), "2 class names but windows with 3"));
  CHECK(contains(message_of([&] { eval::timeline_svg(Timeline{}, {"a"}, ""); }), "has no windows"));
  CHECK(contains(message_of([&] { timeline_class_shares(t, 2); }), "predicts class 2 of 2"));
  t.frame_rate = 0;  // no rate: the axis in frames
  CHECK(eval::timeline_svg(t, {"a", "b", "c"}, "").find(">frame<") != std::string::npos);
}
