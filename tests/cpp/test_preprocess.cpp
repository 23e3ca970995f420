// The preprocessing steps against golden results of Pillow 9.4 / OpenCV 4.6 /
// the official pipeline (tests/fixtures/make_preprocess_fixtures.py), and
// every error path. The Python tests compare against the live libraries on
// many more sizes.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/preprocess/clip.hpp"
#include "clipcaer/preprocess/crop.hpp"
#include "clipcaer/preprocess/frame_sampling.hpp"
#include "clipcaer/preprocess/letterbox.hpp"
#include "clipcaer/preprocess/resize_cv_linear.hpp"
#include "clipcaer/preprocess/resize_pil_bilinear.hpp"
#include "clipcaer/preprocess/streams.hpp"
#include "clipcaer/preprocess/to_tensor.hpp"
#include "image_test_util.hpp"

using namespace clipcaer;
using namespace clipcaer::preprocess;
using namespace clipcaer::test;

namespace {

// Python: [int(tick / 2.0 + tick * x) for x in range(T)] with tick = N / T,
// every operation rounded to double on its own.
std::vector<std::size_t> official_indices(std::size_t n, std::size_t t) {
  std::vector<std::size_t> out;
  if (n > t) {
    const double tick = static_cast<double>(n) / static_cast<double>(t);
    for (std::size_t i = 0; i < t; ++i) {
      const volatile double half = tick / 2.0, step = tick * static_cast<double>(i);
      out.push_back(static_cast<std::size_t>(half + step));
    }
  } else {
    for (std::size_t i = 0; i < t; ++i) out.push_back(i < n ? i : n - 1);
  }
  return out;
}
}  // namespace

TEST_CASE("sample_frame_indices: official test rule") {
  CHECK(sample_frame_indices(32, 16) == std::vector<std::size_t>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27,
                                                                 29, 31});
  CHECK(sample_frame_indices(20, 16) == std::vector<std::size_t>{0, 1, 3, 4, 5, 6, 8, 9, 10, 11, 13, 14, 15, 16, 18,
                                                                 19});
  CHECK(sample_frame_indices(3, 5) == std::vector<std::size_t>{0, 1, 2, 2, 2});
  CHECK(sample_frame_indices(16, 16) == official_indices(16, 16));
  // Python's double rounding, not exact arithmetic (exact: 12/7 * 3.5 = 6, int(5.999...) = 5); a fused
  // multiply-add would get these wrong.
  CHECK(sample_frame_indices(12, 7) == std::vector<std::size_t>{0, 2, 4, 5, 7, 9, 11});
  CHECK(sample_frame_indices(24, 7) == std::vector<std::size_t>{1, 5, 8, 11, 15, 18, 22});
  CHECK(sample_frame_indices(34, 7) == std::vector<std::size_t>{2, 7, 12, 16, 21, 26, 31});
  CHECK(sample_frame_indices(1, 1) == std::vector<std::size_t>{0});
  for (std::size_t n = 1; n < 200; ++n)
    for (std::size_t t : {1u, 2u, 7u, 16u, 33u}) CHECK(sample_frame_indices(n, t) == official_indices(n, t));
  CHECK(has(error_of([] { sample_frame_indices(0, 16); }), "no frames"));
  CHECK(error_of([] { sample_frame_indices(4, 0); }).code() == ErrorCode::invalid_argument);
}

TEST_CASE("rounding helpers") {
  using preprocess::detail::round_half_even;
  CHECK(round_half_even(2.5) == 2.0);
  CHECK(round_half_even(3.5) == 4.0);
  CHECK(round_half_even(-2.5) == -2.0);
  CHECK(round_half_even(-3.5) == -4.0);
  CHECK(round_half_even(2.4999999) == 2.0);
  CHECK(round_half_even(-0.7) == -1.0);
  CHECK(preprocess::detail::mul_rounded(3.0, 0.5) == 1.5);
}

TEST_CASE("Pillow bilinear resize: golden results") {
  const auto index = fixture_index();
  for (const auto& c : index["pil_resize"]) {
    const Image src = pattern(c["src"][0], c["src"][1]);
    const Image out = resize_bilinear_pil(src.view(), c["dst"][0], c["dst"][1]);
    INFO(c.dump());
    CHECK(same_pixels(out, fixture_bytes(c["file"])));
  }
}

TEST_CASE("Pillow bilinear resize: properties") {
  const Image src = pattern(37, 21, 1);
  CHECK(max_abs_diff(resize_bilinear_pil(src.view(), 37, 21), src) == 0);  // same size: a copy
  // A constant picture stays constant whatever the scale (weights sum to 1).
  Image flat(50, 40);
  for (std::size_t i = 0; i < flat.size_bytes(); ++i) flat.data()[i] = 200;
  for (auto [w, h] : {std::pair<std::size_t, std::size_t>{7, 5}, {224, 224}, {1, 1}, {50, 3}}) {
    const Image o = resize_bilinear_pil(flat.view(), w, h);
    for (std::size_t i = 0; i < o.size_bytes(); ++i) REQUIRE(o.data()[i] == 200);
  }
  // Weights of one axis sum to 2^22 within rounding.
  const auto taps = preprocess::detail::pil_bilinear_taps(1280, 224);
  for (std::size_t i = 0; i < 224; ++i) {
    long long s = 0;
    for (int k = 0; k < taps.count[i]; ++k) s += taps.weights[i * taps.ksize + static_cast<std::size_t>(k)];
    CHECK(std::llabs(s - (1LL << 22)) <= taps.count[i]);
  }
}

#if defined(__SSE2__)
TEST_CASE("Pillow bilinear resize: SSE2 horizontal pass equals the plain one") {
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    const std::size_t in_w = 1 + rng() % 700, out_w = 1 + rng() % 300;
    const Image src = pattern(in_w, 2, static_cast<int>(i));
    const auto taps = preprocess::detail::pil_bilinear_taps(static_cast<int>(in_w), static_cast<int>(out_w));
    const auto packed = preprocess::detail::pil_pack_taps(taps);
    // The last row of the picture: the SIMD loads must not read past its end (ASan checks).
    std::vector<std::uint8_t> a(3 * out_w), b(3 * out_w);
    preprocess::detail::pil_horizontal_row_scalar(src.row(1), a.data(), taps, out_w);
    preprocess::detail::pil_horizontal_row_sse2(src.row(1), in_w, b.data(), taps, packed, out_w);
    INFO(in_w, " -> ", out_w);
    REQUIRE(a == b);
  }
}
#endif

TEST_CASE("Pillow bilinear resize: errors") {
  const Image src = pattern(4, 4);
  CHECK(has(error_of([&] { resize_bilinear_pil(src.view(), 0, 4); }), "target size 0x4 is empty"));
  CHECK(has(error_of([&] { resize_bilinear_pil(ImageView{}, 4, 4); }), "source image is empty"));
  Image dst(2, 2);
  MutableImageView bad = dst.mutable_view();
  bad.stride = 3;
  CHECK(has(error_of([&] { resize_bilinear_pil(src.view(), bad); }), "stride"));
  CHECK(has(error_of([&] { resize_bilinear_pil(src.view(), std::size_t{1} << 21, 2); }), "exceeds"));
}

TEST_CASE("OpenCV linear resize: golden results") {
  const auto index = fixture_index();
  for (const auto& c : index["cv_resize"]) {
    const Image src = pattern(c["src"][0], c["src"][1]);
    const Image out = resize_linear_cv(src.view(), c["dst"][0], c["dst"][1]);
    INFO(c.dump());
    CHECK(same_pixels(out, fixture_bytes(c["file"])));
  }
}

TEST_CASE("OpenCV linear resize: properties") {
  const Image src = pattern(20, 12, 4);
  CHECK(max_abs_diff(resize_linear_cv(src.view(), 20, 12), src) == 0);
  // Exactly half: the rounded 2x2 mean (OpenCV switches to INTER_AREA).
  const Image half = resize_linear_cv(src.view(), 10, 6);
  for (std::size_t y = 0; y < 6; ++y)
    for (std::size_t x = 0; x < 10; ++x)
      for (std::size_t c = 0; c < 3; ++c) {
        const int s = src.row(2 * y)[6 * x + c] + src.row(2 * y)[6 * x + 3 + c] + src.row(2 * y + 1)[6 * x + c] +
                      src.row(2 * y + 1)[6 * x + 3 + c];
        REQUIRE(half.row(y)[3 * x + c] == (s + 2) >> 2);
      }
  // Integer upscale by 2: pixel centres land on quarter positions.
  Image two(2, 1);
  two.row(0)[0] = 0;
  two.row(0)[3] = 200;
  const Image up = resize_linear_cv(two.view(), 4, 1);
  CHECK(up.row(0)[0] == 0);
  CHECK(up.row(0)[3] == 50);
  CHECK(up.row(0)[6] == 150);
  CHECK(up.row(0)[9] == 200);
}

TEST_CASE("OpenCV linear resize: SIMD passes equal the plain formulas") {
  std::mt19937 rng(11);
  for (int i = 0; i < 300; ++i) {
    const int in_w = 1 + static_cast<int>(rng() % 700), out_w = 1 + static_cast<int>(rng() % 300);
    const Image src = pattern(static_cast<std::size_t>(in_w), 2, i);
    const auto taps = preprocess::detail::cv_linear_taps(in_w, out_w, true);
    std::vector<std::int32_t> a(3 * static_cast<std::size_t>(out_w) + 4), b(a.size());
    preprocess::detail::cv_horizontal_tail(src.row(1), a.data(), taps, 0, static_cast<std::size_t>(out_w), in_w);
#if defined(__SSE2__)
    const auto packed = preprocess::detail::cv_pack_taps(taps, in_w);
    preprocess::detail::cv_horizontal_row_sse2(src.row(1), b.data(), taps, packed, static_cast<std::size_t>(out_w), in_w);
#else
    b = a;
#endif
    INFO(in_w, " -> ", out_w);
    REQUIRE(std::equal(a.begin(), a.end() - 4, b.begin()));
  }
  for (int i = 0; i < 200; ++i) {
    const std::size_t n = 1 + rng() % 100;
    std::vector<std::int32_t> s0(n), s1(n);
    for (std::size_t x = 0; x < n; ++x) {
      s0[x] = static_cast<std::int32_t>(rng() % (255 * 2049 + 1));
      s1[x] = static_cast<std::int32_t>(rng() % (255 * 2049 + 1));
    }
    // OpenCV's two rounded weights sum to 2047, 2048 or 2049.
    const auto b0 = static_cast<std::int16_t>(rng() % 2049);
    const auto b1 = static_cast<std::int16_t>(std::max(0, 2047 + static_cast<int>(rng() % 3) - b0));
    std::vector<std::uint8_t> out(n);
    preprocess::detail::cv_vertical_row(s0.data(), s1.data(), b0, b1, out.data(), n);
    for (std::size_t x = 0; x < n; ++x) {
      const int v = (((b0 * (s0[x] >> 4)) >> 16) + ((b1 * (s1[x] >> 4)) >> 16) + 2) >> 2;
      REQUIRE(int{out[x]} == std::min(255, std::max(0, v)));
    }
  }
}

TEST_CASE("OpenCV linear resize: errors") {
  const Image src = pattern(4, 4);
  CHECK(has(error_of([&] { resize_linear_cv(src.view(), 4, 0); }), "target size 4x0 is empty"));
  CHECK(has(error_of([&] { resize_linear_cv(ImageView{}, 4, 4); }), "source image is empty"));
}

TEST_CASE("letterbox: golden results and geometry") {
  const auto index = fixture_index();
  for (const auto& c : index["letterbox"]) {
    const Image src = pattern(c["src"][0], c["src"][1]);
    const Image out = letterbox_cv(src.view(), c["size"]);
    INFO(c.dump());
    CHECK(same_pixels(out, fixture_bytes(c["file"])));
  }
  // int(w * r) one short: 49 * (32 / 49) = 31.999...
  const auto g = letterbox_geometry(49, 20, 32);
  CHECK(g.width == 31);
  CHECK(g.height == 13);
  CHECK(g.left == 0);
  CHECK(g.top == 9);
  const auto sq = letterbox_geometry(1280, 720, 224);
  CHECK(sq.width == 224);
  CHECK(sq.height == 125);  // 720 * (224 / 1280) = 125.99999999999999 in double, as in Python
  CHECK(sq.top == 49);
}

TEST_CASE("letterbox: errors") {
  CHECK(has(error_of([] { letterbox_geometry(0, 10, 224); }), "is empty"));
  CHECK(has(error_of([] { letterbox_geometry(10, 10, 0); }), "target size 0"));
  CHECK(has(error_of([] { letterbox_geometry(1000, 2, 224); }), "too elongated"));
  const Image src = pattern(10, 10);
  Image rect(4, 3);
  CHECK(has(error_of([&] { letterbox_cv(src.view(), rect.mutable_view()); }), "not square"));
  CHECK(has(error_of([&] { letterbox_cv(src.view(), 0); }), "out of range"));
}

TEST_CASE("face crop rectangle") {
  // truncation toward zero, margin, clamping
  auto r = face_crop_rect({10.9, 30.2, 50.7, 60.99}, 100, 80);
  CHECK(r.left == 0);
  CHECK(r.upper == 10);
  CHECK(r.right == 70);
  CHECK(r.lower == 80);
  r = face_crop_rect({-0.9, -0.9, 5, 5}, 100, 80);  // int(-0.9) == 0
  CHECK(r.left == 0);
  CHECK(r.right == 25);
  r = face_crop_rect({30, 30, 40, 40}, 100, 80, 0);
  CHECK(r.width() == 10);
  const Error e = error_of([] { face_crop_rect({120, 10, 130, 20}, 100, 80); });
  CHECK(e.code() == ErrorCode::invalid_argument);
  CHECK(has(e, "lies outside the 100x80 frame"));
  CHECK(has(error_of([] { face_crop_rect({10, -50, 20, -21}, 100, 80); }), "lies outside"));
  CHECK(has(error_of([] { face_crop_rect({10, 10, 20, 20}, 100, 80, -1); }), "negative"));
}

TEST_CASE("body crop: Pillow rounding and black outside") {
  auto r = body_crop_rect({2.5, 3.5, 6.5, 7.49});
  CHECK(r.left == 2);
  CHECK(r.upper == 4);
  CHECK(r.right == 6);
  CHECK(r.lower == 7);
  CHECK(has(error_of([] { body_crop_rect({10.6, 0, 10.9, 5}); }), "rounds to an empty crop"));
  const Image src = pattern(6, 5);
  const Image c = crop_padded(src.view(), {-2, 3, 3, 7});
  REQUIRE(c.width() == 5);
  REQUIRE(c.height() == 4);
  for (std::size_t y = 0; y < 4; ++y)
    for (std::size_t x = 0; x < 5; ++x)
      for (std::size_t ch = 0; ch < 3; ++ch) {
        const bool inside = x >= 2 && y + 3 < 5;
        const int want = inside ? src.row(y + 3)[3 * (x - 2) + ch] : 0;
        REQUIRE(int{c.row(y)[3 * x + ch]} == want);
      }
  CHECK(crop_padded(src.view(), {10, 10, 12, 12}).row(1)[5] == 0);  // wholly outside: all black
  CHECK(has(error_of([&] { crop_padded(src.view(), {1, 1, 1, 3}); }), "is empty"));
  CHECK(has(error_of([&] { crop_view(src.view(), {-1, 0, 3, 3}); }), "not a non-empty part"));
  CHECK(rect_overlaps({-5, -5, 1, 1}, 6, 5));
  CHECK_FALSE(rect_overlaps({6, 0, 9, 5}, 6, 5));
}

TEST_CASE("streams: errors") {
  const Image src = pattern(30, 20);
  const Box outside{100, 100, 120, 120};
  CHECK(has(error_of([&] { face_stream_image(src.view(), &outside, 24); }), "lies outside"));
  CHECK(has(error_of([&] { context_stream_image(src.view(), &outside, 24); }), "lies wholly outside"));
  CHECK(has(error_of([&] { face_stream_image(ImageView{}, nullptr, 24); }), "empty frame"));
  CHECK(has(error_of([&] { context_stream_image(ImageView{}, nullptr, 24); }), "empty frame"));
  CHECK(has(error_of([&] { face_stream_image(src.view(), nullptr, 0); }), "size 0"));
  CHECK(has(error_of([&] { context_stream_image(src.view(), nullptr, 0); }), "size 0"));
}

TEST_CASE("to_chw_float: value / 255 as float32 division, planar") {
  Image im(16, 16);
  for (std::size_t i = 0; i < im.size_bytes(); ++i) im.data()[i] = static_cast<std::uint8_t>(i % 256);
  std::vector<float> out(3 * 256);
  to_chw_float(im.view(), out.data());
  for (std::size_t p = 0; p < 256; ++p)
    for (std::size_t c = 0; c < 3; ++c) {
      const volatile float v = static_cast<float>(im.data()[3 * p + c]);
      REQUIRE(out[c * 256 + p] == v / 255.0f);
    }
  CHECK(out[0] == 0.0f);
  CHECK(has(error_of([&] { to_chw_float(ImageView{}, out.data()); }), "empty image"));
  CHECK(has(error_of([&] { to_chw_float(im.view(), nullptr); }), "null output"));
}

TEST_CASE("load_clip: golden clip of the official pipeline") {
  const auto c = fixture_index()["clip"];
  ClipBoxes boxes;
  for (auto it = c["faces_boxes"].begin(); it != c["faces_boxes"].end(); ++it)
    boxes.faces[it.key()] = make_box(it.value()[0], it.value()[1], it.value()[2], it.value()[3], "box");
  boxes.body = make_box(c["body_box"][0], c["body_box"][1], c["body_box"][2], c["body_box"][3], "body");
  const std::size_t t = c["num_segments"], s = c["size"];
  ThreadPool pool(2);
  for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
    const Clip clip = load_clip(fixtures_dir() + "/" + c["dir"].get<std::string>(), boxes, t, s, p);
    CHECK(clip.faces.shape() == Shape{t, 3, s, s});
    CHECK(clip.frames.shape() == Shape{t, 3, s, s});
    CHECK(clip.indices == std::vector<std::size_t>{0, 2, 3, 5});
    CHECK(clip.files == std::vector<std::string>{"f0.bmp", "f2.bmp", "f3.bmp", "f5.bmp"});
    CHECK(clip.face_boxes_used == 2);
    CHECK(clip.body_box_used);
    const auto faces = fixture_bytes(c["faces"]), frames = fixture_bytes(c["frames"]);
    // fixtures are (T, S, S, 3) uint8; ours (T, 3, S, S) float
    std::size_t bad = 0;
    for (std::size_t i = 0; i < t; ++i)
      for (std::size_t y = 0; y < s; ++y)
        for (std::size_t x = 0; x < s; ++x)
          for (std::size_t ch = 0; ch < 3; ++ch) {
            const std::size_t src = ((i * s + y) * s + x) * 3 + ch, dst = ((i * 3 + ch) * s + y) * s + x;
            bad += clip.faces[dst] != static_cast<float>(faces[src]) / 255.0f;
            bad += clip.frames[dst] != static_cast<float>(frames[src]) / 255.0f;
          }
    CHECK(bad == 0);
  }
}

TEST_CASE("load_clip: in-memory frames equal the folder, repeats are copies") {
  TempDir dir("clip_mem");
  std::vector<Image> frames;
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) {
    frames.push_back(pattern(41, 29, i));
    names.push_back("f" + std::to_string(i) + ".bmp");
    write_bytes(dir.file(names.back()), encode_bmp(frames.back()));
  }
  ClipBoxes boxes;
  boxes.faces["f1.bmp"] = {5, 5, 20, 25};
  boxes.body = Box{-3, 2, 38, 31};
  const Clip a = load_clip(dir.path, boxes, 5, 16);
  const Clip b = load_clip(frames, names, boxes, 5, 16);
  CHECK(a.indices == std::vector<std::size_t>{0, 1, 2, 2, 2});
  CHECK(std::equal(a.faces.begin(), a.faces.end(), b.faces.begin()));
  CHECK(std::equal(a.frames.begin(), a.frames.end(), b.frames.begin()));
  const std::size_t per = 3 * 16 * 16;
  CHECK(std::equal(a.faces.data() + 2 * per, a.faces.data() + 3 * per, a.faces.data() + 4 * per));
  CHECK(a.face_boxes_used == 1);
  // each stream equals its single-frame function
  const Image face1 = face_stream_image(frames[1].view(), &boxes.faces["f1.bmp"], 16);
  std::vector<float> chw(per);
  to_chw_float(face1.view(), chw.data());
  CHECK(std::equal(chw.begin(), chw.end(), a.faces.data() + per));
  const Clip unnamed = load_clip(frames, {}, {}, 2, 8);
  CHECK(unnamed.files == std::vector<std::string>{"", ""});
}

TEST_CASE("load_clip: errors name the clip and frame") {
  TempDir dir("clip_err");
  CHECK(error_of([&] { load_clip(dir.file("missing")); }).code() == ErrorCode::file_not_found);
  CHECK(has(error_of([&] { load_clip(dir.path); }), "has no JPEG, PNG or BMP files"));
  write_bytes(dir.file("a.bmp"), encode_bmp(pattern(20, 10)));
  write_bytes(dir.file("b.bmp"), "BM broken");
  const Error corrupt = error_of([&] { load_clip(dir.path, {}, 2, 8); });
  CHECK(corrupt.code() == ErrorCode::format);
  CHECK(has(corrupt, "b.bmp"));
  std::filesystem::remove(dir.file("b.bmp"));
  ClipBoxes off;
  off.faces["a.bmp"] = {50, 50, 60, 60};
  const Error face = error_of([&] { load_clip(dir.path, off, 2, 8); });
  CHECK(face.code() == ErrorCode::invalid_argument);
  CHECK(has(face, "frame 'a.bmp' of '"));
  CHECK(has(face, "lies outside"));
  ThreadPool pool(2);
  CHECK(has(error_of([&] { load_clip(dir.path, off, 4, 8, &pool); }), "lies outside"));
  CHECK(has(error_of([&] { load_clip(dir.path, {}, 0, 8); }), "num_segments 0"));
  CHECK(has(error_of([&] { load_clip(dir.path, {}, 4, 0); }), "image size 0"));
  CHECK(has(error_of([&] { load_clip(dir.path, {}, 4096, 4096); }), "too large"));
  std::vector<Image> frames;
  CHECK(has(error_of([&] { load_clip(frames, {}); }), "no frames given"));
  frames.push_back(pattern(4, 4));
  frames.emplace_back();
  CHECK(has(error_of([&] { load_clip(frames, {}); }), "frame 1 is empty"));
  CHECK(has(error_of([&] { load_clip(frames, {"x"}); }), "2 frames but 1 frame names"));
  frames.pop_back();
  ClipBoxes named;
  named.faces["x"] = {0, 0, 1, 1};
  CHECK(has(error_of([&] { load_clip(frames, {}, named); }), "no frame names were given"));
}
