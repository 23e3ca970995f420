// Decoding JPEG with libjpeg-turbo, the library Pillow decodes with: the same
// settings as Pillow 9.4's decoder (JpegDecode.c, no draft mode: accurate
// integer IDCT, fancy upsampling, RGB out) and the same colour conversion
// after it, so a frame comes out bit-identical to the official loader's
// `Image.open(path).convert('RGB')` when both use the same libjpeg-turbo.
//
// Used by io/image_decode.hpp when CLIPCAER_HAVE_LIBJPEG is defined (the
// CMake targets define it and link libjpeg when CLIPCAER_LIBJPEG=ON, the
// default). Every translation unit of a program must see the same setting.
//
// Errors: libjpeg reports fatal errors through a callback that must not
// return, so it longjmps back to run_jpeg_job(). Everything that lives across
// that jump is in JpegJob, which is trivially destructible and owned by the
// caller: the jump skips no destructor, and the caller frees what the job
// allocated. Warnings (corrupt entropy data libjpeg decodes past) are
// ignored, as Pillow ignores them; a truncated file is an error, as in Pillow.
#pragma once

#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>  // jpeglib.h uses FILE and size_t without including their headers
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <jerror.h>
#include <jpeglib.h>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/image.hpp"

namespace clipcaer::io {

// "libjpeg-turbo 2.1.5" (or "libjpeg 62" for another libjpeg): the headers this was compiled against.
inline std::string libjpeg_version() {
#ifdef LIBJPEG_TURBO_VERSION_NUMBER
  const long v = LIBJPEG_TURBO_VERSION_NUMBER;
  return "libjpeg-turbo " + std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." +
         std::to_string(v % 1000);
#else
  return "libjpeg " + std::to_string(JPEG_LIB_VERSION);
#endif
}

namespace detail {

// A progressive JPEG can declare thousands of scans, each a pass over the
// whole picture: a small crafted file would take minutes. libjpeg-turbo's
// own TurboJPEG API stops at 500 (TJFLAG_LIMITSCANS); real files have ~10.
inline constexpr int kMaxJpegScans = 500;

struct JpegJob {
  jpeg_decompress_struct cinfo;  // valid once `created`
  jpeg_error_mgr err;            // first member of the error state libjpeg sees
  jpeg_progress_mgr progress;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool created;
  std::size_t width, height;
  int components;
  std::uint8_t* pixels;  // std::malloc'ed RGB, adopted by the Image on success
  std::uint8_t* row;     // std::malloc'ed CMYK row
};

enum class JpegStatus { ok, libjpeg_error, too_large, bad_components, out_of_memory };

inline JpegJob* jpeg_job_of(j_common_ptr cinfo) noexcept {
  return reinterpret_cast<JpegJob*>(reinterpret_cast<char*>(cinfo->err) - offsetof(JpegJob, err));
}

inline void jpeg_fail(j_common_ptr cinfo) {
  JpegJob* job = jpeg_job_of(cinfo);
  (*cinfo->err->format_message)(cinfo, job->message);
  std::longjmp(job->jump, 1);
}

inline void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  // libjpeg's memory source reports the end of the data as a warning and pads
  // with an end-of-image marker; Pillow refuses such files as truncated.
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_fail(cinfo);
  ++cinfo->err->num_warnings;
}

inline void jpeg_no_output(j_common_ptr) {}  // libjpeg would print to stderr

inline void jpeg_check_scans(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxJpegScans) {
    JpegJob* job = jpeg_job_of(cinfo);
    std::snprintf(job->message, sizeof job->message, "more than %d progressive scans", kMaxJpegScans);
    std::longjmp(job->jump, 1);
  }
}

// Pillow's "CMYK;I" unpacking (Adobe's inverted CMYK, which Pillow assumes for
// every 4-channel JPEG) followed by its cmyk2rgb (Convert.c):
// with c = 255 - raw_c, nk = 255 - (255 - raw_k) = raw_k,
// out = nk - c * nk / 255 (rounded as MULDIV255), clipped to [0, 255].
inline void pillow_inverted_cmyk_to_rgb(const std::uint8_t* cmyk, std::uint8_t* rgb, std::size_t pixels) noexcept {
  for (std::size_t i = 0; i < pixels; ++i, cmyk += 4, rgb += 3) {
    const int nk = cmyk[3];
    for (int c = 0; c < 3; ++c) {
      const int t = (255 - cmyk[c]) * nk + 128;
      const int v = nk - (((t >> 8) + t) >> 8);
      rgb[c] = static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
}

// The part of the decode that libjpeg may jump out of. No object with a
// destructor lives in this frame; job's buffers are freed by the caller.
inline JpegStatus run_jpeg_job(JpegJob& job, const std::uint8_t* data, std::size_t size) {
  job.cinfo.err = jpeg_std_error(&job.err);
  job.err.error_exit = jpeg_fail;
  job.err.emit_message = jpeg_on_message;
  job.err.output_message = jpeg_no_output;
  if (setjmp(job.jump)) return JpegStatus::libjpeg_error;
  jpeg_create_decompress(&job.cinfo);
  job.created = true;
  job.progress.progress_monitor = jpeg_check_scans;
  job.cinfo.progress = &job.progress;
  jpeg_mem_src(&job.cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&job.cinfo, TRUE);
  job.width = job.cinfo.image_width;
  job.height = job.cinfo.image_height;
  job.components = job.cinfo.num_components;
  if (job.width == 0 || job.height == 0 || !clipcaer::detail::within_image_limits(job.width, job.height))
    return JpegStatus::too_large;
  // As Pillow: 1 channel is grey (replicated to RGB, which is what libjpeg's
  // grey -> RGB conversion does), 3 are decoded to RGB, 4 are CMYK.
  if (job.components == 1 || job.components == 3)
    job.cinfo.out_color_space = JCS_RGB;
  else if (job.components == 4)
    job.cinfo.out_color_space = JCS_CMYK;
  else
    return JpegStatus::bad_components;
  job.pixels = static_cast<std::uint8_t*>(std::malloc(3 * job.width * job.height));
  if (job.components == 4) job.row = static_cast<std::uint8_t*>(std::malloc(4 * job.width));
  if (!job.pixels || (job.components == 4 && !job.row)) return JpegStatus::out_of_memory;
  jpeg_start_decompress(&job.cinfo);
  while (job.cinfo.output_scanline < job.cinfo.output_height) {
    std::uint8_t* out = job.pixels + std::size_t{job.cinfo.output_scanline} * 3 * job.width;
    JSAMPROW target = job.components == 4 ? job.row : out;
    if (jpeg_read_scanlines(&job.cinfo, &target, 1) != 1) break;  // cannot happen with a memory source
    if (job.components == 4) pillow_inverted_cmyk_to_rgb(job.row, out, job.width);
  }
  if (job.cinfo.output_scanline != job.height) {
    std::snprintf(job.message, sizeof job.message, "decoded %u of %zu rows", job.cinfo.output_scanline, job.height);
    return JpegStatus::libjpeg_error;
  }
  jpeg_finish_decompress(&job.cinfo);
  return JpegStatus::ok;
}

// Frees what a job holds, whatever state it ended in.
struct JpegJobOwner {
  JpegJob* job;
  ~JpegJobOwner() {
    if (job->created) jpeg_destroy_decompress(&job->cinfo);
    std::free(job->row);
    std::free(job->pixels);
  }
};

}  // namespace detail

// Decodes a JPEG held in memory to RGB as Pillow does (see the top of this file).
inline Image decode_jpeg_libjpeg(const void* bytes, std::size_t size, const std::string& name) {
  detail::JpegJob job;
  std::memset(static_cast<void*>(&job), 0, sizeof job);
  const detail::JpegJobOwner owner{&job};
  const detail::JpegStatus status = detail::run_jpeg_job(job, static_cast<const std::uint8_t*>(bytes), size);
  switch (status) {
    case detail::JpegStatus::ok:
      break;
    case detail::JpegStatus::libjpeg_error:
      if (job.err.msg_code == JERR_OUT_OF_MEMORY) throw std::bad_alloc();
      if (job.err.msg_code == JWRN_JPEG_EOF)
        throw_error(ErrorCode::format, "image '", name, "' is truncated (", job.message, ")");
      throw_error(ErrorCode::format, "image '", name, "' is corrupt or not a readable JPEG (", job.message, ")");
    case detail::JpegStatus::too_large:
      clipcaer::detail::throw_image_size(name, static_cast<long long>(job.width),
                                         static_cast<long long>(job.height));
    case detail::JpegStatus::bad_components:
      throw_error(ErrorCode::format, "image '", name, "' is a JPEG with ", job.components,
                  " channels (1, 3 or 4 can be read, as in Pillow)");
    case detail::JpegStatus::out_of_memory:
      throw std::bad_alloc();
  }
  std::uint8_t* pixels = job.pixels;
  job.pixels = nullptr;  // the Image owns them now
  return Image::adopt_malloced(pixels, job.width, job.height);
}

}  // namespace clipcaer::io
