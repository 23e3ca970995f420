// Decoding JPEG, PNG and BMP files into RGB Images with stb_image.
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

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/image.hpp"
#include "clipcaer/io/mapped_file.hpp"

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

// Decodes an encoded JPEG/PNG/BMP picture held in memory. `name` is used in
// error messages (a file path, or a description of the buffer).
inline Image decode_image(const void* bytes, std::size_t size, const std::string& name = "<memory>") {
  require(bytes != nullptr || size == 0, ErrorCode::invalid_argument, "image '", name, "': null buffer");
  if (size == 0) throw_error(ErrorCode::format, "image '", name, "' is empty (0 bytes)");
  if (size > static_cast<std::size_t>(INT_MAX))
    throw_error(ErrorCode::format, "image '", name, "' is too large (", size, " bytes)");
  const auto* buf = static_cast<const stbi_uc*>(bytes);
  const int len = static_cast<int>(size);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(buf, len, &w, &h, &comp))
    throw_error(ErrorCode::format, "image '", name, "' is not a readable JPEG, PNG or BMP (", stbi_failure_reason(),
                ")");
  const auto uw = static_cast<std::size_t>(w), uh = static_cast<std::size_t>(h);
  if (w <= 0 || h <= 0 || uw > kMaxImageSide || uh > kMaxImageSide || uw * uh > kMaxImagePixels)
    throw_error(ErrorCode::format, "image '", name, "' has size ", w, "x", h, ", beyond the limit of ",
                kMaxImagePixels, " pixels");
  int dw = 0, dh = 0, dc = 0;
  stbi_uc* pixels = stbi_load_from_memory(buf, len, &dw, &dh, &dc, 3);
  if (!pixels)
    throw_error(ErrorCode::format, "image '", name, "' is corrupt or truncated (", stbi_failure_reason(), ")");
  if (dw != w || dh != h) {
    std::free(pixels);
    throw_error(ErrorCode::format, "image '", name, "': header says ", w, "x", h, " but decoded ", dw, "x", dh);
  }
  return Image::adopt_malloced(pixels, uw, uh);
}

// Reads and decodes an image file. Missing file: ErrorCode::file_not_found;
// unreadable: io; not a decodable JPEG/PNG/BMP: format.
inline Image read_image(const std::string& path) {
  MappedFile file(path);
  return decode_image(file.data(), file.size(), path);
}

}  // namespace clipcaer::io
