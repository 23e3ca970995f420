// Decoding JPEG, PNG and BMP files into RGB Images: PNG and BMP with
// stb_image; JPEG with libjpeg-turbo where the build has it
// (CLIPCAER_HAVE_LIBJPEG: io/jpeg_decode_libjpeg.hpp, bit-exact with Pillow),
// else with stb_image too (within a few levels of Pillow's pixels).
//
// How stb_image is included: this header defines STB_IMAGE_STATIC and
// STB_IMAGE_IMPLEMENTATION, so every translation unit that includes it gets
// its own private (internal-linkage) copy of the decoder, restricted to
// JPEG/PNG/BMP. No symbol can clash with another stb_image elsewhere in the
// program, and users need not pick "the one .cpp" that implements it. The
// only rule: in a translation unit that includes this header, do not also
// include <stb/stb_image.h> yourself (checked below when it comes first).
//
// Colour: grey, grey+alpha and RGBA pictures become RGB; grey is copied to
// all three channels and alpha is dropped (not blended), which is what
// Pillow's `.convert('RGB')` does. 16-bit PNG samples keep their high byte.
// EXIF orientation is ignored, as Pillow's Image.open ignores it.
#pragma once

#include <algorithm>
#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/image.hpp"
#include "clipcaer/io/mapped_file.hpp"
#ifdef CLIPCAER_HAVE_LIBJPEG
#include "clipcaer/io/jpeg_decode_libjpeg.hpp"
#endif

#if defined(STBI_INCLUDE_STB_IMAGE_H) && !defined(CLIPCAER_STB_IMAGE_INCLUDED)
#error "clipcaer/io/image_decode.hpp embeds its own static stb_image: do not include <stb/stb_image.h> in the same file"
#endif

#ifndef CLIPCAER_STB_IMAGE_INCLUDED
#define CLIPCAER_STB_IMAGE_INCLUDED
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO  // we read files ourselves, to tell "missing" from "corrupt"
#define STBI_MALLOC(sz) std::malloc(sz)
#define STBI_REALLOC(p, newsz) std::realloc(p, newsz)
#define STBI_FREE(p) std::free(p)
#define STBI_MAX_DIMENSIONS (1 << 20)  // = clipcaer::kMaxImageSide
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#undef STBI_ONLY_JPEG
#undef STBI_ONLY_PNG
#undef STBI_ONLY_BMP
#endif

namespace clipcaer::io {

namespace detail {

inline std::uint32_t load_le32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[3]} | std::uint32_t{p[2]} << 8 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[0]} << 24;
}

inline std::uint32_t crc32_update(std::uint32_t crc, const std::uint8_t* p, std::size_t n) noexcept {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  for (std::size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return crc;
}

// stb_image does not check PNG checksums: a flipped bit in the pixel data
// would decode to wrong pixels without complaint. Pillow and libpng refuse
// such files; so do we.
inline void check_png_checksums(const std::uint8_t* buf, std::size_t size, const std::string& name) {
  std::size_t pos = 8;  // after the signature
  while (pos + 12 <= size) {
    const std::size_t len = load_be32(buf + pos);
    if (len > size - pos - 12) return;  // truncated: stb_image reports it
    const std::uint32_t want = load_be32(buf + pos + 8 + len);
    const std::uint32_t got = crc32_update(0xFFFFFFFFu, buf + pos + 4, len + 4) ^ 0xFFFFFFFFu;
    const std::string type(reinterpret_cast<const char*>(buf + pos + 4), 4);
    if (want != got)
      throw_error(ErrorCode::format, "image '", name, "' is corrupt (checksum mismatch in PNG chunk '", type, "')");
    if (type == "IEND") return;
    pos += 12 + len;
  }
}

// stb_image reads past the end of a truncated BMP as zeros; the pixel array
// size follows from the header, so check that it is all there.
inline void check_bmp_complete(const std::uint8_t* buf, std::size_t size, const std::string& name) {
  if (size < 26) return;  // stb_image rejects it
  const std::uint64_t offset = load_le32(buf + 10);
  const std::uint32_t header = load_le32(buf + 14);
  std::int64_t width = 0, height = 0;
  std::uint32_t bpp = 0, compression = 0;
  if (header == 12) {
    width = static_cast<std::int16_t>(buf[18] | buf[19] << 8);
    height = static_cast<std::int16_t>(buf[20] | buf[21] << 8);
    bpp = buf[24] | buf[25] << 8;
  } else {
    if (size < 34) return;
    width = static_cast<std::int32_t>(load_le32(buf + 18));
    height = static_cast<std::int32_t>(load_le32(buf + 22));
    bpp = buf[28] | buf[29] << 8;
    compression = load_le32(buf + 30);
  }
  if (compression != 0 && compression != 3 && compression != 6) return;  // RLE etc.: stb_image refuses those
  if (width <= 0 || bpp == 0 || bpp > 32) return;
  const std::uint64_t row = (static_cast<std::uint64_t>(width) * bpp + 31) / 32 * 4;
  const std::uint64_t rows = static_cast<std::uint64_t>(height < 0 ? -height : height);
  if (rows > (std::uint64_t{1} << 32) || offset + row * rows > size)
    throw_error(ErrorCode::format, "image '", name, "' is truncated (the BMP needs ", offset + row * rows,
                " bytes, the file has ", size, ")");
}

// stb_image 2.27 (Debian 12) trusts the code counts of a JPEG Huffman table
// and writes past its 256-entry arrays when they add up to more (a heap
// overflow on crafted files; fixed upstream in 2.28). Walk the markers and
// refuse such tables before stb_image sees them.
inline void check_jpeg_huffman_tables(const std::uint8_t* buf, std::size_t size, const std::string& name) {
  std::size_t pos = 2;  // after SOI
  while (pos + 1 < size) {
    if (buf[pos] != 0xFF) {  // entropy-coded data or junk: look for the next marker
      const void* next = std::memchr(buf + pos, 0xFF, size - pos);
      if (!next) return;
      pos = static_cast<std::size_t>(static_cast<const std::uint8_t*>(next) - buf);
      continue;
    }
    const std::uint8_t m = buf[pos + 1];
    if (m == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {  // stuffed byte, TEM, RSTn, SOI: no length
      pos += 2;
      continue;
    }
    if (m == 0xD9 || pos + 4 > size) return;  // EOI
    const std::size_t len = std::size_t{buf[pos + 2]} << 8 | buf[pos + 3];
    if (len < 2) return;  // malformed: stb_image reports it
    if (m == 0xC4) {
      // Like stb_image: read tables while the declared length lasts, zeros past the end of the file.
      for (std::size_t p = pos + 4; p < pos + 2 + len;) {
        std::size_t codes = 0;
        for (std::size_t i = 1; i <= 16; ++i) codes += p + i < size ? buf[p + i] : 0;
        if (codes > 256)
          throw_error(ErrorCode::format, "image '", name, "' is corrupt (a JPEG Huffman table declares ", codes,
                      " codes, at most 256 are possible)");
        p += 17 + codes;
      }
    }
    pos += 2 + len;
  }
}

inline bool little_endian() noexcept {
  const std::uint32_t one = 1;
  std::uint8_t first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// Drops every 4th byte: RGBA -> RGB in place (little-endian words), 4 pixels per step with 32-bit words.
inline void rgba_to_rgb_in_place(std::uint8_t* p, std::size_t pixels) noexcept {
  std::size_t i = 0;
  for (; i + 4 <= pixels; i += 4) {
    std::uint32_t w[4];
    std::memcpy(w, p + 4 * i, 16);  // all loads before the stores: the output trails the input
    const std::uint32_t o[3] = {(w[0] & 0xFFFFFFu) | (w[1] << 24), ((w[1] >> 8) & 0xFFFFu) | (w[2] << 16),
                                ((w[2] >> 16) & 0xFFu) | (w[3] << 8)};
    std::memcpy(p + 3 * i, o, 12);
  }
  for (; i < pixels; ++i) {
    p[3 * i + 0] = p[4 * i + 0];
    p[3 * i + 1] = p[4 * i + 1];
    p[3 * i + 2] = p[4 * i + 2];
  }
}

inline bool is_jpeg(const std::uint8_t* buf, std::size_t size) noexcept {
  return size >= 2 && buf[0] == 0xFF && buf[1] == 0xD8;
}

// stb_image's decode of a JPEG/PNG/BMP in memory, after the checks above.
inline Image decode_with_stb(const void* bytes, std::size_t size, const std::string& name) {
  const auto* buf = static_cast<const stbi_uc*>(bytes);
  const int len = static_cast<int>(size);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(buf, len, &w, &h, &comp))
    throw_error(ErrorCode::format, "image '", name, "' is not a readable JPEG, PNG or BMP (", stbi_failure_reason(),
                ")");
  const auto uw = static_cast<std::size_t>(w), uh = static_cast<std::size_t>(h);
  if (w <= 0 || h <= 0 || !clipcaer::detail::within_image_limits(uw, uh))
    clipcaer::detail::throw_image_size(name, w, h);
  // stb_image converts YCbCr with SIMD only when it writes 4 channels; asking
  // for RGBA and dropping the alpha byte gives the same RGB (a test checks)
  // with a third fewer instructions for a colour JPEG.
  const bool jpeg_rgba = is_jpeg(buf, size) && comp == 3 && little_endian();
  int dw = 0, dh = 0, dc = 0;
  stbi_uc* pixels = stbi_load_from_memory(buf, len, &dw, &dh, &dc, jpeg_rgba ? 4 : 3);
  if (pixels && jpeg_rgba && dw == w && dh == h) rgba_to_rgb_in_place(pixels, uw * uh);
  if (!pixels)
    throw_error(ErrorCode::format, "image '", name, "' is corrupt or truncated (", stbi_failure_reason(), ")");
  if (dw != w || dh != h) {
    std::free(pixels);
    throw_error(ErrorCode::format, "image '", name, "': header says ", w, "x", h, " but decoded ", dw, "x", dh);
  }
  return Image::adopt_malloced(pixels, uw, uh);
}

}  // namespace detail

// Which decoder reads JPEG files in this build: "libjpeg-turbo 2.1.5" (bit-exact
// with Pillow on the same libjpeg-turbo) or "stb_image" (close: see docs/inputs.md).
inline std::string jpeg_decoder() {
#ifdef CLIPCAER_HAVE_LIBJPEG
  return libjpeg_version();
#else
  return "stb_image";
#endif
}

// Decodes an encoded JPEG/PNG/BMP picture held in memory. `name` is used in
// error messages (a file path, or a description of the buffer).
inline Image decode_image(const void* bytes, std::size_t size, const std::string& name = "<memory>") {
  require(bytes != nullptr || size == 0, ErrorCode::invalid_argument, "image '", name, "': null buffer");
  if (size == 0) throw_error(ErrorCode::format, "image '", name, "' is empty (0 bytes)");
  if (size > static_cast<std::size_t>(INT_MAX))
    throw_error(ErrorCode::format, "image '", name, "' is too large (", size, " bytes)");
  const auto* buf = static_cast<const std::uint8_t*>(bytes);
  // Before any decoder reads anything (stbi_info already parses JPEG Huffman tables).
  static const std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 8 && std::memcmp(buf, png_signature, 8) == 0) detail::check_png_checksums(buf, size, name);
  if (size >= 2 && buf[0] == 'B' && buf[1] == 'M') detail::check_bmp_complete(buf, size, name);
  if (detail::is_jpeg(buf, size)) {
    detail::check_jpeg_huffman_tables(buf, size, name);
#ifdef CLIPCAER_HAVE_LIBJPEG
    return decode_jpeg_libjpeg(buf, size, name);
#endif
  }
  return detail::decode_with_stb(buf, size, name);
}

// Reads and decodes an image file. Missing file: ErrorCode::file_not_found;
// unreadable: io; not a decodable JPEG/PNG/BMP: format.
inline Image read_image(const std::string& path) {
  MappedFile file(path);
  return decode_image(file.data(), file.size(), path);
}

}  // namespace clipcaer::io
