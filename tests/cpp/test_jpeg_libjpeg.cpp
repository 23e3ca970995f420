// JPEG through libjpeg-turbo (io/jpeg_decode_libjpeg.hpp): bit-exact with
// Pillow's decoding, Pillow's CMYK conversion, and every refusal. Built when
// CLIPCAER_LIBJPEG=ON; tests/python/test_preprocess.py compares many more
// files with live Pillow.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "clipcaer/io/image_decode.hpp"
#include "image_test_util.hpp"

#ifndef CLIPCAER_HAVE_LIBJPEG
#error "test_jpeg_libjpeg is built only with CLIPCAER_LIBJPEG=ON"
#endif

using namespace clipcaer;
using namespace clipcaer::test;

namespace {

// A JPEG written by libjpeg itself: `components` channels of `pixels`
// (interleaved), in `space` (JCS_CMYK gets an Adobe marker, as Photoshop writes).
std::string encode_jpeg(const std::vector<std::uint8_t>& pixels, int w, int h, int components, J_COLOR_SPACE space,
                        int quality) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = static_cast<JDIMENSION>(w);
  c.image_height = static_cast<JDIMENSION>(h);
  c.input_components = components;
  c.in_color_space = space;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<std::uint8_t*>(pixels.data()) + std::size_t{c.next_scanline} * w * components;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::string s(reinterpret_cast<const char*>(out), size);
  std::free(out);
  return s;
}

// Everything written to stderr while f runs.
template <class F>
std::string stderr_of(F&& f) {
  std::fflush(stderr);
  std::FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  const int saved = dup(2);
  dup2(fileno(tmp), 2);
  try {
    f();
  } catch (...) {
  }
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::string text;
  std::rewind(tmp);
  for (int ch; (ch = std::fgetc(tmp)) != EOF;) text += static_cast<char>(ch);
  std::fclose(tmp);
  return text;
}

}  // namespace

TEST_CASE("libjpeg: the build decodes JPEG with libjpeg-turbo") {
  CHECK(io::jpeg_decoder().rfind("libjpeg-turbo ", 0) == 0);
  CHECK(io::jpeg_decoder() == io::libjpeg_version());
}

TEST_CASE("libjpeg: fixtures decode bit-identical to Pillow's Image.open().convert('RGB')") {
  const auto index = fixture_index();
  REQUIRE(index["jpeg"].size() >= 3);  // baseline colour, progressive, grey
  for (const auto& j : index["jpeg"]) {
    const std::string file = j["file"].get<std::string>();
    INFO(file);
    const Image ours = io::read_image(fixtures_dir() + "/" + file);
    CHECK(ours.width() == j["size"][0].get<std::size_t>());
    CHECK(ours.height() == j["size"][1].get<std::size_t>());
    CHECK(same_pixels(ours, fixture_bytes(j["pillow"].get<std::string>())));
  }
}

TEST_CASE("libjpeg: Pillow's inverted-CMYK to RGB equals its definition for every C, K") {
  // Pillow: unpack "CMYK;I" (255 - v), then cmyk2rgb: nk - round(c * nk / 255), nk = 255 - k.
  std::vector<std::uint8_t> cmyk(4 * 256 * 256), rgb(3 * 256 * 256);
  for (int c = 0; c < 256; ++c)
    for (int k = 0; k < 256; ++k) {
      std::uint8_t* p = &cmyk[4 * (256 * c + k)];
      p[0] = static_cast<std::uint8_t>(c);
      p[1] = static_cast<std::uint8_t>(255 - c);
      p[2] = static_cast<std::uint8_t>(c ^ 0x5a);
      p[3] = static_cast<std::uint8_t>(k);
    }
  io::detail::pillow_inverted_cmyk_to_rgb(cmyk.data(), rgb.data(), 256 * 256);
  int wrong = 0;
  for (std::size_t i = 0; i < 256 * 256; ++i)
    for (int ch = 0; ch < 3; ++ch) {
      const int raw_k = cmyk[4 * i + 3];
      const int nk = 255 - (255 - raw_k);
      const int c = 255 - cmyk[4 * i + ch];
      const long want = nk - std::lround(c * nk / 255.0);
      wrong += rgb[3 * i + ch] != want;
    }
  CHECK(wrong == 0);
}

TEST_CASE("libjpeg: CMYK and grey JPEGs become RGB as in Pillow") {
  const int w = 24, h = 16;
  std::vector<std::uint8_t> cmyk(4 * w * h), grey(w * h);
  for (int i = 0; i < w * h; ++i) {
    const std::uint8_t q[4] = {40, 200, 120, 90};  // flat colour: survives JPEG at quality 100 within a level or two
    for (int c = 0; c < 4; ++c) cmyk[4 * i + c] = q[c];
    grey[i] = static_cast<std::uint8_t>(i * 7);
  }
  const std::string file = encode_jpeg(cmyk, w, h, 4, JCS_CMYK, 100);
  const Image im = io::decode_image(file.data(), file.size(), "cmyk.jpg");
  REQUIRE(im.width() == static_cast<std::size_t>(w));
  std::uint8_t want[3];
  io::detail::pillow_inverted_cmyk_to_rgb(cmyk.data(), want, 1);
  int worst = 0;
  for (std::size_t i = 0; i < im.size_bytes(); ++i) worst = std::max(worst, std::abs(im.data()[i] - want[i % 3]));
  CHECK(worst <= 2);

  const std::string g = encode_jpeg(grey, w, h, 1, JCS_GRAYSCALE, 90);
  const Image gi = io::decode_image(g.data(), g.size(), "grey.jpg");
  for (std::size_t i = 0; i < gi.width() * gi.height(); ++i) {
    CHECK(gi.data()[3 * i] == gi.data()[3 * i + 1]);
    CHECK(gi.data()[3 * i] == gi.data()[3 * i + 2]);
  }
}

TEST_CASE("libjpeg: refusals name the image and say why") {
  const std::string jpg = read_bytes(fixtures_dir() + "/rgb_q90.jpg");
  const auto refusal = [](const std::string& bytes, const std::string& name) {
    const Error e = error_of([&] { io::decode_image(bytes.data(), bytes.size(), name); });
    CHECK(e.code() == ErrorCode::format);
    CHECK(has(e, "'" + name + "'"));
    return std::string(e.what());
  };
  CHECK(contains(refusal(jpg.substr(0, jpg.size() - 20), "cut.jpg"), "is truncated (Premature end of JPEG file)"));
  CHECK(contains(refusal(jpg.substr(0, 200), "head.jpg"), "truncated"));
  CHECK(contains(refusal(std::string("\xff\xd8\xff not a jpeg at all"), "junk.jpg"), "corrupt or not a readable JPEG"));

  // A frame header claiming 60000 x 60000 (libjpeg's own limit is 65500 per side): refused before any pixel memory.
  std::string huge = jpg;
  const auto sof = huge.find("\xff\xc0");
  REQUIRE(sof != std::string::npos);
  for (int i = 5; i <= 8; i += 2) {
    huge[sof + i] = '\xea';
    huge[sof + i + 1] = '\x60';
  }
  CHECK(contains(refusal(huge, "huge.jpg"), "has size 60000x60000, beyond the limit"));

  // Two channels: neither grey, colour nor CMYK (Pillow refuses them too).
  std::vector<std::uint8_t> two(2 * 8 * 8, 100);
  CHECK(contains(refusal(encode_jpeg(two, 8, 8, 2, JCS_UNKNOWN, 90), "two.jpg"), "a JPEG with 2 channels"));

  // 600 copies of a progressive scan: stopped at 500 scans instead of decoding the picture 600 times.
  const std::string prog = read_bytes(fixtures_dir() + "/rgb_progressive.jpg");
  const auto last_scan = prog.rfind("\xff\xda");
  const auto eoi = prog.rfind("\xff\xd9");
  REQUIRE(last_scan < eoi);
  std::string many = prog.substr(0, eoi);
  for (int i = 0; i < 600; ++i) many += prog.substr(last_scan, eoi - last_scan);
  many += prog.substr(eoi);
  CHECK(contains(refusal(many, "scans.jpg"), "more than 500 progressive scans"));
}

TEST_CASE("libjpeg: damaged data decodes or fails quietly: nothing on stderr") {
  const std::string jpg = read_bytes(fixtures_dir() + "/rgb_q90.jpg");
  const auto sos = jpg.rfind("\xff\xda");
  REQUIRE(sos != std::string::npos);
  int decoded = 0;
  const std::string printed = stderr_of([&] {
    for (int i = 0; i < 40; ++i) {
      std::string bad = jpg;
      bad[sos + 14 + static_cast<std::size_t>(i) * 3 % (jpg.size() - sos - 16)] ^= 0x5a;  // in the entropy-coded data
      try {
        io::decode_image(bad.data(), bad.size(), "bad.jpg");
        ++decoded;
      } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::format);
      }
    }
  });
  CHECK(printed.empty());
  CHECK(decoded > 0);  // libjpeg decodes past corrupt entropy data, as for Pillow
}
