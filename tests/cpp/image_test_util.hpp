// Helpers for the image and preprocessing tests: the deterministic test
// picture shared with tests/fixtures/make_preprocess_fixtures.py, minimal
// BMP and PNG writers, temporary folders and the golden-file index.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clipcaer/io/image.hpp"
#include "clipcaer/io/image_decode.hpp"
#include "error_test_util.hpp"
#include "test_util.hpp"

namespace clipcaer::test {

inline bool has(const Error& e, const std::string& part) {
  return std::string(e.what()).find(part) != std::string::npos;
}

// Same formula as pattern() in make_preprocess_fixtures.py.
inline Image pattern(std::size_t w, std::size_t h, int seed = 0) {
  Image im(w, h);
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x)
      for (std::size_t c = 0; c < 3; ++c) {
        const long long v = (static_cast<long long>(x) * 37 + static_cast<long long>(y) * 91 + static_cast<long long>(c) * 53 +
                             ((static_cast<long long>(x * y) + seed) % 17) * 11 + seed * 29) % 256;
        im.row(y)[3 * x + c] = static_cast<std::uint8_t>(v);
      }
  return im;
}

inline std::string fixtures_dir() { return std::string(CLIPCAER_FIXTURES_DIR) + "/preprocess"; }

inline nlohmann::json fixture_index() {
  std::ifstream in(fixtures_dir() + "/index.json");
  return nlohmann::json::parse(in);
}

inline std::vector<std::uint8_t> fixture_bytes(const std::string& name) {
  const std::string s = read_bytes(fixtures_dir() + "/" + name);
  return {s.begin(), s.end()};
}

inline bool same_pixels(const Image& a, const std::vector<std::uint8_t>& b) {
  return a.size_bytes() == b.size() && std::equal(b.begin(), b.end(), a.data());
}

inline int max_abs_diff(const Image& a, const Image& b) {
  int m = 0;
  for (std::size_t i = 0; i < a.size_bytes(); ++i) m = std::max(m, std::abs(int{a.data()[i]} - int{b.data()[i]}));
  return m;
}

inline void put_le(std::string& s, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
inline void put_be(std::string& s, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

// A 24-bit bottom-up BMP.
inline std::string encode_bmp(const Image& im) {
  const std::uint32_t row = static_cast<std::uint32_t>((im.width() * 3 + 3) / 4 * 4);
  const std::uint32_t data = row * static_cast<std::uint32_t>(im.height());
  std::string s = "BM";
  put_le(s, 54 + data, 4);
  put_le(s, 0, 4);
  put_le(s, 54, 4);
  put_le(s, 40, 4);
  put_le(s, static_cast<std::uint32_t>(im.width()), 4);
  put_le(s, static_cast<std::uint32_t>(im.height()), 4);
  put_le(s, 1, 2);
  put_le(s, 24, 2);
  put_le(s, 0, 4);
  put_le(s, data, 4);
  put_le(s, 2835, 4);
  put_le(s, 2835, 4);
  put_le(s, 0, 4);
  put_le(s, 0, 4);
  for (std::size_t y = im.height(); y-- > 0;) {
    const std::uint8_t* p = im.row(y);
    std::string r;
    for (std::size_t x = 0; x < im.width(); ++x) {
      r += static_cast<char>(p[3 * x + 2]);
      r += static_cast<char>(p[3 * x + 1]);
      r += static_cast<char>(p[3 * x + 0]);
    }
    r.resize(row, '\0');
    s += r;
  }
  return s;
}

// An 8-bit PNG (colour type 0 grey, 2 RGB, 4 grey+alpha, 6 RGBA) of `samples`
// (rows of width * channels bytes), deflate "stored" blocks.
inline std::string encode_png(std::size_t w, std::size_t h, int color_type, const std::vector<std::uint8_t>& samples) {
  const std::size_t ch = color_type == 0 ? 1 : color_type == 2 ? 3 : color_type == 4 ? 2 : 4;
  std::string raw;
  for (std::size_t y = 0; y < h; ++y) {
    raw += '\0';
    raw.append(reinterpret_cast<const char*>(samples.data() + y * w * ch), w * ch);
  }
  std::string z = "\x78\x01";
  for (std::size_t pos = 0; pos < raw.size() || pos == 0;) {
    const std::size_t n = std::min<std::size_t>(65535, raw.size() - pos);
    z += static_cast<char>(pos + n == raw.size() ? 1 : 0);
    put_le(z, static_cast<std::uint32_t>(n), 2);
    put_le(z, static_cast<std::uint32_t>(~n & 0xffff), 2);
    z.append(raw, pos, n);
    pos += n;
    if (n == 0) break;
  }
  std::uint32_t a = 1, b = 0;
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  put_be(z, b << 16 | a);
  auto chunk = [](const std::string& type, const std::string& data) {
    std::string c;
    put_be(c, static_cast<std::uint32_t>(data.size()));
    const std::string td = type + data;
    c += td;
    put_be(c, io::detail::crc32_update(0xFFFFFFFFu, reinterpret_cast<const std::uint8_t*>(td.data()), td.size()) ^
                  0xFFFFFFFFu);
    return c;
  };
  std::string ihdr;
  put_be(ihdr, static_cast<std::uint32_t>(w));
  put_be(ihdr, static_cast<std::uint32_t>(h));
  ihdr += static_cast<char>(8);
  ihdr += static_cast<char>(color_type);
  ihdr += std::string(3, '\0');
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", z) + chunk("IEND", "");
}

inline std::string encode_png_rgb(const Image& im) {
  return encode_png(im.width(), im.height(), 2, std::vector<std::uint8_t>(im.data(), im.data() + im.size_bytes()));
}

// A folder removed with its contents at scope exit.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& stem) : path(temp_path(stem)) { std::filesystem::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

}  // namespace clipcaer::test
