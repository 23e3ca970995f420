// Reading gzip data (the CLIP merges file is bpe_simple_vocab_16e6.txt.gz),
// with zlib. Like Python's gzip module, several concatenated members are read
// as one stream; anything else after a member is an error.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/mapped_file.hpp"

namespace clipcaer::text {

// The CLIP merges file inflates to 3.2 MB; the cap stops a gzip bomb.
inline constexpr std::size_t kMaxGunzipBytes = std::size_t{64} << 20;

// Inflates gzip bytes; `source` names them in errors (a path, a tensor name).
inline std::string gunzip(const void* data, std::size_t size, const std::string& source,
                          std::size_t max_output = kMaxGunzipBytes) {
  const auto* in = static_cast<const unsigned char*>(data);
  require(size >= 2 && in[0] == 0x1f && in[1] == 0x8b, ErrorCode::format, source,
          ": not gzip data (no gzip magic bytes 1f 8b at the start)");
  z_stream zs{};
  // 15 + 16: a gzip wrapper only; zlib checks the CRC-32 and length trailer.
  require(inflateInit2(&zs, 15 + 16) == Z_OK, ErrorCode::internal, "zlib inflateInit2 failed");
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};

  std::string out;
  std::size_t consumed = 0;
  char buffer[1 << 16];
  while (true) {
    const std::size_t chunk = std::min<std::size_t>(size - consumed, 1u << 30);
    zs.next_in = const_cast<unsigned char*>(in + consumed);
    zs.avail_in = static_cast<uInt>(chunk);
    zs.next_out = reinterpret_cast<unsigned char*>(buffer);
    zs.avail_out = sizeof buffer;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    consumed += chunk - zs.avail_in;
    out.append(buffer, sizeof buffer - zs.avail_out);
    require(out.size() <= max_output, ErrorCode::format, source, ": inflates to more than ", max_output,
            " bytes; not a CLIP merges file");
    if (rc == Z_STREAM_END) {
      if (consumed == size) return out;
      require(size - consumed >= 2 && in[consumed] == 0x1f && in[consumed + 1] == 0x8b, ErrorCode::format, source,
              ": ", size - consumed, " bytes of trailing data after the gzip stream");
      require(inflateReset(&zs) == Z_OK, ErrorCode::internal, "zlib inflateReset failed");
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && consumed == size)
      throw_error(ErrorCode::format, source, ": gzip data is truncated (", size, " bytes)");
    throw_error(ErrorCode::format, source, ": corrupt gzip data (zlib: ", zs.msg ? zs.msg : "error", ")");
  }
}

// Reads and inflates a gzip file: file_not_found when absent, format when corrupt.
inline std::string read_gzip_file(const std::string& path, std::size_t max_output = kMaxGunzipBytes) {
  io::MappedFile file(path);
  return gunzip(file.data(), file.size(), "'" + path + "'", max_output);
}

}  // namespace clipcaer::text
