// Video files as clips (io/video.hpp, load_clip on a file): which frames come
// out, their exact pixels (lossless fixtures, tests/fixtures/
// make_video_fixtures.py), display rotation, face boxes by frame index, and
// every error path. The Python suite checks lossy codecs against the ffmpeg
// command's own frame extraction.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/io/video.hpp"
#include "clipcaer/preprocess/clip.hpp"
#include "error_test_util.hpp"
#include "image_test_util.hpp"
#include "test_util.hpp"

using namespace clipcaer;
using namespace clipcaer::test;

namespace {

std::string video_fixture(const std::string& name) { return std::string(CLIPCAER_FIXTURES_DIR) + "/video/" + name; }

// Frame i of the fixtures: filled with (6 i, 255 - 6 i, 7 + i).
Image index_frame(std::size_t i, std::size_t w = 64, std::size_t h = 48) {
  Image im(w, h);
  for (std::size_t p = 0; p < w * h; ++p) {
    im.mutable_view().data[3 * p + 0] = static_cast<std::uint8_t>(6 * i);
    im.mutable_view().data[3 * p + 1] = static_cast<std::uint8_t>(255 - 6 * i);
    im.mutable_view().data[3 * p + 2] = static_cast<std::uint8_t>(7 + i);
  }
  return im;
}

std::vector<std::size_t> all_of(std::size_t n) {
  std::vector<std::size_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

bool same_image(const Image& a, const Image& b) {
  return a.width() == b.width() && a.height() == b.height() && max_abs_diff(a, b) == 0;
}

}  // namespace

TEST_CASE("video: the decoder is named") {
  CHECK(io::video_supported());
  CHECK(contains(io::video_decoder(), "FFmpeg (libavformat "));
  CHECK(io::video_frame_name(17) == "17");
}

TEST_CASE("video: every frame of a lossless video, exactly, in order") {
  const io::VideoFrames v = io::read_video_frames(video_fixture("index_ffv1.mkv"), all_of);
  REQUIRE(v.num_frames == 40);
  REQUIRE(v.frames.size() == 40);
  for (const auto& [i, im] : v.frames) {
    INFO("frame " << i);
    CHECK(same_image(im, index_frame(i)));
  }
}

TEST_CASE("video: only the chosen frames are kept") {
  std::size_t seen_count = 0;
  const io::VideoFrames v = io::read_video_frames(video_fixture("index_ffv1.mkv"), [&](std::size_t n) {
    seen_count = n;
    return std::vector<std::size_t>{3, 3, 39, 0};
  });
  CHECK(seen_count == 40);
  REQUIRE(v.frames.size() == 3);
  CHECK(same_image(v.frames.at(0), index_frame(0)));
  CHECK(same_image(v.frames.at(3), index_frame(3)));
  CHECK(same_image(v.frames.at(39), index_frame(39)));
}

TEST_CASE("video: load_clip on a video file equals load_clip on the same frames in memory") {
  const std::string path = video_fixture("index_ffv1.mkv");
  std::vector<Image> frames;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < 40; ++i) {
    frames.push_back(index_frame(i));
    names.push_back(std::to_string(i));
  }
  ClipBoxes boxes;
  boxes.faces["5"] = make_box(10, 8, 40, 30, "face");  // frame 5 is not chosen (T = 16 of 40: 1, 3, 6, ...)
  boxes.faces["6"] = make_box(10, 8, 40, 30, "face");
  boxes.faces["33"] = make_box(0.5, 1.5, 20.9, 47, "face");
  boxes.body = make_box(4, 2, 60, 44, "body");
  ThreadPool pool(2);
  for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
    const Clip want = load_clip(frames, names, boxes, 16, 32, p);
    const Clip got = load_clip(path, boxes, 16, 32, p);
    CHECK(got.indices == preprocess::sample_frame_indices(40, 16));
    CHECK(got.indices == want.indices);
    CHECK(got.files == want.files);
    CHECK(got.files[2] == "6");
    CHECK(got.face_boxes_used == 2);
    CHECK(got.body_box_used);
    CHECK(same_tensor(got.faces, want.faces));
    CHECK(same_tensor(got.frames, want.frames));
    const Clip direct = load_video_clip(path, boxes, 16, 32, p);
    CHECK(same_tensor(direct.faces, got.faces));
  }
  // Fewer frames than segments: every frame, then the last one repeated.
  const Clip many = load_clip(path, {}, 50, 8);
  CHECK(many.indices == preprocess::sample_frame_indices(40, 50));
  CHECK(many.indices.back() == 39);
}

TEST_CASE("video: a display rotation is applied as the ffmpeg command applies it") {
  // Stored 64x48 with rotation metadata 90 (counter-clockwise): shown as 48x64,
  // the stored top-left pixel at the bottom-left.
  const io::VideoFrames v = io::read_video_frames(video_fixture("turned_png.mov"), all_of);
  REQUIRE(v.num_frames == 5);
  for (const auto& [i, im] : v.frames) {
    INFO("frame " << i);
    REQUIRE(im.width() == 48);
    REQUIRE(im.height() == 64);
    Image want = index_frame(i, 48, 64);
    std::uint8_t* corner = want.mutable_view().row(63);
    corner[0] = corner[1] = corner[2] = 255;
    CHECK(same_image(im, want));
  }
}

TEST_CASE("video: errors name the file and the problem") {
  TempDir dir("clipcaer_video");
  CHECK(contains(message_of([&] { io::read_video_frames(dir.file("none.mp4"), all_of); }, ErrorCode::file_not_found),
                 "video '" + dir.file("none.mp4") + "' does not exist"));
  // Not a video: refused by content (FFmpeg would read a .txt file as ANSI art).
  write_bytes(dir.file("notes.txt"), "hello, this is not a video\n");
  const std::string text = message_of([&] { load_clip(dir.file("notes.txt")); }, ErrorCode::format);
  CHECK(contains(text, "cannot open video '" + dir.file("notes.txt") + "'"));
  CHECK(contains(text, "clipcaer reads MP4/MOV"));
  // Single pictures are not videos (FFmpeg would open one as a one-frame video).
  const std::string png = encode_png_rgb(pattern(8, 8));
  write_bytes(dir.file("still.png"), png);
  CHECK(contains(message_of([&] { load_clip(dir.file("still.png")); }),
                 "is an image, not a folder of frames or a video"));
  write_bytes(dir.file("still.bin"), png);
  CHECK(contains(message_of([&] { io::read_video_frames(dir.file("still.bin"), all_of); }, ErrorCode::format),
                 "cannot open video"));
  // Playlists could fetch URLs or other files: hls is not on the list.
  write_bytes(dir.file("list.m3u8"), "#EXTM3U\n#EXTINF:1,\nhttp://example.com/a.ts\n");
  CHECK(error_of([&] { io::read_video_frames(dir.file("list.m3u8"), all_of); }).code() == ErrorCode::format);
  // The sampling callback's errors and argument checks pass through.
  CHECK(contains(message_of([&] { load_clip(video_fixture("index_ffv1.mkv"), {}, 0); }), "num_segments 0"));
  CHECK(contains(message_of([&] { load_video_clip(video_fixture("index_ffv1.mkv"), {}, 16, 0); }), "image size 0"));
}

TEST_CASE("video: damaged files give an error or the frames that decode, never a crash") {
  const std::string good = read_bytes(video_fixture("index_ffv1.mkv"));
  TempDir dir("clipcaer_video_damaged");
  std::mt19937 rng(7);
  int errors = 0, decoded = 0;
  for (int trial = 0; trial < 60; ++trial) {
    std::string bytes = good;
    if (trial < 20) {
      bytes.resize(bytes.size() * static_cast<std::size_t>(trial + 1) / 21);  // truncated
    } else {
      for (int k = 0; k < 1 + trial % 8; ++k)
        bytes[rng() % bytes.size()] = static_cast<char>(rng());  // flipped bytes
    }
    const std::string path = dir.file("v" + std::to_string(trial) + ".mkv");
    write_bytes(path, bytes);
    try {
      const io::VideoFrames v = io::read_video_frames(path, all_of);
      CHECK(v.num_frames >= 1);
      CHECK(v.frames.size() == v.num_frames);
      for (const auto& [i, im] : v.frames) CHECK(!im.empty());
      ++decoded;
    } catch (const Error& e) {
      CHECK((e.code() == ErrorCode::format || e.code() == ErrorCode::unsupported));
      CHECK(contains(e.what(), path));
      ++errors;
    }
  }
  MESSAGE(decoded << " damaged videos decoded, " << errors << " refused");
  CHECK(errors > 0);
  CHECK(decoded > 0);
  // An MP4 whose index declares a packet FFmpeg cannot allocate: a format
  // error, not std::bad_alloc (found by fuzzing).
  const std::string huge = video_fixture("damaged_huge_packet.mp4");
  CHECK(contains(message_of([&] { load_clip(huge); }, ErrorCode::format), "video '" + huge + "': cannot read"));
}
