// Reading the frames of a video file with FFmpeg (libavformat demuxes,
// libavcodec decodes, libswscale converts to RGB), the way
// `ffmpeg -i video.mp4 -pix_fmt rgb24 frames/%05d.png` extracts them: every
// frame the decoder outputs, in display order, converted with the same
// swscale settings as the ffmpeg command (bicubic, the stream's YCbCr matrix
// and range), and turned upright as the command turns it (display-matrix
// rotation by 90, 180 or 270 degrees). So a video gives the same pixels as
// its frames extracted to PNG by the ffmpeg of the same FFmpeg libraries.
//
// Used by io/video.hpp when CLIPCAER_HAVE_FFMPEG is defined (the CMake
// targets define it and link FFmpeg when CLIPCAER_VIDEO=ON, the default).
//
// Errors: every FFmpeg call that can fail is checked and becomes an Error
// naming the file and FFmpeg's reason. A packet the decoder rejects as
// damaged is skipped, as the ffmpeg command skips it (the frame count then
// comes from the frames actually decoded, see io/video.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>  // std::bad_alloc
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <libswscale/version.h>
}

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/image.hpp"

namespace clipcaer::io {

// "FFmpeg (libavformat 59.27.100, libavcodec 59.37.100, libswscale 6.7.100)": the libraries linked.
inline std::string ffmpeg_version() {
  auto v = [](unsigned x) {
    return std::to_string(x >> 16) + "." + std::to_string((x >> 8) & 0xff) + "." + std::to_string(x & 0xff);
  };
  return "FFmpeg (libavformat " + v(avformat_version()) + ", libavcodec " + v(avcodec_version()) + ", libswscale " +
         v(swscale_version()) + ")";
}

namespace detail {

inline std::string av_error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(err, buf, sizeof buf) < 0) return "FFmpeg error " + std::to_string(err);
  return buf;
}

struct AvFormatCloser {
  void operator()(AVFormatContext* c) const noexcept { avformat_close_input(&c); }
};
struct AvCodecFreer {
  void operator()(AVCodecContext* c) const noexcept { avcodec_free_context(&c); }
};
struct AvPacketFreer {
  void operator()(AVPacket* p) const noexcept { av_packet_free(&p); }
};
struct AvFrameFreer {
  void operator()(AVFrame* f) const noexcept { av_frame_free(&f); }
};
struct SwsFreer {
  void operator()(SwsContext* s) const noexcept { sws_freeContext(s); }
};

// The display rotation the ffmpeg command applies (its get_rotation()):
// degrees clockwise in [0, 360), from the stream's display matrix.
inline double stream_rotation(const AVStream* st) {
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 31, 102)  // FFmpeg 6.1 moved it; the old call is deprecated
  const AVPacketSideData* sd = av_packet_side_data_get(st->codecpar->coded_side_data, st->codecpar->nb_coded_side_data,
                                                       AV_PKT_DATA_DISPLAYMATRIX);
  const std::uint8_t* matrix = sd ? sd->data : nullptr;
#else
  const std::uint8_t* matrix = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
#endif
  if (!matrix) return 0;
  double theta = -std::round(av_display_rotation_get(reinterpret_cast<const std::int32_t*>(matrix)));
  if (std::isnan(theta)) return 0;
  theta -= 360 * std::floor(theta / 360 + 0.9 / 360);
  return theta;
}

// A copy of `s` turned `quarter_turns` x 90 degrees clockwise (0: as is).
inline Image rotated_clockwise(const ImageView& s, int quarter_turns) {
  const std::size_t w = s.width, h = s.height;
  const bool swap = quarter_turns % 2 != 0;
  Image out(swap ? h : w, swap ? w : h);
  const MutableImageView d = out.mutable_view();
  if (quarter_turns == 0) {
    for (std::size_t y = 0; y < h; ++y) std::memcpy(d.row(y), s.row(y), 3 * w);
    return out;
  }
  for (std::size_t y = 0; y < h; ++y) {
    const std::uint8_t* row = s.row(y);
    for (std::size_t x = 0; x < w; ++x) {
      std::size_t dx = x, dy = y;
      if (quarter_turns == 1) dx = h - 1 - y, dy = x;
      if (quarter_turns == 2) dx = w - 1 - x, dy = h - 1 - y;
      if (quarter_turns == 3) dx = y, dy = w - 1 - x;
      std::memcpy(d.row(dy) + 3 * dx, row + 3 * x, 3);
    }
  }
  return out;
}

}  // namespace detail

// The containers we open, by FFmpeg demuxer name. Not all FFmpeg opens:
// its demuxers also read playlists that fetch URLs or other files (hls,
// concat), text files as ANSI art (tty) and single pictures (image2); such
// inputs are refused. Only local files are read (protocol "file").
inline constexpr const char* kVideoDemuxers =
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,asf,mpeg,mpegts,mpegvideo,ogg,nut,h264,hevc,m4v,mxf,dv,ivf,"
    "yuv4mpegpipe,gif,mjpeg";

// One pass over a video file's frames. Open, then decode() once.
// `threads`: the decoder's threads (0: FFmpeg's choice, one per core).
class VideoReader {
 public:
  explicit VideoReader(const std::string& path, std::size_t threads = 0) : path_(path) {
    AVFormatContext* fmt = nullptr;
    AVDictionary* opts = nullptr;
    av_dict_set(&opts, "format_whitelist", kVideoDemuxers, 0);
    av_dict_set(&opts, "protocol_whitelist", "file", 0);
    int err = avformat_open_input(&fmt, path.c_str(), nullptr, &opts);
    av_dict_free(&opts);
    if (err < 0) {
      if (err == AVERROR(ENOENT)) throw_error(ErrorCode::file_not_found, "video '", path, "' does not exist");
      throw_error(ErrorCode::format, "cannot open video '", path, "': ", detail::av_error_text(err),
                  " (clipcaer reads MP4/MOV, MKV/WebM, AVI, FLV, ASF/WMV, MPEG-PS/TS, Ogg, NUT, MXF, DV, IVF, "
                  "Y4M, GIF and raw H.264/HEVC/MPEG-4/MJPEG video)");
    }
    fmt_.reset(fmt);
    err = avformat_find_stream_info(fmt, nullptr);
    if (err < 0)
      throw_error(ErrorCode::format, "video '", path, "': cannot read its streams: ", detail::av_error_text(err));
#if LIBAVFORMAT_VERSION_MAJOR >= 59
    const AVCodec* codec = nullptr;
#else
    AVCodec* codec = nullptr;  // FFmpeg 4
#endif
    stream_ = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (stream_ == AVERROR_STREAM_NOT_FOUND) throw_error(ErrorCode::format, "'", path, "' has no video stream");
    if (stream_ < 0 || !codec)
      throw_error(ErrorCode::unsupported, "video '", path, "': no decoder for its video stream in this FFmpeg (",
                  stream_ < 0 ? detail::av_error_text(stream_) : "codec not built in", ")");
    const AVStream* st = fmt->streams[stream_];
    codec_.reset(avcodec_alloc_context3(codec));
    if (!codec_) throw std::bad_alloc();
    err = avcodec_parameters_to_context(codec_.get(), st->codecpar);
    if (err < 0)
      throw_error(ErrorCode::format, "video '", path, "': bad stream parameters: ", detail::av_error_text(err));
    codec_->thread_count = static_cast<int>(std::min<std::size_t>(threads, 64));  // frame threads keep the order
    err = avcodec_open2(codec_.get(), codec, nullptr);
    if (err < 0)  // damaged codec parameters, or a feature this decoder lacks
      throw_error(err == AVERROR_INVALIDDATA ? ErrorCode::format : ErrorCode::unsupported, "video '", path,
                  "': cannot open its ", codec->name,
                  " decoder: ", detail::av_error_text(err));
    const AVRational rate = av_guess_frame_rate(fmt, const_cast<AVStream*>(st), nullptr);
    if (rate.num > 0 && rate.den > 0) frame_rate_ = av_q2d(rate);
    const double theta = detail::stream_rotation(st);
    for (int q = 0; q < 4; ++q)
      if (std::fabs(theta - 90.0 * q) < 1.0) quarter_turns_ = q;
    packet_.reset(av_packet_alloc());
    frame_.reset(av_frame_alloc());
    if (!packet_ || !frame_) throw std::bad_alloc();
  }

  // Clockwise quarter turns applied to each frame (display-matrix rotation).
  int quarter_turns() const noexcept { return quarter_turns_; }
  // Frames per second as the container or codec states it (FFmpeg's guess,
  // as the ffmpeg command shows it); 0 when unknown.
  double frame_rate() const noexcept { return frame_rate_; }

  // Packets of the video stream, by demuxing the whole file (no decoding):
  // the frame count for every common codec, cheaply. Leaves the reader at
  // the end: open a new one to decode.
  std::size_t count_packets() {
    std::size_t n = 0;
    for (;;) {
      const int err = av_read_frame(fmt_.get(), packet_.get());
      if (at_end(err)) break;
      if (packet_->stream_index == stream_) ++n;
      av_packet_unref(packet_.get());
    }
    return n;
  }

  // Decodes every frame in display order. want(i) says whether frame i (from
  // 0) is needed; take(i, Image&&) receives each one that is, as RGB.
  // Returns the number of frames decoded.
  template <class Want, class Take>
  std::size_t decode(Want&& want, Take&& take) {
    std::size_t index = 0;
    auto drain = [&]() {
      for (;;) {
        const int err = avcodec_receive_frame(codec_.get(), frame_.get());
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
        if (err == AVERROR_INVALIDDATA) continue;  // a damaged frame: dropped, as ffmpeg drops it
        if (err < 0)
          throw_error(ErrorCode::format, "video '", path_, "': decoding failed: ", detail::av_error_text(err));
        if (want(index)) take(index, to_rgb(*frame_, index));
        av_frame_unref(frame_.get());
        ++index;
      }
    };
    for (;;) {
      const int err = av_read_frame(fmt_.get(), packet_.get());
      if (at_end(err)) break;
      if (packet_->stream_index == stream_) {
        const int sent = avcodec_send_packet(codec_.get(), packet_.get());
        av_packet_unref(packet_.get());
        if (sent < 0 && sent != AVERROR_INVALIDDATA)  // a damaged packet is skipped
          throw_error(ErrorCode::format, "video '", path_, "': decoding failed: ", detail::av_error_text(sent));
        drain();
      } else {
        av_packet_unref(packet_.get());
      }
    }
    const int flushed = avcodec_send_packet(codec_.get(), nullptr);
    if (flushed < 0 && flushed != AVERROR_EOF)
      throw_error(ErrorCode::format, "video '", path_, "': decoding failed: ", detail::av_error_text(flushed));
    drain();
    return index;
  }

 private:
  // Whether av_read_frame's result ends the input. Damaged container data
  // ends it as in the ffmpeg command (the frames before it are kept); a
  // failing read is an error. Out of memory here is a damaged file that
  // declares an absurd packet size far more often than a full machine.
  bool at_end(int err) const {
    if (err >= 0) return false;
    if (err == AVERROR_EOF || err == AVERROR_INVALIDDATA) return true;
    throw_error(err == AVERROR(ENOMEM) ? ErrorCode::format : ErrorCode::io, "video '", path_,
                "': cannot read: ", detail::av_error_text(err),
                err == AVERROR(ENOMEM) ? " (a damaged file declaring a huge packet?)" : "");
  }

  // Converted as the ffmpeg command's scale filter does: bicubic, the frame's
  // own YCbCr matrix (BT.601 when unspecified) and range.
  Image to_rgb(const AVFrame& f, std::size_t index) {
    AVPixelFormat fmt = static_cast<AVPixelFormat>(f.format);
    bool full_range = f.color_range == AVCOL_RANGE_JPEG;
    // The deprecated full-range "yuvj" formats: the same planes with the range
    // said outright (what swscale does inside, without its warning on stderr).
    switch (fmt) {
      case AV_PIX_FMT_YUVJ420P: fmt = AV_PIX_FMT_YUV420P, full_range = true; break;
      case AV_PIX_FMT_YUVJ422P: fmt = AV_PIX_FMT_YUV422P, full_range = true; break;
      case AV_PIX_FMT_YUVJ444P: fmt = AV_PIX_FMT_YUV444P, full_range = true; break;
      case AV_PIX_FMT_YUVJ440P: fmt = AV_PIX_FMT_YUV440P, full_range = true; break;
      case AV_PIX_FMT_YUVJ411P: fmt = AV_PIX_FMT_YUV411P, full_range = true; break;
      default: break;
    }
    if (f.width <= 0 || f.height <= 0 ||
        !clipcaer::detail::within_image_limits(static_cast<std::size_t>(f.width), static_cast<std::size_t>(f.height)))
      throw_error(ErrorCode::format, "video '", path_, "': frame ", index, " has size ", f.width, "x", f.height,
                  ", beyond the limit of ", kMaxImagePixels, " pixels");
    if (!sws_isSupportedInput(fmt)) {
      const char* name = av_get_pix_fmt_name(fmt);
      throw_error(ErrorCode::unsupported, "video '", path_, "': pixel format ", name ? name : "?",
                  " cannot be converted to RGB");
    }
    sws_.reset(sws_getCachedContext(sws_.release(), f.width, f.height, fmt, f.width, f.height, AV_PIX_FMT_RGB24,
                                    SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!sws_) throw_error(ErrorCode::unsupported, "video '", path_, "': cannot convert frame ", index, " to RGB");
    int* inv_table = nullptr;
    int* table = nullptr;
    int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
    if (sws_getColorspaceDetails(sws_.get(), &inv_table, &src_range, &table, &dst_range, &brightness, &contrast,
                                 &saturation) >= 0) {
      const int colorspace = f.colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : static_cast<int>(f.colorspace);
      if (f.color_range != AVCOL_RANGE_UNSPECIFIED || full_range) src_range = full_range;
      sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(colorspace), src_range, table, dst_range, brightness,
                               contrast, saturation);
    }
    // swscale's SIMD paths write whole vectors: convert into rows padded to
    // 64 bytes (as FFmpeg's own frames are), then copy out.
    const std::size_t w = static_cast<std::size_t>(f.width), h = static_cast<std::size_t>(f.height);
    const std::size_t stride = (3 * w + 63) / 64 * 64 + 64;
    scratch_.resize(stride * h + 64);
    std::uint8_t* dst[4] = {scratch_.data(), nullptr, nullptr, nullptr};
    int dst_stride[4] = {static_cast<int>(stride), 0, 0, 0};
    const int rows = sws_scale(sws_.get(), f.data, f.linesize, 0, f.height, dst, dst_stride);
    if (rows != f.height)
      throw_error(ErrorCode::format, "video '", path_, "': converting frame ", index, " to RGB failed");
    return detail::rotated_clockwise(ImageView{scratch_.data(), w, h, stride}, quarter_turns_);
  }

  std::string path_;
  std::unique_ptr<AVFormatContext, detail::AvFormatCloser> fmt_;
  std::unique_ptr<AVCodecContext, detail::AvCodecFreer> codec_;
  std::unique_ptr<AVPacket, detail::AvPacketFreer> packet_;
  std::unique_ptr<AVFrame, detail::AvFrameFreer> frame_;
  std::unique_ptr<SwsContext, detail::SwsFreer> sws_;
  std::vector<std::uint8_t> scratch_;
  int stream_ = -1;
  int quarter_turns_ = 0;
  double frame_rate_ = 0;
};

}  // namespace clipcaer::io
