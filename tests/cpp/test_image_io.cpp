// Image type, decoding (stb_image; JPEG with libjpeg in test_jpeg_libjpeg.cpp), frame folders and box files.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "clipcaer/io/boxes.hpp"
#include "clipcaer/io/frame_folder.hpp"
#include "clipcaer/io/image.hpp"
#include "clipcaer/io/image_decode.hpp"
#include "image_test_util.hpp"

using namespace clipcaer;
using namespace clipcaer::test;

TEST_CASE("Image: construction, copies, views") {
  Image a(4, 3);
  CHECK(a.width() == 4);
  CHECK(a.height() == 3);
  CHECK(a.size_bytes() == 36);
  for (std::size_t i = 0; i < a.size_bytes(); ++i) CHECK(a.data()[i] == 0);
  a.row(2)[5] = 7;
  Image b = a;
  CHECK(b.row(2)[5] == 7);
  b.row(2)[5] = 9;
  CHECK(a.row(2)[5] == 7);  // deep copy
  Image c = std::move(b);
  CHECK(c.row(2)[5] == 9);
  CHECK(b.empty());
  const std::uint8_t px[] = {1, 2, 3, 4, 5, 6, 99, 7, 8, 9, 10, 11, 12, 99};  // 2x2 with a padded stride of 7
  Image d = Image::copy_of(px, 2, 2, 7);
  CHECK(d.row(1)[0] == 7);
  CHECK(d.row(1)[5] == 12);
  ImageView v = d.view();
  CHECK(v.stride == 6);
  CHECK(Image::copy_of(v).row(0)[2] == 3);
  Image e;
  CHECK(e.empty());
  Image f = e;
  CHECK(f.empty());
}

TEST_CASE("Image: size errors") {
  CHECK(error_of([] { Image(0, 5); }).code() == ErrorCode::invalid_argument);
  CHECK(has(error_of([] { Image(3, 0); }), "is empty"));
  CHECK(has(error_of([] { Image(std::size_t{1} << 21, 1); }), "exceeds the limit"));
  CHECK(has(error_of([] { Image(std::size_t{1} << 15, std::size_t{1} << 15); }), "exceeds the limit"));
  const std::uint8_t px[6] = {};
  CHECK(has(error_of([&] { Image::copy_of(px, 2, 1, 5); }), "stride"));
  CHECK(has(error_of([] { Image::copy_of(nullptr, 2, 1); }), "null pixels"));
}

TEST_CASE("decode: BMP and PNG are lossless, grey and alpha become RGB") {
  const Image im = pattern(13, 7, 2);
  const std::string bmp = encode_bmp(im);
  Image d = io::decode_image(bmp.data(), bmp.size(), "x.bmp");
  REQUIRE(d.width() == 13);
  REQUIRE(d.height() == 7);
  CHECK(max_abs_diff(d, im) == 0);
  const std::string png = encode_png_rgb(im);
  CHECK(max_abs_diff(io::decode_image(png.data(), png.size()), im) == 0);

  std::vector<std::uint8_t> grey(5 * 4), ga(5 * 4 * 2), rgba(5 * 4 * 4);
  for (std::size_t i = 0; i < grey.size(); ++i) {
    grey[i] = static_cast<std::uint8_t>(i * 13);
    ga[2 * i] = grey[i];
    ga[2 * i + 1] = static_cast<std::uint8_t>(255 - i);
    for (std::size_t c = 0; c < 3; ++c) rgba[4 * i + c] = static_cast<std::uint8_t>(i * 7 + c);
    rgba[4 * i + 3] = static_cast<std::uint8_t>(i);  // alpha is dropped, not blended
  }
  for (int type : {0, 4}) {
    const std::string p = encode_png(5, 4, type, type == 0 ? grey : ga);
    Image g = io::decode_image(p.data(), p.size());
    for (std::size_t i = 0; i < grey.size(); ++i)
      for (std::size_t c = 0; c < 3; ++c) CHECK(g.data()[3 * i + c] == grey[i]);
  }
  const std::string p = encode_png(5, 4, 6, rgba);
  Image r = io::decode_image(p.data(), p.size());
  for (std::size_t i = 0; i < grey.size(); ++i)
    for (std::size_t c = 0; c < 3; ++c) CHECK(r.data()[3 * i + c] == rgba[4 * i + c]);
}

// The stb_image JPEG path (the decoder of builds without libjpeg); with
// libjpeg, test_jpeg_libjpeg requires Pillow's pixels exactly.
TEST_CASE("decode: stb_image's JPEG decoding is close to Pillow's libjpeg-turbo decoding") {
  const auto index = fixture_index();
  for (const auto& j : index["jpeg"]) {
    const std::string bytes = read_bytes(fixtures_dir() + "/" + j["file"].get<std::string>());
    const Image ours =
        io::detail::decode_with_stb(bytes.data(), bytes.size(), "stb");
    CHECK(ours.width() == j["size"][0].get<std::size_t>());
    CHECK(ours.height() == j["size"][1].get<std::size_t>());
    const auto pil = fixture_bytes(j["pillow"].get<std::string>());
    REQUIRE(pil.size() == ours.size_bytes());
    double sum = 0;
    int worst = 0;
    for (std::size_t i = 0; i < pil.size(); ++i) {
      const int d = std::abs(int{ours.data()[i]} - int{pil[i]});
      sum += d;
      worst = std::max(worst, d);
    }
    INFO(j["file"].get<std::string>());
    CHECK(sum / static_cast<double>(pil.size()) <= 1.5);
    CHECK(worst <= 12);
  }
}

TEST_CASE("decode: colour JPEGs (decoded via RGBA) equal stb_image's own RGB output") {
  std::vector<std::string> files = {fixtures_dir() + "/rgb_q90.jpg", fixtures_dir() + "/rgb_progressive.jpg",
                                    fixtures_dir() + "/gray.jpg"};
  for (const char* f : {"00001.jpg", "00013.jpg"})
    files.push_back(std::string(CLIPCAER_SOURCE_DIR) + "/examples/data/sample_clip/" + f);
  for (const auto& path : files) {
    const std::string bytes = read_bytes(path);
    int w = 0, h = 0, c = 0;
    stbi_uc* ref = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()),
                                         &w, &h, &c, 3);
    REQUIRE(ref != nullptr);
    const Image ours =
        io::detail::decode_with_stb(bytes.data(), bytes.size(), path);
    INFO(path);
    CHECK(ours.width() == static_cast<std::size_t>(w));
    CHECK(std::memcmp(ours.data(), ref, ours.size_bytes()) == 0);
    stbi_image_free(ref);
  }
  std::vector<std::uint8_t> px(4 * 7);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i);
  io::detail::rgba_to_rgb_in_place(px.data(), 7);  // 4 + 3: both loops
  for (std::size_t i = 0; i < 7; ++i)
    for (std::size_t c = 0; c < 3; ++c) CHECK(px[3 * i + c] == 4 * i + c);
}

TEST_CASE("decode: errors name the image") {
  const Image im = pattern(9, 6);
  const std::string bmp = encode_bmp(im);
  const std::string png = encode_png_rgb(im);
  CHECK(error_of([] { io::decode_image("", 0, "zero.png"); }).code() == ErrorCode::format);
  CHECK(has(error_of([] { io::decode_image("", 0, "zero.png"); }), "'zero.png' is empty"));
  CHECK(has(error_of([] { io::decode_image("GIF89a......", 12, "a.gif"); }), "not a readable JPEG, PNG or BMP"));
  CHECK(has(error_of([&] { io::decode_image(bmp.data(), bmp.size() - 10, "cut.bmp"); }), "'cut.bmp' is truncated"));
  CHECK(has(error_of([&] { io::decode_image(png.data(), png.size() / 2, "cut.png"); }), "corrupt or truncated"));
  std::string flipped = png;
  flipped[flipped.size() - 30] ^= 0x04;  // inside IDAT
  CHECK(has(error_of([&] { io::decode_image(flipped.data(), flipped.size(), "bit.png"); }),
            "checksum mismatch in PNG chunk 'IDAT'"));
  const std::string jpg = read_bytes(fixtures_dir() + "/rgb_q90.jpg");
  const Error cut = error_of([&] { io::decode_image(jpg.data(), jpg.size() - 20, "cut.jpg"); });
  CHECK((has(cut, "'cut.jpg' is truncated") || has(cut, "'cut.jpg' is corrupt")));  // libjpeg's words, stb_image's
  CHECK(has(error_of([&] {
              io::detail::decode_with_stb(jpg.data(), jpg.size() - 20, "cut.jpg");
            }),
            "'cut.jpg' is corrupt"));
  CHECK(error_of([] { io::decode_image(nullptr, 5, "null"); }).code() == ErrorCode::invalid_argument);
  // A Huffman table with more than 256 codes (stb_image 2.27 would write past its arrays).
  std::string dht = jpg;
  const auto at = dht.find("\xff\xc4");
  REQUIRE(at != std::string::npos);
  for (std::size_t i = 0; i < 16; ++i) dht[at + 5 + i] = static_cast<char>(0x40);
  CHECK(has(error_of([&] { io::decode_image(dht.data(), dht.size(), "dht.jpg"); }), "Huffman table declares 1024 codes"));
  // A BMP header claiming a 2^21-pixel-wide picture: refused before decoding.
  std::string huge = bmp;
  huge[18] = 0;
  huge[19] = 0;
  huge[20] = 0x20;
  huge[21] = 0;
  CHECK(error_of([&] { io::decode_image(huge.data(), huge.size(), "huge.bmp"); }).code() == ErrorCode::format);
}

TEST_CASE("read_image: missing, unreadable, corrupt") {
  TempDir dir("read_image");
  const Error missing = error_of([&] { io::read_image(dir.file("nope.jpg")); });
  CHECK(missing.code() == ErrorCode::file_not_found);
  CHECK(has(missing, "nope.jpg"));
  CHECK(error_of([&] { io::read_image(dir.path); }).code() == ErrorCode::io);  // a folder
  write_bytes(dir.file("bad.png"), "\x89PNG\r\n\x1a\n junk");
  const Error bad = error_of([&] { io::read_image(dir.file("bad.png")); });
  CHECK(bad.code() == ErrorCode::format);
  CHECK(has(bad, "bad.png"));
  write_bytes(dir.file("ok.bmp"), encode_bmp(pattern(3, 2)));
  CHECK(max_abs_diff(io::read_image(dir.file("ok.bmp")), pattern(3, 2)) == 0);
}

TEST_CASE("frame folders: official order, non-images skipped") {
  TempDir dir("frames");
  const std::string bmp = encode_bmp(pattern(2, 2));
  for (const char* n : {"b.bmp", "B.bmp", "a10.bmp", "a9.bmp", "z.BMP", "0.jpeg", ".hidden.png", "\xc3\xa9.png"})
    write_bytes(dir.file(n), bmp);
  write_bytes(dir.file("notes.txt"), "x");
  std::filesystem::create_directories(dir.file("sub.jpg"));
  const std::vector<std::string> want = {"0.jpeg", "B.bmp", "a10.bmp", "a9.bmp", "b.bmp", "z.BMP", "\xc3\xa9.png"};
  CHECK(io::list_frame_files(dir.path) == want);
  CHECK(io::is_image_file_name("x.JpG"));
  CHECK_FALSE(io::is_image_file_name("x.gif"));
  CHECK_FALSE(io::is_image_file_name(".png"));
  CHECK_FALSE(io::is_image_file_name("png"));
}

TEST_CASE("frame folders: errors") {
  TempDir dir("frames_err");
  CHECK(error_of([&] { io::list_frame_files(dir.file("missing")); }).code() == ErrorCode::file_not_found);
  write_bytes(dir.file("a.txt"), "x");
  const Error none = error_of([&] { io::list_frame_files(dir.path); });
  CHECK(none.code() == ErrorCode::invalid_argument);
  CHECK(has(none, "has no JPEG, PNG or BMP files"));
  CHECK(has(error_of([&] { io::list_frame_files(dir.file("a.txt")); }), "is not a folder"));
}

TEST_CASE("boxes: make_box validation") {
  const Box b = make_box(1, 2, 3.5, 4, "box");
  CHECK(b.right == 3.5);
  CHECK(has(error_of([] { make_box(3, 2, 3, 4, "face box of frame 'a.jpg'"); }), "face box of frame 'a.jpg'"));
  CHECK(has(error_of([] { make_box(1, 5, 3, 4, "b"); }), "inverted"));
  CHECK(has(error_of([] { make_box(1, 2, std::nan(""), 4, "b"); }), "not finite"));
  CHECK(has(error_of([] { make_box(1, 2, 3, 1e12, "b"); }), "beyond"));
}

TEST_CASE("boxes: official JSON files") {
  TempDir dir("boxes");
  const std::string clip = dir.file("clip");
  std::filesystem::create_directories(clip);
  nlohmann::json faces = {{clip, {{"1.jpg", {1, 2, 30, 40.5}}, {"2.jpg", nullptr}}}};
  nlohmann::json bodies = {{clip, {0.5, 1, 100, 200}}};
  write_bytes(dir.file("faces.json"), faces.dump());
  write_bytes(dir.file("bodies.json"), bodies.dump());
  auto f = io::read_face_boxes(dir.file("faces.json"), clip + "/");  // trailing '/' as in a list file
  REQUIRE(f.size() == 1);
  CHECK(f.at("1.jpg").lower == 40.5);
  auto b = io::read_body_box(dir.file("bodies.json"), clip);
  REQUIRE(b.has_value());
  CHECK(b->left == 0.5);
  CHECK(io::read_face_boxes(dir.file("faces.json"), "elsewhere").empty());
  CHECK_FALSE(io::read_body_box(dir.file("bodies.json"), "elsewhere").has_value());
  const ClipBoxes both = io::read_clip_boxes(clip, dir.file("faces.json"), dir.file("bodies.json"));
  CHECK(both.faces.size() == 1);
  CHECK(both.body.has_value());
  CHECK(io::read_clip_boxes(clip, "", "").faces.empty());
  // by absolute path when the clip is given relative to the working directory
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path);
  CHECK(io::read_face_boxes(dir.file("faces.json"), "clip").size() == 1);
  CHECK(io::read_body_box(dir.file("bodies.json"), "./clip").has_value());
  std::filesystem::current_path(cwd);
}

TEST_CASE("boxes: malformed files") {
  TempDir dir("boxes_bad");
  const std::string path = dir.file("b.json");
  CHECK(error_of([&] { io::read_face_boxes(dir.file("none.json"), "c"); }).code() == ErrorCode::file_not_found);
  CHECK(error_of([&] { io::read_body_box(dir.file("none.json"), "c"); }).code() == ErrorCode::file_not_found);
  struct Case {
    const char* json;
    const char* message;
    bool faces;
  };
  const Case cases[] = {
      {"{\"c\": ", "not valid JSON", true},
      {"[1, 2]", "must hold a JSON object", true},
      {"{\"c\": [1, 2, 3, 4]}", "must be an object", true},
      {"{\"c\": {\"f.jpg\": [1, 2, 3]}}", "frame 'f.jpg' must be a list of 4 numbers", true},
      {"{\"c\": {\"f.jpg\": [1, true, 3, 4]}}", "4 numbers", true},
      {"{\"c\": {\"f.jpg\": \"1 2 3 4\"}}", "4 numbers", true},
      {"{\"c\": {\"f.jpg\": [5, 2, 3, 4]}}", "inverted", true},
      {"{\"c\": [1, 2, 3]}", "4 numbers", false},
      {"{\"c\": [1, 2, 3, 2]}", "inverted", false},
      {"{\"c\": {}}", "4 numbers", false},
      {"{\"c\": [0, 0, 1e300, 4]}", "beyond", false},
  };
  for (const auto& c : cases) {
    write_bytes(path, c.json);
    INFO(c.json);
    const Error e = error_of([&] {
      if (c.faces)
        io::read_face_boxes(path, "c");
      else
        io::read_body_box(path, "c");
    });
    CHECK(e.code() == ErrorCode::format);
    CHECK(has(e, c.message));
    CHECK(has(e, "b.json"));
  }
}

TEST_CASE("decode: damaged files either decode or throw format errors, never crash") {
  std::vector<std::string> files = {read_bytes(fixtures_dir() + "/rgb_q90.jpg"),
                                    read_bytes(fixtures_dir() + "/rgb_progressive.jpg"),
                                    encode_png_rgb(pattern(21, 13, 3)), encode_bmp(pattern(21, 13, 3))};
  std::mt19937 rng(1234);
  int thrown = 0, decoded = 0;
  for (const auto& original : files) {
    for (int i = 0; i < 300; ++i) {
      std::string damaged = original;
      const int kind = i % 3;
      if (kind == 0) {  // flip a few bytes
        for (int k = 0; k < 1 + i % 4; ++k) damaged[rng() % damaged.size()] = static_cast<char>(rng());
      } else if (kind == 1) {  // truncate
        damaged.resize(rng() % damaged.size());
      } else {  // overwrite a run past the headers
        const std::size_t at = 10 + rng() % (damaged.size() - 10);
        for (std::size_t k = at; k < std::min(damaged.size(), at + 16); ++k) damaged[k] = static_cast<char>(rng());
      }
      try {
        const Image im = io::decode_image(damaged.data(), damaged.size(), "damaged");
        CHECK(im.size_bytes() > 0);
        ++decoded;
      } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::format);
        ++thrown;
      }
    }
  }
  CHECK(thrown > 300);
  MESSAGE("damaged images: " << thrown << " refused, " << decoded << " decoded");
}
